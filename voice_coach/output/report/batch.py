"""Batch review: one summary row per analysed call, a CSV of them, and an index page.

Pure functions over schema-1 results (docs/CONTRACT.md); ``voice-coach analyze DIR`` calls them
after writing each call's report. Rows are flat dicts of str/float/int/None, so they go straight to
CSV; the index page is a small HTML file (no plotly) with sortable tables.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from voice_coach import __version__
from voice_coach.output.files import write_text_atomic
from voice_coach.output.report._result import (
    baseline_deltas,
    clock,
    css_token,
    mapping,
    mapping_or_none,
    num,
    scorecard_items,
)
from voice_coach.output.report.page import ReportError, page_head
from voice_coach.output.report.page import esc as _esc
from voice_coach.output.report.trends import Trends, agent_trends

__all__ = ["WARNING_KINDS", "failed_row", "render_index", "summary_row", "write_summary_csv"]

WARNING_KINDS = ("fast", "loud", "high_pitch", "agitated", "customer_agitated", "mirroring")
"""Warning kinds of the contract; each gets a ``warnings_<kind>`` column, even when zero."""

_LEADING = (
    "source",
    "agent",
    "date",
    "duration_s",
    "calm_score",
    "agitation_mean",
    "warnings_total",
    *(f"warnings_{k}" for k in WARNING_KINDS),
    "talk_time_s",
    "speaking_rate_wpm",
    "articulation_rate_sps",
    "baseline_articulation_rate_sps",
    "articulation_vs_baseline_pct",
    "pitch_median_hz",
    "baseline_pitch_median_hz",
    "pitch_vs_baseline_st",
    "pitch_spread_st",
    "loudness_median_db",
    "baseline_loudness_median_db",
    "loudness_vs_baseline_db",
    "baseline_source",
    "customer_agitation_mean",
    "scorecard_overall",
)


def _r(v: float | None, digits: int) -> float | None:
    return None if v is None else round(v, digits)


def summary_row(result: Mapping, *, agent: str | None, date: str | datetime.date | None = None) -> dict[str, Any]:
    """One flat row summarising a call, for the batch CSV and index.

    Parameters
    ----------
    result : Mapping
        A schema-1 result.
    agent : str or None
        Who the agent is (e.g. from the folder name or a profile); "" when unknown.
    date : str, datetime.date or None
        When the call took place, as an ISO date ``YYYY-MM-DD`` (a ``datetime.date`` or a datetime
        is taken as its day); None when unknown. Anything else raises ``ReportError``.

    Returns
    -------
    dict with the columns of ``_LEADING`` (None where unknown), then ``warnings_<kind>`` for kinds
    outside the contract, then ``scorecard_<id>`` (verdict) and ``scorecard_<id>_value`` per
    scorecard item. Differences against the baseline: ``pitch_vs_baseline_st`` (semitones),
    ``loudness_vs_baseline_db`` (dB), ``articulation_vs_baseline_pct`` (percent).
    """
    a = mapping(result, "agent")
    s = mapping(a, "summary")
    b = mapping(a, "baseline")
    c = mapping_or_none(result, "customer")
    cs = mapping(c, "summary")

    counts = _warning_counts(result)
    row: dict[str, Any] = {
        "source": str(result.get("source") or ""),
        "agent": agent or "",
        "date": _iso_date(date),
        "duration_s": _r(num(result.get("duration_s")), 1),
        "calm_score": _r(num(s.get("calm_score")), 1),
        "agitation_mean": _r(num(s.get("agitation_mean")), 3),
        "warnings_total": sum(counts.values()),
        **{f"warnings_{k}": counts[k] for k in WARNING_KINDS},
        **_voice_columns(s, b),
        "baseline_source": b.get("source") if b.get("source") is not None else None,
        "customer_agitation_mean": _r(num(cs.get("agitation_mean")), 3) if c else None,
        "scorecard_overall": None,
    }
    for kind, n in counts.items():
        row.setdefault(f"warnings_{kind}", n)
    row.update(_scorecard_columns(result))
    return row


def failed_row(
    source: str, *, agent: str | None, date: str | datetime.date | None = None, error: str
) -> dict[str, Any]:
    """The summary row of a call that could not be analyzed: which, whose and when, and why (``error``,
    the one-line message without the file's name in front); every figure unknown. ``render_index``
    lists such rows apart, and ``write_summary_csv`` keeps their ``error`` in its last column."""
    reason = error[len(source) + 2 :] if error.startswith(f"{source}: ") else error
    return {"source": source, "agent": agent or "", "date": _iso_date(date), "error": reason}


def _iso_date(value: str | datetime.date | None) -> str | None:
    """``value`` as ``YYYY-MM-DD`` (None stays None); a bad date raises ``ReportError``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ReportError(f"call date {text!r} is not an ISO date (YYYY-MM-DD)") from None


def _warning_counts(result: Mapping) -> dict[str, int]:
    """Warnings per kind: every contract kind (0 when absent), then any other kinds in order met."""
    counts: dict[str, int] = {k: 0 for k in WARNING_KINDS}
    for w in result.get("warnings") or []:
        if isinstance(w, Mapping):
            kind = css_token(w.get("kind") or "other").replace("-", "_")
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def _voice_columns(s: Mapping, b: Mapping) -> dict[str, Any]:
    """The agent's voice measures from summary ``s``, with baseline ``b`` and the differences, rounded."""
    sps, sps_b = num(s.get("articulation_rate_sps")), num(b.get("articulation_rate_sps"))
    loud, loud_b = num(s.get("loudness_median_db")), num(b.get("loudness_median_db"))
    pitch, pitch_b = num(s.get("pitch_median_hz")), num(b.get("pitch_median_hz"))
    delta = baseline_deltas(s, b)
    return {
        "talk_time_s": _r(num(s.get("talk_time_s")), 1),
        "speaking_rate_wpm": _r(num(s.get("speaking_rate_wpm")), 1),
        "articulation_rate_sps": _r(sps, 2),
        "baseline_articulation_rate_sps": _r(sps_b, 2),
        "articulation_vs_baseline_pct": _r(delta["articulation_pct"], 1),
        "pitch_median_hz": _r(pitch, 1),
        "baseline_pitch_median_hz": _r(pitch_b, 1),
        "pitch_vs_baseline_st": _r(delta["pitch_st"], 2),
        "pitch_spread_st": _r(num(s.get("pitch_spread_st")), 2),
        "loudness_median_db": _r(loud, 1),
        "baseline_loudness_median_db": _r(loud_b, 1),
        "loudness_vs_baseline_db": _r(delta["loudness_db"], 1),
    }


def _scorecard_columns(result: Mapping) -> dict[str, Any]:
    """``scorecard_overall``, then ``scorecard_<id>`` (verdict) and ``scorecard_<id>_value`` per item.

    A label met again gets a ``_2``, ``_3`` ... suffix; dict or list values become JSON text.
    """
    items, overall = scorecard_items(result)
    ov = num(overall)
    cols: dict[str, Any] = {
        "scorecard_overall": ov if ov is not None else (str(overall) if overall is not None else None)
    }
    seen: dict[str, int] = {}
    for it in items:
        key = css_token(it["label"]).replace("-", "_")
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}_{seen[key]}"
        verdict = it["verdict"]
        cols[f"scorecard_{key}"] = None if verdict is None else str(verdict)
        value = it["value"]
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        cols[f"scorecard_{key}_value"] = value
    return cols


