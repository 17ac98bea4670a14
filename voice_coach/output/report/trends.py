"""Agent trends over time for the batch index: summary rows -> per-agent, per-ISO-week statistics.

Pure functions over rows of ``summary_row`` (or the same columns read back from the summary CSV):
calm score, warnings per call, the overall scorecard and each scorecard item, averaged per agent
and ISO week (``2026-W48``: Monday to Sunday), and the change from each agent's first week to their
last. Rows without a date are listed as undated, rows without an agent count as ``UNKNOWN_AGENT``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from voice_coach.output.report._result import num, verdict_class

__all__ = [
    "BASE_METRICS",
    "UNKNOWN_AGENT",
    "AgentTrend",
    "Trends",
    "WeekStats",
    "agent_trends",
    "iso_week",
    "item_columns",
    "week_range",
]

UNKNOWN_AGENT = "(unknown agent)"
"""The agent of rows whose ``agent`` is empty."""

BASE_METRICS = ("calm_score", "warnings_per_call", "scorecard_overall")
"""Metrics of every week, before the scorecard items (``scorecard_<id>``)."""

_POINTS = {"good": 100.0, "warn": 50.0, "bad": 0.0}
"""A scorecard item's verdict as points; the week's item value is their mean (n/a verdicts left out).
The same scale as the scorecard's overall score (voice_coach/analysis/scorecard.py)."""


def iso_week(date: str | datetime.date | None) -> str | None:
    """The ISO week of a date, ``"2026-W48"``; None for None, "" or text that is not ``YYYY-MM-DD``."""
    if isinstance(date, datetime.datetime):
        date = date.date()
    if not isinstance(date, datetime.date):
        text = str(date or "").strip()
        if len(text) != 10:
            return None
        try:
            date = datetime.date.fromisoformat(text)
        except ValueError:
            return None
    year, week, _ = date.isocalendar()
    return f"{year}-W{week:02d}"


def _monday(week: str) -> datetime.date:
    year, w = week.split("-W")
    return datetime.date.fromisocalendar(int(year), int(w), 1)


def week_range(first: str, last: str) -> list[str]:
    """Every ISO week from ``first`` to ``last`` inclusive (weeks without calls too), in order."""
    day, end = _monday(first), _monday(last)
    out = []
    while day <= end:
        out.append(iso_week(day) or "")
        day += datetime.timedelta(days=7)
    return out


def item_columns(rows: Sequence[Mapping]) -> list[str]:
    """The scorecard item columns (``scorecard_<id>``, verdicts) of ``rows``, in order of first appearance.

    An item column is one with a ``<column>_value`` companion, as ``summary_row`` writes them.
    """
    seen: dict[str, None] = {}
    for r in rows:
        for k in r:
            if k.startswith("scorecard_") and k != "scorecard_overall" and f"{k}_value" in r:
                seen.setdefault(k, None)
    return list(seen)


@dataclass(frozen=True)
class WeekStats:
    """One agent's calls of one ISO week."""

    agent: str
    week: str
    calls: int
    values: dict[str, float | None]
    """``BASE_METRICS`` and each item column -> the week's mean (None when no call of it has one)."""


@dataclass(frozen=True)
class AgentTrend:
    """One agent's weeks (only those with calls, in order) and the change over them."""

    agent: str
    weeks: list[WeekStats]
    change: dict[str, float | None] = field(default_factory=dict)
    """Metric -> its value in the last week that has one minus that in the first; None with fewer
    than two such weeks."""

    @property
    def calls(self) -> int:
        return sum(w.calls for w in self.weeks)

    def series(self, metric: str) -> list[tuple[str, float]]:
        """(week, value) of the weeks where ``metric`` is known."""
        return [(w.week, v) for w in self.weeks if (v := w.values.get(metric)) is not None]


@dataclass(frozen=True)
class Trends:
    """What the index page's trends view shows."""

    agents: list[AgentTrend]
    """By agent name, ``UNKNOWN_AGENT`` last."""
    weeks: list[str]
    """Every ISO week from the first dated call to the last, including weeks without calls."""
    items: list[str]
    """Scorecard item columns, in order of first appearance."""
    undated: list[str]
    """``source`` of each row without a (valid) date, in row order."""

    @property
    def metrics(self) -> list[str]:
        return [*BASE_METRICS, *self.items]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _week_values(rows: Sequence[Mapping], items: Sequence[str]) -> dict[str, float | None]:
    """The metrics of one agent's calls of one week."""
    known = lambda key: [v for v in (num(r.get(key)) for r in rows) if v is not None]
    values: dict[str, float | None] = {
        "calm_score": _mean(known("calm_score")),
        "warnings_per_call": _mean(known("warnings_total")),
        "scorecard_overall": _mean(known("scorecard_overall")),
    }
    for item in items:
        points = [_POINTS[c] for c in (verdict_class(r.get(item)) for r in rows if r.get(item)) if c in _POINTS]
        values[item] = _mean(points)
    return values


def _change(weeks: Sequence[WeekStats], metric: str) -> float | None:
    known = [v for w in weeks if (v := w.values.get(metric)) is not None]
    return known[-1] - known[0] if len(known) >= 2 else None


def agent_trends(rows: Sequence[Mapping]) -> Trends:
    """Group summary rows by agent and ISO week of their ``date``.

    Parameters
    ----------
    rows : sequence of mapping
        From ``summary_row``: ``agent``, ``date`` (``YYYY-MM-DD`` or None), ``calm_score``,
        ``warnings_total``, ``scorecard_overall`` and the ``scorecard_<id>`` item verdicts are read.

    Returns
    -------
    Trends. Each week's value is the mean over that agent's calls of the week that have it:
    calm score, warnings per call (``warnings_total``), overall scorecard, and per item the mean of
    100 (good), 50 (warn), 0 (bad). The change of a metric is last minus first over the weeks where
    it is known.
    """
    items = item_columns(rows)
    groups: dict[str, dict[str, list[Mapping]]] = {}
    undated: list[str] = []
    for r in rows:
        week = iso_week(r.get("date"))
        if week is None:
            undated.append(str(r.get("source") or ""))
            continue
        agent = str(r.get("agent") or "") or UNKNOWN_AGENT
        groups.setdefault(agent, {}).setdefault(week, []).append(r)

    agents = []
    for agent in sorted(groups, key=lambda a: (a == UNKNOWN_AGENT, a.lower(), a)):
        weeks = [WeekStats(agent, week, len(rs), _week_values(rs, items)) for week, rs in sorted(groups[agent].items())]
        agents.append(AgentTrend(agent, weeks, {m: _change(weeks, m) for m in [*BASE_METRICS, *items]}))
    all_weeks = sorted({w.week for a in agents for w in a.weeks})
    span = week_range(all_weeks[0], all_weeks[-1]) if all_weeks else []
    return Trends(agents, span, items, undated)
