"""Agent trends over ISO weeks: the pure aggregation (known answers) and the index page's trends card."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from report_fixtures import build_result

from voice_coach.output.report import render_index, summary_row
from voice_coach.output.report.trends import UNKNOWN_AGENT, agent_trends, iso_week, week_range


def _row(source, agent, date, calm, warnings, pace=None, overall=None) -> dict:
    """The columns of summary_row that the trends read."""
    return {
        "source": source,
        "agent": agent,
        "date": date,
        "calm_score": calm,
        "warnings_total": warnings,
        "scorecard_overall": overall,
        "scorecard_pace": pace,
        "scorecard_pace_value": None if pace is None else "x wpm",
    }


# Two agents over three ISO weeks (2026-W48 is Mon 23 Nov to Sun 29 Nov), one undated call and
# one call without an agent.
ROWS = [
    _row("a1.wav", "ann", "2026-11-23", 80.0, 1, "good", 90.0),
    _row("a2.wav", "ann", "2026-11-29", 70.0, 3, "bad", 70.0),
    _row("a3.wav", "ann", "2026-12-02", 60.0, 4, "warn", None),
    _row("a4.wav", "ann", "2026-12-13", 50.0, 5, "bad", 40.0),
    _row("b1.wav", "bob", "2026-11-24", 60.0, 2, "warn"),
    _row("b2.wav", "bob", "2026-12-10", 70.0, 0, "n/a"),
    _row("b3.wav", "bob", "2026-12-11", None, 1, "good"),
    _row("x1.wav", "", "2026-12-01", 55.0, 2),
    _row("u1.wav", "ann", None, 10.0, 9, "bad"),
]


def test_iso_weeks_across_a_year_end():
    assert iso_week("2026-11-23") == iso_week("2026-11-29") == "2026-W48"
    assert iso_week("2026-11-30") == "2026-W49"
    assert iso_week(datetime.date(2026, 12, 31)) == iso_week("2027-01-03") == "2026-W53"  # 2026 has 53 weeks
    assert iso_week("2027-01-04") == "2027-W01"
    assert iso_week("2025-12-29") == "2026-W01"  # a Monday in December, in next year's week 1
    assert [iso_week(x) for x in (None, "", "2026-13-01", "30/11/2026", "20261130")] == [None] * 5
    assert week_range("2026-W52", "2027-W01") == ["2026-W52", "2026-W53", "2027-W01"]
    assert week_range("2026-W48", "2026-W48") == ["2026-W48"]


def test_two_agents_over_three_weeks():
    t = agent_trends(ROWS)
    assert [a.agent for a in t.agents] == ["ann", "bob", UNKNOWN_AGENT]
    assert t.weeks == ["2026-W48", "2026-W49", "2026-W50"]
    assert t.items == ["scorecard_pace"]
    assert t.undated == ["u1.wav"]

    ann, bob, unknown = t.agents
    assert [(w.week, w.calls) for w in ann.weeks] == [("2026-W48", 2), ("2026-W49", 1), ("2026-W50", 1)]
    assert ann.series("calm_score") == [("2026-W48", 75.0), ("2026-W49", 60.0), ("2026-W50", 50.0)]
    assert ann.series("warnings_per_call") == [("2026-W48", 2.0), ("2026-W49", 4.0), ("2026-W50", 5.0)]
    # good, bad -> 50; warn -> 50; bad -> 0
    assert ann.series("scorecard_pace") == [("2026-W48", 50.0), ("2026-W49", 50.0), ("2026-W50", 0.0)]
    assert ann.series("scorecard_overall") == [("2026-W48", 80.0), ("2026-W50", 40.0)]  # W49 unknown
    assert ann.change == {
        "calm_score": -25.0,
        "warnings_per_call": 3.0,
        "scorecard_overall": -40.0,
        "scorecard_pace": -50.0,
    }
    assert ann.calls == 4  # the undated call is not counted

    # bob has no call in W49; in W50 one calm score is unknown and one verdict is n/a.
    assert [(w.week, w.calls) for w in bob.weeks] == [("2026-W48", 1), ("2026-W50", 2)]
    assert bob.series("calm_score") == [("2026-W48", 60.0), ("2026-W50", 70.0)]
    assert bob.series("warnings_per_call") == [("2026-W48", 2.0), ("2026-W50", 0.5)]
    assert bob.series("scorecard_pace") == [("2026-W48", 50.0), ("2026-W50", 100.0)]
    assert bob.change["calm_score"] == 10.0 and bob.change["warnings_per_call"] == -1.5
    assert bob.change["scorecard_overall"] is None  # never known

    # One week only: values but no change.
    assert unknown.series("calm_score") == [("2026-W49", 55.0)]
    assert all(v is None for v in unknown.change.values())


def test_no_dates_no_trends():
    t = agent_trends([{**r, "date": None} for r in ROWS])
    assert t.agents == [] and t.weeks == [] and len(t.undated) == len(ROWS)
    assert agent_trends([]).agents == []


def test_summary_rows_feed_the_trends():
    """The columns summary_row writes are the ones the trends read (the fixture's six items)."""
    rows = []
    for i, (date, score) in enumerate([("2026-11-02", 80), ("2026-11-09", 70), ("2026-11-16", 65)]):
        r = build_result(20.0, seed=i, source=f"c{i}.wav")
        r["agent"]["summary"]["calm_score"] = score
        r["scorecard"]["items"][0]["verdict"] = ["pass", "warn", "fail"][i]
        rows.append(summary_row(r, agent="sam", date=date))
    t = agent_trends(rows)
    (sam,) = t.agents
    assert t.items[:2] == ["scorecard_pace", "scorecard_pitch"] and len(t.items) == 6
    assert sam.series("calm_score") == [("2026-W45", 80.0), ("2026-W46", 70.0), ("2026-W47", 65.0)]
    assert sam.change["calm_score"] == -15.0
    assert [v for _, v in sam.series("scorecard_pace")] == [100.0, 50.0, 0.0]
    assert sam.change["scorecard_blame"] == 0.0  # "fail" every week


# ---- the index page ---------------------------------------------------------------------------------


class Tables(HTMLParser):
    """Each <table> by id: its header keys and its rows as lists of (data-v, text) per cell."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, dict] = {}
        self.ids: dict[str, str] = {}  # element id -> its text
        self._table: dict | None = None
        self._cell: list | None = None
        self._text_of: list[tuple[str, list[str]]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = {"attrs": a, "head": [], "rows": []}
            self.tables[a.get("id", "")] = self._table
        elif tag == "th" and self._table is not None:
            self._table["head"].append(a.get("data-key"))
        elif tag == "tr" and self._table is not None:
            self._table["rows"].append([])
        elif tag == "td" and self._table is not None:
            self._cell = [a.get("data-v"), "", a.get("class") or ""]
        if a.get("id"):
            self._text_of.append((a["id"], []))

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None and self._table is not None:
            self._table["rows"][-1].append(tuple(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None
        if tag == "p" and self._text_of and self._text_of[-1][0] == "undated":
            self.ids["undated"] = "".join(self._text_of.pop()[1])

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data
        for _, buf in self._text_of:
            buf.append(data)


def _by_key(table: dict) -> list[dict]:
    return [dict(zip(table["head"], r, strict=True)) for r in table["rows"] if r]


def test_index_page_shows_the_trends(tmp_path):
    out = render_index(ROWS, tmp_path / "index.html", report_links={r["source"]: r["source"] for r in ROWS})
    text = out.read_text("utf-8")
    page = Tables(text)
    trends = page.tables["trends"]
    # Sorted in the browser by the change in calm score, ascending: who is slipping comes first.
    assert trends["attrs"]["data-default-sort"] == str(trends["head"].index("calm_score_change"))
    assert trends["attrs"]["data-default-dir"] == "ascending"
    rows = {r["agent"][1]: r for r in _by_key(trends)}
    assert list(rows) == ["ann", "bob", UNKNOWN_AGENT]
    ann, bob = rows["ann"], rows["bob"]
    assert ann["calls"][1] == "4" and ann["first_week"][1] == "2026-W48" and ann["last_week"][1] == "2026-W50"
    assert (ann["calm_score_change"][0], ann["calm_score_change"][1]) == ("-25.0", "−25")
    assert "worse" in ann["calm_score_change"][2]  # calm score fell
    assert ann["warnings_per_call_change"][1] == "+3" and "worse" in ann["warnings_per_call_change"][2]
    assert ann["scorecard_pace_change"][1] == "−50"
    assert bob["calm_score_change"][1] == "+10" and "better" in bob["calm_score_change"][2]
    assert bob["warnings_per_call_change"][1] == "−1.5" and "better" in bob["warnings_per_call_change"][2]
    assert rows[UNKNOWN_AGENT]["calm_score_change"][:2] == ("", "—")
    # Sparkline cells sort by the last week's value and show it.
    assert ann["calm_score_by_week"][0] == "50.0" and ann["calm_score_by_week"][1].endswith("50")
    # 3 agents x (calm, warnings/call), and ann's scorecard: the others never had an overall score.
    assert text.count('<svg class="spark"') == 3 * 2 + 1
    assert bob["scorecard_overall_by_week"][:2] == ("", "—")

    week_rows = _by_key(page.tables["trend-weeks"])
    weeks = [(r["agent"][1], r["week"][1], r["calls"][1], r["calm_score"][1]) for r in week_rows]
    assert weeks == [
        ("ann", "2026-W48", "2", "75"),
        ("ann", "2026-W49", "1", "60"),
        ("ann", "2026-W50", "1", "50"),
        ("bob", "2026-W48", "1", "60"),
        ("bob", "2026-W50", "2", "70"),
        (UNKNOWN_AGENT, "2026-W49", "1", "55"),
    ]
    assert [r["scorecard_pace"][1] for r in week_rows] == ["50", "50", "0", "50", "100", "—"]
    assert [r["warnings_per_call"][1] for r in week_rows] == ["2", "4", "5", "2", "0.5", "2"]
    assert "u1.wav" in page.ids["undated"] and "1 call has no date" in page.ids["undated"]
    # Still a light page: no plotting library, nothing from the network.
    assert "plotly" not in text.lower()
    assert "http://" not in text and "https://" not in text


def test_index_names_many_undated_calls_briefly(tmp_path):
    rows = [_row(f"call{i:02d}.wav", "ann", None, 50.0, 0) for i in range(15)]
    rows.append(_row("dated.wav", "ann", "2026-11-23", 50.0, 0))
    page = Tables(render_index(rows, tmp_path / "index.html", report_links={}).read_text("utf-8"))
    note = page.ids["undated"]
    assert "15 calls have no date" in note and "call11.wav" in note and "call12.wav" not in note
    assert note.endswith("and 3 more.")


def test_index_without_dates_has_no_trends_card(tmp_path):
    rows = [summary_row(build_result(20.0, source="a.wav"), agent="sam")]
    text = render_index(rows, tmp_path / "index.html", report_links={}).read_text("utf-8")
    assert 'id="trends-card"' not in text and 'id="undated"' not in text


def test_agent_names_are_escaped_in_the_trends(tmp_path):
    rows = [_row("a.wav", "<b>eve</b>", "2026-11-23", 50.0, 0), _row("b.wav", "<b>eve</b>", "2026-12-01", 40.0, 1)]
    text = render_index(rows, tmp_path / "index.html", report_links={}).read_text("utf-8")
    assert "<b>eve</b>" not in text and "&lt;b&gt;eve&lt;/b&gt;" in text


@pytest.mark.parametrize("bad", ["2026-02-30", "next week"])
def test_a_row_with_an_unreadable_date_counts_as_undated(bad):
    t = agent_trends([_row("a.wav", "ann", bad, 50.0, 0)])
    assert t.agents == [] and t.undated == ["a.wav"]