def _columns(rows: Sequence[Mapping]) -> list[str]:
    cols = list(_LEADING)
    seen = {*cols, "error"}
    for row in rows:
        for k in row:
            if k not in seen:
                seen.add(k)
                cols.append(k)
    return [*cols, "error"]


def _csv_cell(v: Any) -> Any:
    """None -> empty; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if v is None:
        return ""
    if isinstance(v, float) and not math.isfinite(v):
        return ""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def write_summary_csv(rows: Iterable[Mapping], path: Path) -> Path:
    """Write rows (from ``summary_row``) as a UTF-8 CSV, atomically.

    Columns: the fixed leading columns of ``summary_row`` in order, then any others in order of
    first appearance, then ``error`` (empty, but for the rows of ``failed_row``). Unknown values are
    empty cells.
    """
    rows = list(rows)
    cols = _columns(rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(row.get(k)) for k in cols})
    write_text_atomic(Path(path), buf.getvalue())
    return Path(path)


# --------------------------------------------------------------------------------------------------
# index page

_CALL_COLUMNS: list[tuple[str, str, str]] = [  # (key, heading, kind: text|num|clock)
    ("source", "Call", "file"),
    ("agent", "Agent", "text"),
    ("duration_s", "Length", "clock"),
    ("calm_score", "Calm score", "num"),
    ("warnings_total", "Warnings", "num"),
    ("warnings_fast", "Fast", "num"),
    ("warnings_loud", "Loud", "num"),
    ("warnings_high_pitch", "High pitch", "num"),
    ("warnings_agitated", "Agitated", "num"),
    ("speaking_rate_wpm", "wpm", "num"),
    ("pitch_vs_baseline_st", "Pitch vs base (st)", "num"),
    ("loudness_vs_baseline_db", "Loudness vs base (dB)", "num"),
    ("customer_agitation_mean", "Customer agitation", "num"),
    ("scorecard_overall", "Scorecard", "num"),
]

_INDEX_JS = """
(function () {
  "use strict";
  function key(td, num) {
    var v = td.getAttribute("data-v");
    if (v === null || v === "") return null;
    return num ? parseFloat(v) : v.toLowerCase();
  }
  function sortBy(table, col, dir) {
    var th = table.tHead.rows[0].cells[col], type = th.getAttribute("data-type");
    var num = type !== "text" && type !== "file";
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col], num), y = key(b.cells[col], num);
      if (x === null && y === null) return 0;
      if (x === null) return 1;            /* unknown values last, whatever the direction */
      if (y === null) return -1;
      var c = num ? x - y : (x < y ? -1 : x > y ? 1 : 0);
      return dir === "ascending" ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.addEventListener("click", function () {
        sortBy(table, i, th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending");
      });
    });
    var d = table.getAttribute("data-default-sort");
    if (d !== null) sortBy(table, parseInt(d, 10), table.getAttribute("data-default-dir") || "ascending");
  });
  document.body.dataset.ready = "1";
})();
"""


def _cell(value: Any, kind: str, link: str | None = None) -> str:
    if kind == "html":  # (sort key, trusted markup built here)
        key, inner = value
        v = num(key)
        return f'<td class="num" data-v="{"" if v is None else repr(v)}">{inner}</td>'
    if kind in ("delta+", "delta-"):
        return _delta_cell(value, higher_is_better=kind == "delta+")
    if kind in ("text", "file"):
        text = "" if value is None else str(value)
        shown = (Path(text.replace("\\", "/")).name or text) if kind == "file" else text
        inner = _esc(shown) if link is None else f'<a href="{_esc(link)}">{_esc(shown)}</a>'
        return f'<td data-v="{_esc(text)}" title="{_esc(text)}">{inner}</td>'
    v = num(value)
    if v is None:
        return f'<td class="num" data-v="">{_esc(value) if value not in (None, "") else "—"}</td>'
    if kind == "clock":
        shown = clock(v)
    else:
        shown = f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")
    return f'<td class="num" data-v="{v!r}">{shown}</td>'


def _short(v: float) -> str:
    """A number as the tables show it: whole numbers bare, else up to 2 decimals."""
    v = round(v, 2)
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")


def _delta_cell(value: Any, *, higher_is_better: bool) -> str:
    """A signed change, classed ``better`` or ``worse`` for the trainer."""
    v = num(value)
    if v is None:
        return '<td class="num" data-v="">—</td>'
    v = round(v, 2)
    if v == 0:
        return '<td class="num" data-v="0.0">0</td>'
    cls = "better" if (v > 0) == higher_is_better else "worse"
    return f'<td class="num delta {cls}" data-v="{v!r}">{"+" if v > 0 else "−"}{_short(abs(v))}</td>'


def _relative_link(link: str, out_dir: Path) -> str:
    """Links are written relative to the index's folder; URLs and relative paths are kept as given."""
    if "://" in link or link.startswith(("data:", "#")):
        return link
    p = Path(link)
    if p.is_absolute():
        try:
            link = os.path.relpath(p, out_dir.resolve())
        except ValueError:  # another drive on Windows
            return p.as_uri()
    return "/".join(quote(part) for part in Path(link).as_posix().split("/"))


