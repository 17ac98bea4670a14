"""Unit tests on the generated report and batch files (no browser; see test_report_browser.py)."""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from report_fixtures import build_result, unpack, write_tone_wav

from voice_coach.errors import VoiceCoachError
from voice_coach.output.report import (
    ReportError,
    failed_row,
    plotlyjs,
    render_index,
    render_report,
    summary_row,
    write_summary_csv,
)
from voice_coach.output.report.html import _json_for_script
from voice_coach.output.report.packing import MAX_Q, Packer
from voice_coach.output.report.timeline import SERIES_FORMAT, WARNING_COLOURS

_LIB_HEADER = f"plotly.js (basic - minified) v{plotlyjs.PLOTLY_JS_VERSION}"
"""The first line of the vendored bundle's licence comment."""


class Page(HTMLParser):
    """Tags, their attributes and the text of each <script>, as a browser's tokenizer sees them."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._in_script: dict | None = None
        self._buf: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "script":
            self._in_script, self._buf = a, []

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, "".join(self._buf)))
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            self._buf.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def with_class(self, cls: str) -> list[tuple[str, dict]]:
        return [(t, a) for t, a in self.tags if cls in (a.get("class") or "").split()]

    def data(self) -> dict:
        (text,) = [s for a, s in self.scripts if a.get("id") == "vc-data"]
        return json.loads(text)


def _render(tmp_path: Path, result: dict | None = None, name: str = "report.html", **kw) -> tuple[Path, str, Page]:
    out = tmp_path / name
    render_report(build_result() if result is None else result, out, **kw)
    text = out.read_text(encoding="utf-8")
    return out, text, Page(text)


def _library_blocks(page: Page) -> list[tuple[dict, str]]:
    """The data blocks carrying the deflated plot library (attributes, base64 text)."""
    return [(a, s) for a, s in page.scripts if a.get("id") == "vc-plotly"]


@pytest.fixture(scope="module")
def wav(tmp_path_factory) -> Path:
    return write_tone_wav(tmp_path_factory.mktemp("audio") / "call.wav", duration_s=2.0)


# ---- self-contained, offline --------------------------------------------------------------------


def test_report_is_self_contained(tmp_path, wav):
    out, text, page = _render(tmp_path, audio_path=wav)
    refs = [(t, k, v) for t, a in page.tags for k, v in a.items() if k in ("src", "href") and v]
    # The only reference out of the file is the audio, by relative path; the icon is inline.
    assert sorted(refs) == sorted([("audio", "src", os.path.relpath(wav, tmp_path)), ("link", "href", "data:,")])
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", _markup(text), re.IGNORECASE)
    scripts = page.find("script")
    assert all("src" not in a for a in scripts), "every script is inline"
    assert not page.find("link", rel="stylesheet")
    # The vendored plotly.js, once, deflated in a data block (not run as is: loader.js runs it).
    ((attrs, packed),) = _library_blocks(page)
    assert attrs["type"] == "application/octet-stream" and packed == plotlyjs.packed_js()
    assert _LIB_HEADER not in text  # not inlined in plain text as well
    csp = page.find("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"]
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp


def _markup(text: str) -> str:
    """The page without the bodies of its scripts (plotly.js quotes map-tile URLs in strings)."""
    return re.sub(r"(<script[^>]*>).*?(</script>)", r"\1\2", text, flags=re.DOTALL | re.IGNORECASE)


def test_audio_link_is_relative_and_url_quoted(tmp_path):
    (tmp_path / "calls").mkdir()
    audio = write_tone_wav(tmp_path / "calls" / "north east #1.wav", duration_s=1.0)
    out, text, page = _render(tmp_path / "reports", audio_path=audio)
    (audio_tag,) = page.find("audio")
    assert audio_tag["src"] == "../calls/north%20east%20%231.wav"
    assert (out.parent / "../calls/north east #1.wav").resolve() == audio.resolve()


def test_embedded_audio_is_a_data_uri(tmp_path, wav):
    out, text, page = _render(tmp_path, audio_path=wav, embed_audio=True)
    (audio_tag,) = page.find("audio")
    assert audio_tag["src"].startswith("data:audio/wav;base64,UklGR")  # "RIFF"
    assert str(wav.parent) not in text


def test_embedding_missing_audio_says_what_to_do(tmp_path):
    with pytest.raises(ReportError, match="no such file") as err:
        render_report(build_result(), tmp_path / "r.html", audio_path=tmp_path / "nope.wav", embed_audio=True)
    assert isinstance(err.value, VoiceCoachError)
    assert list(tmp_path.iterdir()) == []


def test_no_audio_hides_player(tmp_path):
    out, text, page = _render(tmp_path)
    assert not page.find("audio")
    (player,) = [a for t, a in page.tags if a.get("id") == "player"]
    assert "hidden" in player


# ---- escaping -----------------------------------------------------------------------------------


def test_result_text_is_escaped(tmp_path):
    result = build_result(hostile_text=True)
    out, text, page = _render(tmp_path, result)
    markup = _markup(text)
    assert "<script>alert" not in markup and "<img" not in markup and "<b>slowly" not in markup
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in markup  # the transcript word (quotes are text)
    assert "&lt;img src=x onerror=alert(1)&gt;" in markup  # the warning message
    assert "Talk &lt;b&gt;slowly&lt;/b&gt;" in markup  # the scorecard advice
    # Exactly our four scripts: plotly.js (deflated), its loader, data, the page's code. No injected ones.
    scripts = [a.get("id") or a.get("type") or "inline" for a in page.find("script")]
    assert scripts == ["vc-plotly", "inline", "vc-data", "inline"]
    # A hostile phrase category cannot break out of the class attribute.
    for _, attrs in page.tags:
        assert all(re.fullmatch(r"[A-Za-z0-9_ -]*", c) for c in [attrs.get("class") or ""])
    # The words are still there, as text.
    texts = " ".join(w["text"] for w in _transcript_words(text, page.data()))
    assert "&lt;script&gt;alert('x')&lt;/script&gt; Sam &amp; \"Jo\"," in texts


def test_json_for_script_cannot_close_the_script():
    text = _json_for_script({"a": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


# ---- content ------------------------------------------------------------------------------------


def test_warning_spans_lists_and_transcript_marks(tmp_path):
    result = build_result()
    out, text, page = _render(tmp_path, result)
    data = page.data()
    ws = data["warning_shapes"]
    assert [(a, b) for a, b, _ in ws["spans"]] == [(w["start"], w["end"]) for w in result["warnings"]]
    assert [ws["colours"][c] for _, _, c in ws["spans"]] == [WARNING_COLOURS[w["kind"]] for w in result["warnings"]]
    assert ws["style"]["name"] == "warning" and ws["style"]["yref"] == "paper"
    (playhead,) = [a for t, a in page.tags if a.get("id") == "playhead"]
    assert "hidden" in playhead  # shown once something is played or clicked
    buttons = [a for t, a in page.tags if t == "button" and "warning-item" in a.get("class", "")]
    assert [float(b["data-t"]) for b in buttons] == [w["start"] for w in result["warnings"]]
    assert [b["data-kind"] for b in buttons] == ["fast", "high_pitch"]

    # The transcript: turns of plain text, runs of marked words in <span class="mk ...">, and the
    # words' times packed in page order (report.js makes one span per word of them).
    words = _transcript_words(text, data)
    assert len(words) == len(result["agent"]["words"]) + len(result["customer"]["words"])
    want = sorted((w["start"], w["text"].strip()) for sp in ("agent", "customer") for w in result[sp]["words"])
    got = sorted((w["t"], w["text"]) for w in words)
    assert [text for _, text in got] == [text for _, text in want]
    assert max(abs(a - b) for (a, _), (b, _) in zip(got, want, strict=True)) <= 0.005 + 1e-9  # kept to 10 ms
    # Interleaved by turns: each turn in time order, turns ordered by their first word.
    turns = [[w for w in words if w["turn"] == k] for k in range(words[-1]["turn"] + 1)]
    assert [turn[0]["speaker"] for turn in turns][:4] == ["agent", "customer", "agent", "customer"]
    assert all([w["t"] for w in turn] == sorted(w["t"] for w in turn) for turn in turns)
    assert [turn[0]["t"] for turn in turns] == sorted(turn[0]["t"] for turn in turns)
    in_warning = [w for w in words if "warn" in w["marks"]]
    for w in in_warning:
        assert any(w["t"] <= x["end"] and w["end"] >= x["start"] for x in result["warnings"])
    assert {"k-fast", "k-high_pitch"} <= {c for w in in_warning for c in w["marks"]}
    phrased = [w for w in words if "ph" in w["marks"]]
    assert len(phrased) == sum(len(p["text"].split()) for p in result["phrases"])
    assert data["words"]["titles"]["warn k-fast"] == "fast"
    assert data["words"]["titles"]["ph ph-empathy"] == "phrase: empathy"

    # Legend explains the marks; customer lane and lists are there.
    assert page.with_class("legend")
    titles = [a["text"] for a in data["figure"]["layout"]["annotations"]]
    assert titles == ["Pitch (st vs baseline)", "Loudness (dB vs baseline)", "Pace (wpm)", "Agitation (0–1)"]
    assert [a.get("id") for t, a in page.tags if t == "ol"] == ["warnings", "events", "phrases"]


def test_uncertain_words_carry_their_probability(tmp_path):
    result = build_result(20.0)
    agent_words = result["agent"]["words"]
    agent_words[2]["probability"], agent_words[3]["probability"] = 0.234, None
    out, text, page = _render(tmp_path, result)
    words = _transcript_words(text, page.data())
    uncertain = [(w["text"], w["lowp"]) for w in words if w["lowp"] is not None]
    assert uncertain == [(agent_words[2]["text"].strip(), 0.23)]
    assert "title=" not in "".join(re.findall(r'<div id="transcript">.*?</div>', text, re.S))  # titles: data


def _transcript_words(text: str, data: dict) -> list[dict]:
    """Every word of the transcript as the page's script sees it: turn, speaker, text, marks, time."""
    times = unpack(data["packed"])
    out = []
    for k, (speaker, body) in enumerate(re.findall(r"<p class=(agent|customer)>(.*?)</p>", text)):
        for marks, inside, plain in re.findall(r'<span class="mk ([^"]*)"[^>]*>([^<]*)</span>|([^<]+)', body):
            for word in (inside or plain).split(" "):
                if word:
                    out.append({"turn": k, "speaker": speaker, "text": word, "marks": marks.split()})
    assert len(out) == data["words"]["n"] == len(times["words.t"])
    for w, t, n, p in zip(out, times["words.t"], times["words.len"], times["words.lowp"], strict=True):
        w["t"], w["end"] = round(float(t), 2), round(float(t + n), 2)
        w["lowp"] = None if math.isnan(p) else float(p)
    return out


