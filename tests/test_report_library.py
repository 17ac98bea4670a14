"""The plotting library of the call report: the vendored bundle, inline or shared by a batch folder,
and what that does to report sizes (browser checks: test_report_browser.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from conftest import SAMPLES
from report_fixtures import build_result

from voice_coach.output.report import ReportError, plotlyjs, render_report
from voice_coach.output.report.packing import Packer

ASSETS = Path(plotlyjs.__file__).parent / "assets"
SHARED_MAX = 300_000
"""A shared-library report of a one-minute call stays under this (it is ~0.05 MB)."""
INLINE_MAX = 650_000
"""A self-contained report of a one-minute call, without audio, stays under this (~0.58 MB, of which
0.53 MB is the deflated library)."""


def _scripts(text: str) -> list[tuple[str, str]]:
    """(attributes, body) of every <script> element."""
    return re.findall(r"<script([^>]*)>(.*?)</script>", text, flags=re.DOTALL)


def _library_src(text: str) -> str:
    (src,) = [m for attrs, _ in _scripts(text) for m in re.findall(r'src="([^"]*)"', attrs)]
    return src


def _embedded_library(text: str) -> bytes:
    """The plot library a self-contained page carries (its one ``#vc-plotly`` data block), inflated
    as the page's loader.js does: base64, then zlib. Checks the length the block announces."""
    ((attrs, body),) = [(a, b) for a, b in _scripts(text) if 'id="vc-plotly"' in a]
    js = zlib.decompress(base64.b64decode(body, validate=True))
    assert re.search(r'data-bytes="(\d+)"', attrs).group(1) == str(len(js))
    return js


# ---- the vendored file ---------------------------------------------------------------------------


def test_vendored_bundle_is_the_recorded_file_with_its_licence():
    js = ASSETS / plotlyjs.PLOTLY_JS_FILE
    assert hashlib.sha256(js.read_bytes()).hexdigest() == plotlyjs.PLOTLY_JS_SHA256
    assert plotlyjs.js_bytes() == js.read_bytes()
    assert f"plotly.js (basic - minified) v{plotlyjs.PLOTLY_JS_VERSION}" in js.read_text("utf-8")[:300]
    licence = (ASSETS / f"plotly-basic-{plotlyjs.PLOTLY_JS_VERSION}.LICENSE.txt").read_text("utf-8")
    assert licence.startswith("MIT License") and "Plotly" in licence
    note = (ASSETS / "VENDORED.md").read_text("utf-8")
    assert plotlyjs.PLOTLY_JS_SHA256 in note and f"plotly.js-basic-dist-min@{plotlyjs.PLOTLY_JS_VERSION}" in note
    # The embedded form is base64 only: nothing in it can end its <script> element early.
    assert re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", plotlyjs.packed_js())


def test_embedded_library_inflates_to_exactly_the_vendored_file(tmp_path):
    """What a self-contained page carries is the vendored bundle byte for byte, deflated (zlib) and
    base64, and much smaller than the bundle."""
    out = tmp_path / "r.html"
    render_report(build_result(60.0), out)
    js = _embedded_library(out.read_text("utf-8"))
    assert js == (ASSETS / plotlyjs.PLOTLY_JS_FILE).read_bytes()
    assert hashlib.sha256(js).hexdigest() == plotlyjs.PLOTLY_JS_SHA256
    assert len(plotlyjs.packed_js()) < 0.5 * len(js)


def test_python_plotly_writes_figures_for_the_same_major_version():
    """The timeline writes plotly figure JSON as plain dicts, checked against python plotly (the
    reference, a test dependency); plotly.js reads it. Within a major version the schema only grows, so
    a python plotly on another major means: refresh the bundle (tools/vendor_plotly.py)."""
    from plotly.offline import get_plotlyjs_version

    assert get_plotlyjs_version().split(".")[0] == plotlyjs.PLOTLY_JS_VERSION.split(".")[0]


def test_figure_uses_only_what_the_basic_bundle_draws(tmp_path):
    """The basic bundle has the scatter, bar and pie traces, cartesian axes, shapes and annotations."""
    result = build_result(60.0)
    render_report(result, tmp_path / "r.html")
    (data,) = [body for attrs, body in _scripts((tmp_path / "r.html").read_text("utf-8")) if 'id="vc-data"' in attrs]
    fig = json.loads(data)["figure"]
    assert {t["type"] for t in fig["data"]} == {"scatter"}
    assert {s["type"] for s in fig["layout"]["shapes"]} <= {"rect", "line"}
    subplot_keys = {k for k in fig["layout"] if re.match(r"(geo|polar|ternary|scene|map|mapbox|smith)\d*$", k)}
    assert not subplot_keys
    assert any(k.startswith("yaxis") and v.get("overlaying") for k, v in fig["layout"].items() if isinstance(v, dict))


def test_rendering_needs_no_python_plotly(tmp_path):
    """The figure is written as plain dicts and the library is the vendored file: a report renders
    in a Python where ``import plotly`` fails."""
    code = (
        "import sys; sys.modules['plotly'] = None; sys.path.insert(0, sys.argv[1])\n"
        "from pathlib import Path\n"
        "from report_fixtures import build_result\n"
        "from voice_coach.output.report import render_report\n"
        "render_report(build_result(60.0), Path(sys.argv[2]))\n"
        "assert 'plotly' not in sys.modules or sys.modules['plotly'] is None\n"
    )
    out = tmp_path / "r.html"
    done = subprocess.run(
        [sys.executable, "-c", code, str(Path(__file__).parent), str(out)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert _embedded_library(out.read_text("utf-8")) == plotlyjs.js_bytes()


def _lanes_of(result: dict):
    from voice_coach.output.report._result import mapping
    from voice_coach.output.report.html import _call_duration, _speaker_timelines
    from voice_coach.output.report.options import ReportOptions
    from voice_coach.output.report.timeline import make_lanes

    speakers = _speaker_timelines(result)
    baseline = mapping(mapping(result, "agent"), "baseline")
    opts = ReportOptions()
    return (
        speakers,
        make_lanes(speakers.get("agent"), speakers.get("customer"), baseline, opts),
        opts,
        _call_duration(result, speakers),
    )


@pytest.mark.parametrize("customer", [True, False])
@pytest.mark.parametrize("syllables", [True, False])
def test_figure_layout_is_that_of_make_subplots(customer, syllables):
    """The hand-written layout has the axes, domains, links, titles and band references that python
    plotly's ``make_subplots(shared_xaxes=True)`` gives the same lanes, and the traces sit on the
    same axes."""
    from plotly.subplots import make_subplots

    from voice_coach.output.report.timeline import VERTICAL_SPACING, build_figure

    result = build_result(60.0, customer=customer)
    if not syllables:
        for row in result["agent"]["timeline"]:
            row.pop("syllables_per_s", None)
    speakers, lanes, opts, duration = _lanes_of(result)
    fig, _ = build_figure(result, speakers, lanes, duration, opts, Packer())
    assert any(lane.secondary for lane in lanes) is syllables

    ref = make_subplots(
        rows=len(lanes),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=VERTICAL_SPACING,
        subplot_titles=[lane.title for lane in lanes],
        specs=[[{"secondary_y": lane.secondary is not None}] for lane in lanes],
    )
    for row, lane in enumerate(lanes, start=1):
        for _ in lane.traces:
            ref.add_scatter(x=[0], y=[0], row=row, col=1)
        if lane.secondary:
            ref.add_scatter(x=[0], y=[0], row=row, col=1, secondary_y=True)
        if lane.band:
            ref.add_hrect(y0=lane.band[0], y1=lane.band[1], row=row, col=1)
        ref.add_scatter(x=[0], y=[0], row=row, col=1)  # the clock
    want = ref.to_plotly_json()["layout"]
    got = fig["layout"]

    axis_keys = {k for k in want if re.fullmatch(r"[xy]axis\d*", k)}
    assert {k for k in got if re.fullmatch(r"[xy]axis\d*", k)} == axis_keys
    for k in axis_keys:
        for field in ("anchor", "matches", "overlaying", "side", "showticklabels"):
            assert got[k].get(field) == want[k].get(field), (k, field)
        if "domain" in want[k]:
            assert got[k]["domain"] == pytest.approx(list(want[k]["domain"]), abs=1e-9), k
    titles = [(a["text"], a["xref"], a["yref"], a["yanchor"], round(a["y"], 9)) for a in want["annotations"]]
    assert [(a["text"], a["xref"], a["yref"], a["yanchor"], round(a["y"], 9)) for a in got["annotations"]] == titles
    bands = [(b["xref"], b["yref"], b["x0"], b["x1"], b["y0"], b["y1"]) for b in want.get("shapes", [])]
    assert [(b["xref"], b["yref"], b["x0"], b["x1"], b["y0"], b["y1"]) for b in got["shapes"][: len(bands)]] == bands
    assert [(t["xaxis"], t["yaxis"]) for t in fig["data"]] == [(t.xaxis, t.yaxis) for t in ref.data]


# ---- inline (one file) and shared (batch folder) ---------------------------------------------------


def test_self_contained_report_of_a_minute_is_under_the_bound(tmp_path):
    out = tmp_path / "r.html"
    render_report(build_result(60.0), out)
    text = out.read_text("utf-8")
    assert not [a for a, _ in _scripts(text) if "src=" in a]
    assert out.stat().st_size <= INLINE_MAX
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # nothing written beside it


HOUR_INLINE_MAX = 900_000
"""A self-contained report of the 1-hour fixture call (36 000 steps per voice, 8 640 words, 120
warnings, 540 list items), audio linked: ~0.83 MB, of which 0.53 MB is the deflated library (issue
10's bound is 1.5 MB)."""
HOUR_SHARED_MAX = 350_000
"""Its shared-library version (~0.30 MB)."""


def test_report_of_an_hour_is_under_the_bound_alone_and_shared(tmp_path):
    result = build_result(3600.0)
    alone, shared = tmp_path / "alone.html", tmp_path / "reports" / "shared.html"
    render_report(result, alone)
    render_report(result, shared, shared_assets_dir=tmp_path / "assets")
    assert alone.stat().st_size <= HOUR_INLINE_MAX
    assert shared.stat().st_size <= HOUR_SHARED_MAX
    assert alone.stat().st_size - shared.stat().st_size == pytest.approx(len(plotlyjs.packed_js()), abs=200)


def test_list_swatches_of_the_css_are_the_timeline_colours():
    from voice_coach.output.report.timeline import WARNING_COLOURS

    css = (ASSETS / "report.css").read_text("utf-8")
    rules = dict(re.findall(r"\.k-([a-z_]+) > \.swatch \{ background: (#[0-9a-f]{6}); \}", css))
    assert rules == WARNING_COLOURS


def test_shared_library_is_written_once_and_linked_relatively(tmp_path):
    shared = tmp_path / "batch" / "assets"
    a = tmp_path / "batch" / "reports" / "north" / "a b.html"
    b = tmp_path / "batch" / "reports" / "b.html"
    render_report(build_result(60.0), a, shared_assets_dir=shared)
    lib = shared / plotlyjs.PLOTLY_JS_FILE
    first = lib.stat()
    render_report(build_result(60.0, seed=2), b, shared_assets_dir=shared)
    assert [p.name for p in shared.iterdir()] == [plotlyjs.PLOTLY_JS_FILE]  # one copy, no temp files
    assert lib.read_bytes() == plotlyjs.js_bytes()
    again = lib.stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns), "identical copy left alone"

    for page, src in ((a, "../../assets/plotly-basic-4.1.1.min.js"), (b, "../assets/plotly-basic-4.1.1.min.js")):
        text = page.read_text("utf-8")
        assert _library_src(text) == src
        assert (page.parent / src).resolve() == lib.resolve()
        assert plotlyjs.packed_js()[:2000] not in text and 'id="vc-plotly"' not in text  # not embedded as well
        assert page.stat().st_size < SHARED_MAX
        (data,) = [body for attrs, body in _scripts(text) if 'id="vc-data"' in attrs]
        assert json.loads(data)["plot_library"] == src  # named by the page if it is missing


def test_shared_library_of_another_content_is_replaced(tmp_path):
    shared = tmp_path / "assets"
    shared.mkdir()
    (shared / plotlyjs.PLOTLY_JS_FILE).write_text("/* truncated */", encoding="utf-8")
    render_report(build_result(20.0), tmp_path / "r.html", shared_assets_dir=shared)
    assert (shared / plotlyjs.PLOTLY_JS_FILE).read_bytes() == plotlyjs.js_bytes()


def test_shared_library_folder_that_cannot_be_written_is_one_clear_error(tmp_path):
    blocker = tmp_path / "assets"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(ReportError, match="Cannot write the shared plot library") as err:
        render_report(build_result(20.0), tmp_path / "r.html", shared_assets_dir=blocker)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "r.html").exists()  # no report pointing at a library that is not there


def test_report_without_a_timeline_writes_no_library(tmp_path):
    result = build_result(20.0)
    for block in ("agent", "customer"):
        result[block]["timeline"] = []
    render_report(result, tmp_path / "r.html", shared_assets_dir=tmp_path / "assets")
    assert not (tmp_path / "assets").exists()
    assert not [a for a, _ in _scripts((tmp_path / "r.html").read_text("utf-8")) if "src=" in a]


# ---- the shipped sample calls, analysed for real ----------------------------------------------------


@pytest.fixture
def sample_results(analyzed_sample) -> dict[str, dict]:
    """samples/*.wav analysed by the CLI with its default options, as test_cli.py and
    test_scorecard_and_call.py check them (the analyses are shared: see conftest). The mono sample
    is one voice (`--speakers auto` does not split it): this is about report size, not speaker
    separation."""
    import soundfile as sf

    results = {}
    for wav in sorted(SAMPLES.glob("*.wav")):
        _, results[wav.name] = analyzed_sample(wav.name)
        if sf.info(str(wav)).channels == 1:
            assert results[wav.name]["customer"] is None, wav.name
    return results


@pytest.mark.slow
def test_sample_call_reports_are_light(sample_results, tmp_path):
    assert len(sample_results) >= 3
    for name, result in sample_results.items():
        alone = tmp_path / f"{name}.html"
        render_report(result, alone)
        shared = tmp_path / "reports" / f"{name}.html"
        render_report(result, shared, shared_assets_dir=tmp_path / "assets")
        size, shared_size = alone.stat().st_size, shared.stat().st_size
        assert size <= INLINE_MAX, f"{name}: self-contained report is {size} bytes"
        assert shared_size < SHARED_MAX, f"{name}: shared-library report is {shared_size} bytes"
        assert size - shared_size == pytest.approx(len(plotlyjs.packed_js()), abs=200)
        assert _library_src(shared.read_text("utf-8")) == "../assets/" + plotlyjs.PLOTLY_JS_FILE
    assert os.listdir(tmp_path / "assets") == [plotlyjs.PLOTLY_JS_FILE]