def _values(rows: Sequence[Mapping], key: str) -> list[float]:
    """The known numbers of column ``key``."""
    return [v for v in (num(r.get(key)) for r in rows) if v is not None]


def _agent_rows(rows: Sequence[Mapping]) -> list[dict]:
    groups: dict[str, list[Mapping]] = {}
    for r in rows:
        if r.get("agent"):
            groups.setdefault(str(r["agent"]), []).append(r)
    out = []
    for agent, rs in groups.items():
        calm, wpm, warns = _values(rs, "calm_score"), _values(rs, "speaking_rate_wpm"), _values(rs, "warnings_total")
        durs = _values(rs, "duration_s")
        out.append(
            {
                "agent": agent,
                "calls": len(rs),
                "duration_s": sum(durs) if durs else None,
                "calm_mean": sum(calm) / len(calm) if calm else None,
                "calm_min": min(calm) if calm else None,
                "warnings_total": sum(warns) if warns else 0,
                "warnings_per_call": sum(warns) / len(rs) if rs else None,
                "wpm_mean": sum(wpm) / len(wpm) if wpm else None,
            }
        )
    return out


_AGENT_COLUMNS = [
    ("agent", "Agent", "text"),
    ("calls", "Calls", "num"),
    ("duration_s", "Total length", "clock"),
    ("calm_mean", "Mean calm score", "num"),
    ("calm_min", "Worst calm score", "num"),
    ("warnings_total", "Warnings", "num"),
    ("warnings_per_call", "Warnings per call", "num"),
    ("wpm_mean", "Mean wpm", "num"),
]