def test_timeline_lanes_share_one_time_axis_with_calm_bands(tmp_path):
    out, text, page = _render(tmp_path)
    layout = page.data()["figure"]["layout"]
    xaxes = [k for k in layout if re.fullmatch(r"xaxis\d*", k)]
    assert len(xaxes) == 4
    # make_subplots(shared_xaxes=True): every lane's x axis follows the bottom one.
    assert [layout[k].get("matches") for k in sorted(xaxes)] == ["x4", "x4", "x4", None]
    assert all(layout[k]["type"] == "date" for k in xaxes)
    bands = sorted((s["y0"], s["y1"]) for s in layout["shapes"])
    assert bands == [(-3.0, 3.0), (-2.0, 2.0), (120.0, 150.0)]


def test_scorecard_moments_are_time_links(tmp_path):
    result = build_result()
    out, text, page = _render(tmp_path, result)
    moments = [float(a["data-t"]) for t, a in page.tags if "moment" in a.get("class", "").split()]
    expected = [m for it in result["scorecard"]["items"] for m in it["moments"]]
    assert moments == pytest.approx(expected)
    assert ">72</span> overall" in text


@pytest.mark.parametrize(
    "scorecard, labels, verdict_classes, moments",
    [
        (
            {"items": [{"name": "Pace", "status": True, "times": [{"start": 3.0, "end": 4.0}]}]},
            ["Pace"],
            ["good"],
            [3.0],
        ),
        ([{"label": "Tone", "passed": False, "moments": [[5.5, 6.0]]}], ["Tone"], ["bad"], [5.5]),
        (
            {"pace": {"verdict": "WARN", "value": 170, "moments": [1, "x", None, 2.5]}, "overall": 60},
            ["pace"],
            ["warn"],
            [1.0, 2.5],
        ),
        ({"pace": "pass", "empathy": "fail", "score": "B+"}, ["pace", "empathy"], ["good", "bad"], []),
        ({"items": {"pace": {"verdict": "maybe"}}}, ["pace"], ["neutral"], []),
        ({}, [], [], []),
        ("not a scorecard", [], [], []),
    ],
)
def test_scorecard_shapes_are_tolerated(tmp_path, scorecard, labels, verdict_classes, moments):
    result = build_result(20.0)
    result["scorecard"] = scorecard
    out, text, page = _render(tmp_path, result)
    got_labels = re.findall(r"<td><strong>([^<]*)</strong>", text)
    assert got_labels == labels
    got_cls = [a["class"].split()[1] for t, a in page.tags if t == "span" and a.get("class", "").startswith("verdict ")]
    assert got_cls == verdict_classes
    assert [float(a["data-t"]) for t, a in page.tags if "moment" in a.get("class", "").split()] == moments