def _table(
    table_id: str,
    columns: Sequence[tuple[str, str, str]],
    rows: Sequence[Mapping],
    default_col: str,
    links: Mapping[str, str] | None = None,
) -> str:
    default = next(i for i, (k, _, _) in enumerate(columns) if k == default_col)
    head = "".join(f'<th scope="col" data-key="{_esc(k)}" data-type="{kind}">{_esc(h)}</th>' for k, h, kind in columns)
    body = []
    for r in rows:
        cells = []
        for k, _, kind in columns:
            link = links.get(str(r.get("source"))) if links is not None and k == "source" else None
            cells.append(_cell(r.get(k), kind, link))
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table id="{table_id}" class="sortable" data-default-sort="{default}" data-default-dir="ascending">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


# --------------------------------------------------------------------------------------------------
# trends by agent over ISO weeks

_METRIC_HEADINGS = {
    "calm_score": ("Calm", True),
    "warnings_per_call": ("Warnings/call", False),
    "scorecard_overall": ("Scorecard", True),
}
"""Metric -> (heading, whether a rise is an improvement). Scorecard items: their label, True."""

_SPARK_W, _SPARK_H = 90, 22
_UNDATED_SHOWN = 12
"""Undated calls named in the note; the rest are counted."""


def _metric_heading(metric: str) -> tuple[str, bool]:
    if metric in _METRIC_HEADINGS:
        return _METRIC_HEADINGS[metric]
    return metric.removeprefix("scorecard_").replace("_", " "), True