def _minimal(**over) -> dict:
    r = {
        "schema_version": 1,
        "source": "x.wav",
        "duration_s": 3.0,
        "model": "tiny.en",
        "config": {},
        "agent": {"words": [], "timeline": [], "summary": {}, "baseline": {"source": None}},
        "customer": None,
        "warnings": [],
    }
    r.update(over)
    return r


@pytest.mark.parametrize(
    "result",
    [
        _minimal(),
        _minimal(agent=None, warnings=None),
        {"schema_version": 1},
        _minimal(
            agent={
                "words": [
                    {"start": 0.1, "end": None, "text": " hi", "probability": None},
                    {"start": None, "end": 1, "text": "lost"},
                    {"start": 1, "end": 2, "text": "  "},
                ],
                "timeline": [
                    {"t": 0.05, "pitch_hz": None, "pitch_st": None, "loudness_db": None, "wpm": None, "speaking": False}
                ]
                * 3,
                "summary": {k: None for k in ("talk_time_s", "speaking_rate_wpm", "calm_score")},
                "baseline": None,
            },
            warnings=[{"start": 1.0, "end": None, "kind": None, "speaker": None, "message": None}, {"start": "bad"}],
        ),
        _minimal(
            agent={
                "words": [],
                "summary": {},
                "baseline": {},
                "timeline": [
                    {"t": i / 10 + 0.05, "pitch_hz": 200.0, "loudness_db": -20.0, "speaking": True} for i in range(30)
                ],
            }
        ),
    ],
    ids=["empty", "null-pieces", "bare", "nulls-everywhere", "no-baseline-columns"],
)
def test_missing_pieces_render(tmp_path, result):
    out, text, page = _render(tmp_path, copy.deepcopy(result))
    assert text.rstrip().endswith("</html>")
    assert page.data()["duration_s"] > 0


def test_no_baseline_falls_back_to_absolute_units(tmp_path):
    result = _minimal(
        agent={
            "words": [],
            "summary": {},
            "baseline": {},
            "timeline": [
                {"t": i / 10 + 0.05, "pitch_hz": 200.0, "loudness_db": -20.0, "speaking": True} for i in range(30)
            ],
        }
    )
    out, text, page = _render(tmp_path, result)
    titles = [a["text"] for a in page.data()["figure"]["layout"]["annotations"]]
    assert titles == ["Pitch (Hz)", "Loudness (dBFS)"]


def test_empty_result_says_so(tmp_path):
    out, text, page = _render(tmp_path, _minimal())
    ids = {a.get("id") for _, a in page.tags}
    assert {"timeline-empty", "transcript-empty", "warnings-empty"} <= ids
    assert page.data()["figure"] is None
    assert not _library_blocks(page)  # no plot, no plot library


def test_one_voice_result_has_no_customer_lane(tmp_path):
    out, text, page = _render(tmp_path, build_result(customer=False))
    titles = [a["text"] for a in page.data()["figure"]["layout"]["annotations"]]
    assert "Agitation (0–1)" not in titles
    assert not page.with_class("customer") and not page.with_class("spk")  # no speaker labels
    assert not [a for t, a in page.tags if a.get("id") in ("events", "phrases")]