def _sparkline(series: Sequence[tuple[str, float]], weeks: Sequence[str], lo: float, hi: float) -> str:
    """An inline SVG of one agent's weekly values on the shared week axis (gaps where no calls).

    ``lo``/``hi`` are the metric's range over all agents, so slopes compare between rows."""
    pos = {w: i for i, w in enumerate(weeks)}
    n, span = len(weeks), (hi - lo) or 1.0
    pts = [
        (
            2 + (_SPARK_W - 4) * (pos[w] / (n - 1) if n > 1 else 0.5),
            2 + (_SPARK_H - 4) * (1 - (v - lo) / span),
            pos[w],
        )
        for w, v in series
    ]
    runs: list[list[tuple[float, float, int]]] = []
    for p in pts:
        if runs and p[2] == runs[-1][-1][2] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    marks = "".join(
        f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y, _ in run)}"/>' if len(run) > 1 else ""
        for run in runs
    )
    dots = [p for run in runs if len(run) == 1 for p in run] + pts[-1:]
    marks += "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8"/>' for x, y, _ in dots)
    label = ", ".join(f"{w}: {_short(v)}" for w, v in series)
    return (
        f'<svg class="spark" width="{_SPARK_W}" height="{_SPARK_H}" viewBox="0 0 {_SPARK_W} {_SPARK_H}" '
        f'role="img" aria-label="{_esc(label)}"><title>{_esc(label)}</title>{marks}</svg>'
    )


def _trend_table(trends: Trends) -> str:
    """One row per agent: calls, weeks, a sparkline and the change of each metric; worst calm change first."""
    shown = [m for m in trends.metrics if any(a.series(m) for a in trends.agents)]
    ranges = {}
    for m in shown:
        vals = [v for a in trends.agents for _, v in a.series(m)]
        ranges[m] = (min(vals), max(vals))
    cols: list[tuple[str, str, str]] = [
        ("agent", "Agent", "text"),
        ("calls", "Calls", "num"),
        ("first_week", "First week", "text"),
        ("last_week", "Last week", "text"),
    ]
    rows = []
    for a in trends.agents:
        row: dict[str, Any] = {
            "agent": a.agent,
            "calls": a.calls,
            "first_week": a.weeks[0].week,
            "last_week": a.weeks[-1].week,
        }
        for m in shown:
            series = a.series(m)
            last = series[-1][1] if series else None
            spark = _sparkline(series, trends.weeks, *ranges[m]) if series else ""
            row[f"{m}_by_week"] = (last, f'{spark}<span class="last">{"—" if last is None else _short(last)}</span>')
            row[f"{m}_change"] = a.change.get(m)
        rows.append(row)
    for m in shown:
        heading, up_is_good = _metric_heading(m)
        if m in _METRIC_HEADINGS:  # the items' weekly values are in the week-by-week table
            cols.append((f"{m}_by_week", f"{heading} by week", "html"))
        cols.append((f"{m}_change", f"{heading} change", "delta+" if up_is_good else "delta-"))
    default = "calm_score_change" if "calm_score" in shown else "agent"
    return _table("trends", cols, rows, default)


def _week_table(trends: Trends) -> str:
    """One row per agent and ISO week with calls: the weekly value of every metric."""
    shown = [m for m in trends.metrics if any(a.series(m) for a in trends.agents)]
    cols: list[tuple[str, str, str]] = [("agent", "Agent", "text"), ("week", "Week", "text"), ("calls", "Calls", "num")]
    cols += [(m, _metric_heading(m)[0], "num") for m in shown]
    rows = [{"agent": w.agent, "week": w.week, "calls": w.calls, **w.values} for a in trends.agents for w in a.weeks]
    return _table("trend-weeks", cols, rows, "agent")


def _undated_note(undated: Sequence[str]) -> str:
    if not undated:
        return ""
    names = [Path(s.replace("\\", "/")).name or s for s in undated[:_UNDATED_SHOWN]]
    more = f" and {len(undated) - _UNDATED_SHOWN} more" if len(undated) > _UNDATED_SHOWN else ""
    calls = "1 call has" if len(undated) == 1 else f"{len(undated)} calls have"
    return (
        f'<p id="undated" class="note small">Undated: {calls} no date and {"is" if len(undated) == 1 else "are"} '
        f"not in the trends: {_esc(', '.join(names))}{more}.</p>"
    )