def test_not_a_dict_is_a_clear_error(tmp_path):
    with pytest.raises(ReportError, match="expected the result dict"):
        render_report([1, 2], tmp_path / "r.html")


# ---- long calls ---------------------------------------------------------------------------------


def test_packing_round_trips_nulls_signs_and_precision():
    packer = Packer()
    cases = {
        "empty": (np.array([]), 10),
        "all null": (np.full(5, np.nan), 10),
        "value first, null last": (np.array([1.26, -3.04, np.nan, 0.0, 7.5, np.nan, np.nan]), 10),
        "null first, value last": (np.array([np.nan, 2.0, 2.0, 2.0]), 1),
        "hundredths": (np.array([0.004, 0.996, 1.0, 0.5, np.nan, 0.335]), 100),
        "huge": (np.array([1e300, -1e300, 5.0]), 1),
        "ms": (np.arange(0.0, 3600.0, 0.137), 1000),
    }
    for key, (values, scale) in cases.items():
        packer.add(key, values, scale)
    got = unpack(packer.block())
    for key, (values, scale) in cases.items():
        want = np.clip(np.round(values * scale), -MAX_Q, MAX_Q) / scale
        assert np.array_equal(np.isnan(got[key]), np.isnan(values)), key
        assert np.array_equal(got[key], want, equal_nan=True), key
        ok = np.abs(values) < 1e6
        assert np.all(np.abs(got[key][ok] - values[ok]) <= 0.5 / scale + 1e-9), key
    with pytest.raises(ValueError, match="positive integer"):
        packer.add("x", np.zeros(2), 0)


def test_hour_long_call_packs_every_step_once_within_its_precision(tmp_path):
    result = build_result(3600.0)
    out, text, page = _render(tmp_path, result)
    data = page.data()
    assert all(tr["x"] == [] and tr["y"] == [] for tr in data["figure"]["data"])  # filled by report.js
    assert data["time"]["agent"] == {"t0": 0.05, "dt": 0.1, "n": 36_000}
    keys = [sec["key"] for sec in data["packed"]["sections"]]
    assert len(keys) == len(set(keys)), "each series is in the page once"
    mapped = {tr["key"] for tr in data["traces"]} - {"clock"}
    assert set(keys) == mapped | {"words.t", "words.len", "words.lowp"}
    series = unpack(data["packed"])
    for key in mapped:
        speaker, col = key.split(".")
        want = np.array([np.nan if r[col] is None else r[col] for r in result[speaker]["timeline"]], dtype=float)
        got = series[key]
        assert np.array_equal(np.isnan(got), np.isnan(want)), f"{key}: nulls moved"
        assert np.nanmax(np.abs(got - want)) <= 0.5 / SERIES_FORMAT[col][0] + 1e-9, key
    words = sorted(w["start"] for sp in ("agent", "customer") for w in result[sp]["words"])
    assert np.max(np.abs(np.sort(series["words.t"]) - words)) <= 0.005 + 1e-9


def test_timeline_off_the_grid_packs_its_times(tmp_path):
    result = build_result(30.0, customer=False)
    rows = result["agent"]["timeline"]
    del rows[100:140]  # 4 s missing: the steps are no longer one grid
    out, text, page = _render(tmp_path, result)
    data = page.data()
    assert data["time"]["agent"] == {"key": "time.agent", "n": len(rows)}
    assert np.allclose(unpack(data["packed"])["time.agent"], [r["t"] for r in rows], atol=5e-4)


# ---- atomic writes ------------------------------------------------------------------------------


def test_atomic_write_leaves_no_temp_files(tmp_path, monkeypatch):
    out = tmp_path / "report.html"
    render_report(build_result(20.0), out)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    before = out.read_bytes()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        render_report(build_result(60.0), out)
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"], "temp file cleaned up"
    assert out.read_bytes() == before, "old report untouched"


def test_report_file_is_world_readable_like_a_normal_file(tmp_path):
    out = tmp_path / "report.html"
    render_report(build_result(20.0), out)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


# ---- batch: rows, CSV, index --------------------------------------------------------------------


def test_summary_row_flattens_the_result():
    result = build_result()
    row = summary_row(result, agent="sam")
    assert row["agent"] == "sam" and row["source"] == result["source"]
    assert row["duration_s"] == 60.0
    assert row["calm_score"] == result["agent"]["summary"]["calm_score"]
    counts = [row[f"warnings_{k}"] for k in ("total", "fast", "high_pitch", "loud")]
    assert counts == [2, 1, 1, 0]
    s, b = result["agent"]["summary"], result["agent"]["baseline"]
    st = 12 * math.log2(s["pitch_median_hz"] / b["pitch_median_hz"])
    assert row["pitch_vs_baseline_st"] == pytest.approx(st, abs=0.01)
    assert row["loudness_vs_baseline_db"] == pytest.approx(s["loudness_median_db"] - b["loudness_median_db"], abs=0.05)
    assert row["scorecard_overall"] == 72
    assert row["scorecard_pace"] == "warn" and row["scorecard_pace_value"] == "172 wpm vs 140 baseline"
    assert row["scorecard_blame"] == "fail"
    assert row["customer_agitation_mean"] == result["customer"]["summary"]["agitation_mean"]
    assert all(v is None or isinstance(v, (str, int, float)) for v in row.values())


def test_summary_row_of_an_empty_result():
    row = summary_row(_minimal(warnings=[{"start": 1, "end": 2, "kind": "new_kind"}]), agent=None)
    assert row["agent"] == "" and row["calm_score"] is None and row["pitch_vs_baseline_st"] is None
    assert row["warnings_total"] == 1 and row["warnings_new_kind"] == 1 and row["warnings_fast"] == 0


def test_summary_row_date_column():
    import datetime

    assert summary_row(build_result(), agent="sam")["date"] is None
    assert list(summary_row(build_result(), agent="sam", date="2026-11-30"))[:4] == [
        "source",
        "agent",
        "date",
        "duration_s",
    ]
    assert summary_row(build_result(), agent="sam", date="2026-11-30")["date"] == "2026-11-30"
    assert summary_row(build_result(), agent="sam", date=datetime.date(2026, 1, 2))["date"] == "2026-01-02"
    assert summary_row(build_result(), agent="sam", date=datetime.datetime(2026, 1, 2, 23, 5))["date"] == "2026-01-02"
    for bad in ("2026-13-01", "30/11/2026", "20261130", "yesterday"):
        with pytest.raises(ReportError, match="not an ISO date"):
            summary_row(build_result(), agent="sam", date=bad)