def _trends_section(rows: Sequence[Mapping]) -> str:
    """The trends card of the index, or "" when no row has a date."""
    trends = agent_trends(rows)
    if not trends.agents:
        return ""
    return (
        '<section class="card" id="trends-card"><h2>Trends by agent</h2>'
        f'<p class="muted small">By ISO week of the call date (Monday to Sunday), {_esc(trends.weeks[0])} to '
        f"{_esc(trends.weeks[-1])}. Sparklines share one scale per column; the number is the last week's. "
        "Change: the last week with calls minus the first. Scorecard items score 100 when good on every call, "
        "50 for warn, 0 for bad. Sorted by the change in calm score, most "
        "slipping first; click a heading to sort.</p>"
        + _undated_note(trends.undated)
        + f'<div class="scroll">{_trend_table(trends)}</div>'
        + "<h3>Week by week</h3>"
        + f'<div class="scroll">{_week_table(trends)}</div>'
        + "</section>"
    )


_CALLS_HELP = '<p class="muted small">Worst calm score first. Click a heading to sort, a call to open its report.</p>'


def _failed_section(failed: Sequence[Mapping]) -> str:
    """The calls that could not be analyzed, each with why (empty when there are none)."""
    if not failed:
        return ""
    items = "".join(
        f"<li><code>{_esc(str(r.get('source')))}</code>"
        + (f" ({_esc(str(r['agent']))})" if r.get("agent") else "")
        + f": {_esc(str(r.get('error')))}</li>"
        for r in sorted(failed, key=lambda r: str(r.get("source")))
    )
    return (
        f'<section class="card" id="failed"><h2>Not analyzed ({len(failed)})</h2>'
        '<p class="muted small">These recordings could not be analyzed; they count in no figure above or below.</p>'
        f"<ul>{items}</ul></section>"
    )


def render_index(rows: Sequence[Mapping], out_path: Path, *, report_links: Mapping[str, str]) -> Path:
    """Write an index page of analysed calls, each linking to its report (atomically).

    Parameters
    ----------
    rows : sequence of dict
        From ``summary_row``, and from ``failed_row`` for calls that could not be analyzed: those are
        listed in a card of their own ("Not analyzed") and count in no figure.
    out_path : Path
        The index HTML file.
    report_links : mapping of str to str
        Row ``source`` -> that call's report path. Absolute paths are made relative to the index's
        folder; relative paths are taken as already relative to it.

    The calls table sorts by clicking a column heading (default: calm score ascending, worst first,
    unknown scores last). When any row has a non-empty ``agent`` a per-agent table follows. When
    any row has a ``date``, a trends card follows (``trends.agent_trends``): per agent, sparklines
    and the first-to-last-week change of calm score, warnings per call and the scorecard (worst
    calm change first), then every agent's weeks; undated calls are named in a note.
    """
    out_path = Path(out_path)
    out_dir = out_path.parent
    failed = [r for r in rows if r.get("error")]
    rows = [r for r in rows if not r.get("error")]
    links = {str(k): _relative_link(str(v), out_dir) for k, v in report_links.items()}
    cols = list(_CALL_COLUMNS)
    if not any(r.get("agent") for r in rows):
        cols = [c for c in cols if c[0] != "agent"]
    if not any(r.get("customer_agitation_mean") is not None for r in rows):
        cols = [c for c in cols if c[0] != "customer_agitation_mean"]
    if not any(r.get("scorecard_overall") is not None for r in rows):
        cols = [c for c in cols if c[0] != "scorecard_overall"]
    calls = _table("calls", cols, rows, "calm_score", links)
    agents = _agent_rows(rows)
    agent_html = ""
    if agents:
        agent_html = (
            '<section class="card"><h2>By agent</h2>'
            + _table("agents", _AGENT_COLUMNS, agents, "calm_mean")
            + "</section>"
        )
    trends_html = _trends_section(rows)
    total = sum(num(r.get("duration_s")) or 0 for r in rows)
    page = (
        page_head(f"voice-coach · {len(rows)} calls")
        + f"""<body>
<header class="top"><div><h1>Call review</h1><div class="muted small">{len(rows)} calls · {clock(total)} of audio ·
{f"{len(failed)} not analyzed · " if failed else ""}voice-coach {_esc(__version__)}</div></div></header>
<main>
<section class="card"><h2>Calls</h2>{_CALLS_HELP}
{calls}</section>
{_failed_section(failed)}
{agent_html}
{trends_html}
</main>
<script>{_INDEX_JS}</script>
</body>
</html>
"""
    )
    write_text_atomic(out_path, page)
    return out_path