def test_summary_csv_columns_and_cells(tmp_path):
    rows = [
        summary_row(build_result(), agent="sam"),
        summary_row(_minimal(source='=HYPERLINK("http://x")'), agent=None),
    ]
    path = write_summary_csv(rows, tmp_path / "summary.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        got = list(reader)
        header = reader.fieldnames
    assert header[:7] == ["source", "agent", "date", "duration_s", "calm_score", "agitation_mean", "warnings_total"]
    assert {
        "warnings_fast",
        "warnings_loud",
        "warnings_high_pitch",
        "warnings_agitated",
        "warnings_customer_agitated",
        "warnings_mirroring",
        "pitch_vs_baseline_st",
        "loudness_vs_baseline_db",
        "speaking_rate_wpm",
        "scorecard_overall",
        "scorecard_pace",
    } <= set(header)
    assert len(header) == len(set(header))
    assert got[0]["warnings_fast"] == "1" and got[0]["calm_score"] == str(rows[0]["calm_score"])
    assert got[1]["calm_score"] == "" and got[1]["scorecard_pace"] == ""
    assert got[1]["source"].startswith("'="), "spreadsheet formula neutralised"


def _rows_for_index() -> list[dict]:
    rows = []
    for i, (score, agent) in enumerate([(81, "sam"), (42, "jo"), (None, "sam"), (67, "jo")]):
        r = build_result(20.0, seed=i, source=f"calls/call {i} <b>.wav")
        r["agent"]["summary"]["calm_score"] = score
        rows.append(summary_row(r, agent=agent))
    return rows


def test_index_links_and_sorting_data(tmp_path):
    rows = _rows_for_index()
    links = {r["source"]: str(tmp_path / "reports" / f"call{i}.html") for i, r in enumerate(rows)}
    links[rows[3]["source"]] = "reports/call 3.html"  # already relative
    out = render_index(rows, tmp_path / "index.html", report_links=links)
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    hrefs = [a["href"] for t, a in page.tags if t == "a"]
    assert hrefs == ["reports/call0.html", "reports/call1.html", "reports/call2.html", "reports/call%203.html"]
    (calls,) = [a for t, a in page.tags if t == "table" and a.get("id") == "calls"]
    heads = [a for t, a in page.tags if t == "th" and a.get("data-key")]
    call_heads = heads[: len(heads) - 8]
    default = int(calls["data-default-sort"])
    assert call_heads[default]["data-key"] == "calm_score" and calls["data-default-dir"] == "ascending"
    cells = re.findall(r'<td class="num" data-v="([^"]*)">', text)
    assert "81.0" in cells and "42.0" in cells and "" in cells  # numeric sort keys, unknown empty
    assert "<b>.wav" not in _markup(text) and "call 0 &lt;b&gt;.wav" in text
    # Per-agent table, since agents are known.
    (agents,) = [a for t, a in page.tags if t == "table" and a.get("id") == "agents"]
    agent_table = text[text.index('<table id="agents"') :]
    assert '<td data-v="sam" title="sam">sam</td><td class="num" data-v="2.0">2</td>' in agent_table
    assert agents["data-default-sort"] == "3"  # mean calm score, worst first
    assert not [a for t, a in page.tags if t == "script" and "src" in a]


def test_calls_that_failed_are_in_the_summary_and_count_in_no_figure(tmp_path):
    good = summary_row(build_result(20.0, source="calls/b.wav"), agent="sam", date="2026-11-30")
    bad = failed_row(
        "calls/a <x>.wav", agent="sam", date="2026-12-01", error="calls/a <x>.wav: not a readable audio file"
    )
    assert bad == {
        "source": "calls/a <x>.wav",
        "agent": "sam",
        "date": "2026-12-01",
        "error": "not a readable audio file",
    }
    path = write_summary_csv([bad, good], tmp_path / "summary.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        got = list(reader)
        header = reader.fieldnames
    assert header[-1] == "error" and header.count("error") == 1
    assert got[0]["error"] == "not a readable audio file" and got[0]["calm_score"] == "" and got[0]["agent"] == "sam"
    assert got[1]["error"] == "" and got[1]["calm_score"] == str(good["calm_score"])

    text = render_index([bad, good], tmp_path / "index.html", report_links={}).read_text(encoding="utf-8")
    assert "1 calls · " in text and "1 not analyzed" in text  # the header counts the analysed call only
    failed = text[text.index('<section class="card" id="failed">') :]
    failed = failed[: failed.index("</section>")]
    assert "Not analyzed (1)" in failed and "calls/a &lt;x&gt;.wav" in failed and "not a readable audio file" in failed
    calls = text[text.index('<table id="calls"') :]
    calls = calls[: calls.index("</table>")]
    assert "a &lt;x&gt;.wav" not in calls and "b.wav" in calls  # not a row of the calls table
    agents = text[text.index('<table id="agents"') :]
    assert '<td data-v="sam" title="sam">sam</td><td class="num" data-v="1.0">1</td>' in agents  # one call counted
    only_good = render_index([good], tmp_path / "index2.html", report_links={}).read_text(encoding="utf-8")
    assert 'id="failed"' not in only_good


def test_index_without_agents_has_no_agent_table(tmp_path):
    rows = [summary_row(build_result(20.0), agent=None)]
    out = render_index(rows, tmp_path / "index.html", report_links={})
    page = Page(out.read_text(encoding="utf-8"))
    assert not [a for t, a in page.tags if t == "table" and a.get("id") == "agents"]
    assert "agent" not in [a.get("data-key") for t, a in page.tags if t == "th"]


def test_overlapping_speech_is_grouped_into_turns():
    from voice_coach.output.report.html import _turns

    def w(sp, t):
        return {"speaker": sp, "start": t, "end": t + 0.3, "text": "x", "p": 1.0}

    words = sorted(
        [w("agent", t) for t in (0.0, 0.4, 0.8, 1.2, 1.6, 5.0, 5.4)]
        + [w("customer", 0.5)]  # a backchannel inside the agent's turn
        + [w("customer", t) for t in (2.0, 2.4, 2.8, 3.2)],
        key=lambda x: x["start"],
    )
    turns = [(t[0]["speaker"], [x["start"] for x in t]) for t in _turns(words)]
    # The agent talks on through it; the customer's next words come 3 agent words later: a new turn.
    assert turns == [
        ("agent", [0.0, 0.4, 0.8, 1.2, 1.6]),
        ("customer", [0.5]),
        ("customer", [2.0, 2.4, 2.8, 3.2]),
        ("agent", [5.0, 5.4]),
    ]


def test_analyzer_baseline_figures_win_over_recomputed_ones(tmp_path):
    result = build_result(20.0)
    result["agent"]["summary"].update(
        pitch_vs_baseline_st=3.23, loudness_vs_baseline_db=2.0, articulation_vs_baseline=1.18
    )
    row = summary_row(result, agent=None)
    assert (row["pitch_vs_baseline_st"], row["loudness_vs_baseline_db"], row["articulation_vs_baseline_pct"]) == (
        3.23,
        2.0,
        18.0,
    )
    out, text, page = _render(tmp_path, result)
    assert "+3.2\u2009st" in text and "+2.0\u2009dB" in text and "+18\u2009%" in text


def test_y_range_keeps_the_band_and_peaks_but_not_onset_dips():
    from voice_coach.output.report.timeline import _robust_range

    v = np.r_[np.full(98, 0.5), -60.0, 9.0]  # one onset dip, one real peak
    lo, hi = _robust_range([v, np.array([np.nan])], (-3.0, 3.0))
    assert -4.0 < lo < -3.0 and hi > 9.0
    v = np.r_[np.full(90, 0.5), np.full(10, -60.0)]  # dips at every onset: clipped at 2 band-widths
    lo, hi = _robust_range([v], (-3.0, 3.0))
    assert -16.5 < lo < -15.0 and 3.0 < hi < 4.5
    assert _robust_range([np.array([np.nan])], (-3.0, 3.0)) is None
