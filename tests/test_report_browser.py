"""End-to-end: the HTML report in real headless Chromium, opened from disk with a linked WAV.

Checks what a unit test on the HTML text cannot: the page runs without console errors, requests
nothing but itself and its audio, and clicking a warning moves the audio to that warning's start.
Skipped (with the reason) only when Debian's chromium or chromedriver is not installed.
"""

from __future__ import annotations

import json
import time

import pytest
from report_fixtures import build_result, chrome_available, headless_chrome, write_tone_wav

pytestmark = pytest.mark.skipif(chrome_available() is not None, reason=str(chrome_available()))


def _wait(driver, script: str, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {script}")
        time.sleep(0.05)


def _requests(driver) -> list[dict]:
    out = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            out.append({"url": msg["params"]["request"]["url"], "doc": msg["params"].get("documentURL", "")})
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    """A 20 s call: report in out/, audio in audio/ (linked as ../audio/call 1.wav)."""
    from voice_coach.output.report import render_report

    root = tmp_path_factory.mktemp("browser")
    (root / "audio").mkdir()
    wav = write_tone_wav(root / "audio" / "call 1.wav", duration_s=20.0)
    result = build_result(20.0)
    result["warnings"].append(
        {"start": 12.35, "end": 14.0, "kind": "loud", "speaker": "agent", "message": "Louder than your calm baseline."}
    )
    html_path = root / "out" / "report.html"
    render_report(result, html_path, audio_path=wav)
    return {"html": html_path, "wav": wav, "result": result}


def test_report_runs_offline_and_warning_click_seeks_audio(report):
    html_uri = report["html"].resolve().as_uri()
    wav_uri = report["wav"].resolve().as_uri()
    with headless_chrome(log_network=True) as driver:
        driver.get(html_uri)
        _wait(driver, "return document.body.dataset.ready === '1'")
        _wait(driver, "return document.getElementById('audio').readyState >= 1")  # metadata loaded

        # The page inflated its embedded plot library and ran it (one inline script), then drew.
        drawn = driver.execute_script(
            "var gd = document.getElementById('timeline'), q = function (sel) { return gd.querySelectorAll(sel); };"
            "return {version: window.Plotly && Plotly.version, traces: gd.data && gd.data.length,"
            "        svg: q('.main-svg').length, lines: q('.scatterlayer .js-line').length,"
            "        libs: Array.from(document.scripts).filter(function (s) {"
            "          return !s.src && /plotly\\.js \\(basic - minified\\) v4\\.1\\.1/.test(s.text.slice(0, 300)); })"
            "          .length,"
            "        errors: Array.from(document.querySelectorAll('p.error')).map(function (p) { return p.id; })};"
        )
        assert drawn["version"] == "4.1.1"
        assert drawn["traces"] >= 6 and drawn["svg"] >= 1 and drawn["lines"] >= 4, drawn
        assert drawn["libs"] == 1 and drawn["errors"] == [], drawn

        # Record the position the page seeks to, before playback moves it on.
        driver.execute_script(
            "window.__seeks = []; var a = document.getElementById('audio');"
            "a.addEventListener('seeking', function () { window.__seeks.push(a.currentTime); });"
        )
        buttons = driver.find_elements("css selector", "#warnings button[data-t]")
        assert len(buttons) == 1, "the 20 s fixture has exactly one warning (at 12.35 s)"
        expected = float(buttons[0].get_attribute("data-t"))
        assert expected == pytest.approx(12.35)
        buttons[0].click()
        seeks = _wait(driver, "return window.__seeks.length && window.__seeks")
        now = driver.execute_script("return document.getElementById('audio').currentTime")
        assert seeks[0] == pytest.approx(expected, abs=0.05)
        assert now == pytest.approx(expected, abs=0.5)  # playing on from there
        assert abs(now - expected) < 0.05 or now > expected

        # The playback line moved to the warning too, drawn where the x axis puts that time.
        line = driver.execute_script(
            "var p = document.getElementById('playhead'), gd = document.getElementById('timeline');"
            "var xa = gd._fullLayout.xaxis, m = /translateX\\(([-\\d.]+)px\\)/.exec(p.style.transform);"
            "return {hidden: p.hidden, t: parseFloat(p.dataset.t), px: m && parseFloat(m[1]),"
            "        want: xa._offset + xa.l2p(86400000 + 1000 * parseFloat(p.dataset.t)),"
            "        per_s: xa._length / 20};"
        )
        assert line["hidden"] is False
        assert line["t"] == pytest.approx(expected, abs=0.6)  # may have played on a little
        assert line["px"] == pytest.approx(line["want"], abs=1.0)
        assert line["per_s"] > 10, "one second is at least 10 px wide, so the check above means something"

        # Clicking a transcript word seeks to that word.
        word = driver.find_elements("css selector", "#transcript .w")[5]
        word_t = float(word.get_attribute("data-t"))
        driver.execute_script("window.__seeks = []")
        word.click()
        seeks = _wait(driver, "return window.__seeks.length && window.__seeks")
        assert seeks[0] == pytest.approx(word_t, abs=0.05)
        assert "focus" in word.get_attribute("class")

        # A real mouse click on the pitch lane at t = 5 s seeks there (plotly_click).
        from selenium.webdriver.common.actions.action_builder import ActionBuilder

        x, y = driver.execute_script(
            "var gd = document.getElementById('timeline'), L = gd._fullLayout;"
            "gd.scrollIntoView({block: 'center'});"
            "var r = gd.getBoundingClientRect();"
            "return [r.left + L.xaxis._offset + L.xaxis.d2p(86400000 + 5000),"
            "        r.top + L.yaxis._offset + L.yaxis._length / 2];"
        )
        driver.execute_script("window.__seeks = []")
        actions = ActionBuilder(driver)
        actions.pointer_action.move_to_location(int(x), int(y)).pause(0.2).click()
        actions.perform()
        seeks = _wait(driver, "return window.__seeks.length && window.__seeks")
        assert seeks[0] == pytest.approx(5.0, abs=0.2)

        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"console errors: {errors}"

        requests = _requests(driver)
        # Nothing in the whole browser went to the network...
        network = [r["url"] for r in requests if r["url"].split(":", 1)[0] in ("http", "https", "ws", "wss", "ftp")]
        assert not network, f"network requests: {network}"
        # ...and from the navigation to our page on, every request is the page, its audio or inline
        # data. (Before it, headless Chromium loads its own chrome:// new-tab page into the tab.)
        first = next(i for i, r in enumerate(requests) if r["url"] == html_uri)
        ours = requests[first:]
        assert any(r["url"] == wav_uri for r in ours), f"audio never requested: {ours}"
        stray = [
            r["url"]
            for r in ours
            if r["url"] not in (html_uri, wav_uri) and not r["url"].startswith(("data:", "blob:"))
        ]
        assert not stray, f"the report requested more than itself and its audio: {stray}"


def test_browser_without_decompression_stream_says_so_and_lists_still_seek(report):
    """A browser older than DecompressionStream can unpack neither the data nor the embedded plot
    library: one line says so where the plot would be, and the lists still seek the audio."""
    with headless_chrome() as driver:
        driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": "delete window.DecompressionStream;"}
        )
        driver.get(report["html"].resolve().as_uri())
        _wait(driver, "return document.body.dataset.ready === '1'")
        assert driver.execute_script("return typeof DecompressionStream") == "undefined"
        notes = driver.execute_script(
            "return Array.from(document.querySelectorAll('p.error'))"
            ".map(function (p) { return [p.id, p.textContent]; })"
        )
        assert notes == [
            [
                "unpack-error",
                "Timeline and word times could not be unpacked: this browser has no DecompressionStream "
                "(Chrome 80, Firefox 113, Safari 16.4 or newer have it).",
            ]
        ]
        assert driver.execute_script("return typeof window.Plotly") == "undefined"
        _wait(driver, "return document.getElementById('audio').readyState >= 1")
        driver.execute_script(
            "window.__seeks = []; var a = document.getElementById('audio');"
            "a.addEventListener('seeking', function () { window.__seeks.push(a.currentTime); });"
        )
        driver.find_element("css selector", "#warnings button[data-t]").click()
        seeks = _wait(driver, "return window.__seeks.length && window.__seeks")
        assert seeks[0] == pytest.approx(12.35, abs=0.05)
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"console errors: {errors}"


def test_long_report_without_audio_selects_and_refines_on_zoom(tmp_path):
    """A 1-hour call, no audio: player hidden, clicks still select, zooming re-decimates."""
    from voice_coach.output.report import render_report

    html_path = tmp_path / "report.html"
    render_report(build_result(3600.0, customer=False), html_path)
    with headless_chrome() as driver:
        driver.get(html_path.as_uri())
        _wait(driver, "return document.body.dataset.ready === '1'", timeout_s=20)
        assert driver.execute_script("return document.getElementById('audio') === null")
        assert not driver.find_element("id", "player").is_displayed()
        word = driver.find_elements("css selector", "#transcript .w")[3]
        word.click()
        assert "focus" in word.get_attribute("class")

        # Points of the pitch trace between 10:00 and 11:00 (x is ms on the date axis, t=0 at X0).
        count_in = (
            "return document.getElementById('timeline').data[0].x.filter(function (v) {"
            " return v >= 86400000 + 600000 && v <= 86400000 + 660000; }).length;"
        )
        before = driver.execute_script(count_in)
        driver.execute_script(
            "Plotly.relayout(document.getElementById('timeline'),"
            "{'xaxis.range': [86400000 + 600000, 86400000 + 660000]})"
        )
        _wait(driver, count_in.replace("return ", f"return {before} < ", 1))
        after = driver.execute_script(count_in)
        # Full resolution inside the window: ~600 frames of which the voiced ones carry pitch.
        assert after > 300 > before

        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"console errors: {errors}"


def test_unpacked_series_and_words_are_the_results(tmp_path):
    """report.js's reading of the packed data (packing.py): the points of a zoomed window are the
    result's steps within their precision with nulls kept, the first draw keeps a one-step spike and
    a silence, and every word span carries its word's time."""
    import re

    import numpy as np

    from voice_coach.output.report import render_report
    from voice_coach.output.report.timeline import SERIES_FORMAT, X0_MS

    result = build_result(3600.0)
    rows = result["agent"]["timeline"]
    rows[20_000]["pitch_st"] = 9.87  # a one-step spike at 2000.05 s
    result["agent"]["words"][39]["probability"] = 0.314  # "went", in the first "fast" warning
    for r in rows[3000:5000]:  # 200 s of silence from 300 s
        for key in SERIES_FORMAT:
            r[key] = None
    html_path = tmp_path / "report.html"
    render_report(result, html_path)
    data = json.loads(re.search(r'id="vc-data">(.*?)</script>', html_path.read_text("utf-8"), re.S).group(1))
    traces = {tr["i"]: tr["key"] for tr in data["traces"] if tr["key"] != "clock"}
    points = (
        "return document.getElementById('timeline').data.map(function (t) {"
        " return [Array.from(t.x), Array.from(t.y)]; });"
    )
    with headless_chrome() as driver:
        driver.get(html_path.as_uri())
        _wait(driver, "return document.body.dataset.ready === '1'", timeout_s=30)
        first = driver.execute_script(points)
        pitch_i = next(i for i, key in traces.items() if key == "agent.pitch_st")
        x, y = first[pitch_i]
        assert len(x) <= data["max_points"]
        assert max(v for v in y if v is not None) == pytest.approx(9.9)
        silent = [v for xv, v in zip(x, y, strict=True) if 310 <= (xv - X0_MS) / 1000 <= 490]
        assert silent and all(v is None for v in silent)

        driver.execute_script(
            "Plotly.relayout(document.getElementById('timeline'),"
            f"{{'xaxis.range': [{X0_MS + 600_000}, {X0_MS + 660_000}]}})"
        )
        _wait(driver, f"return document.getElementById('timeline').data[{pitch_i}].x.length > 500")
        zoomed = driver.execute_script(points)
        for i, key in traces.items():
            speaker, col = key.split(".")
            want = [r[col] for r in result[speaker]["timeline"]]
            x, y = zoomed[i]
            idx = [round(((xv - X0_MS) / 1000 - 0.05) / 0.1) for xv in x]
            assert idx == list(range(idx[0], idx[0] + len(idx))) and idx[0] <= 6000 and idx[-1] >= 6600, key
            for k, v in zip(idx, y, strict=True):
                assert (v is None) == (want[k] is None), f"{key} step {k}: {v} vs {want[k]}"
                if v is not None:
                    assert abs(v - want[k]) <= 0.5 / SERIES_FORMAT[col][0] + 1e-9, f"{key} step {k}"

        spans = driver.execute_script(
            "return Array.from(document.querySelectorAll('#transcript .w'))"
            ".map(function (w) { return [parseFloat(w.dataset.t), w.textContent]; });"
        )
        want_words = sorted(
            (w["start"], w["text"].strip()) for sp in ("agent", "customer") for w in result[sp]["words"]
        )
        got_words = sorted(spans)
        assert [w for _, w in got_words] == [w for _, w in want_words]
        assert np.max(np.abs(np.array([t for t, _ in got_words]) - [t for t, _ in want_words])) <= 0.005 + 1e-9
        uncertain = driver.execute_script(
            "return Array.from(document.querySelectorAll('#transcript .w.lowp'))"
            ".map(function (w) { return [w.textContent, w.title, w.className]; });"
        )
        assert uncertain == [[result["agent"]["words"][39]["text"].strip(), "fast, p=0.31", "w warn k-fast lowp"]]
        stamps = driver.execute_script("return document.querySelectorAll('#transcript .stamp').length")
        assert stamps == len(driver.find_elements("css selector", "#transcript > p"))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"console errors: {errors}"


def test_index_sorts_by_clicking_headings(tmp_path):
    from voice_coach.output.report import render_index, summary_row

    rows = []
    for i, score in enumerate([81, 42, None, 67]):
        r = build_result(20.0, seed=i, source=f"call{i}.wav")
        r["agent"]["summary"]["calm_score"] = score
        rows.append(summary_row(r, agent="sam" if i % 2 else "jo"))
    out = render_index(rows, tmp_path / "index.html", report_links={r["source"]: f"{r['source']}.html" for r in rows})
    order = (
        "return Array.prototype.map.call(document.querySelectorAll('#calls tbody tr'),"
        " function (tr) { return tr.cells[0].textContent; });"
    )
    with headless_chrome() as driver:
        driver.get(out.as_uri())
        _wait(driver, "return document.body.dataset.ready === '1'")
        assert driver.execute_script(order) == ["call1.wav", "call3.wav", "call0.wav", "call2.wav"]  # worst first
        heading = driver.find_element("css selector", "#calls th[data-key='calm_score']")
        heading.click()  # now descending; unknown stays last
        assert driver.execute_script(order) == ["call0.wav", "call3.wav", "call1.wav", "call2.wav"]
        driver.find_element("css selector", "#calls th[data-key='source']").click()
        assert driver.execute_script(order) == ["call0.wav", "call1.wav", "call2.wav", "call3.wav"]
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"console errors: {errors}"


@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory) -> dict:
    """Two reports of a batch sharing one plot library: reports/north/call 1.html and
    reports/call 2.html load assets/plotly-basic-*.min.js; the audio is in audio/."""
    from voice_coach.output.report import render_report

    root = tmp_path_factory.mktemp("batch")
    (root / "audio").mkdir()
    wav = write_tone_wav(root / "audio" / "call 1.wav", duration_s=20.0)
    shared = root / "assets"
    nested = root / "reports" / "north" / "call 1.html"
    render_report(build_result(20.0), nested, audio_path=wav, shared_assets_dir=shared)
    flat = root / "reports" / "call 2.html"
    render_report(build_result(20.0, seed=3), flat, shared_assets_dir=shared)
    (lib,) = shared.iterdir()
    return {"nested": nested, "flat": flat, "wav": wav, "lib": lib}


def test_batch_reports_share_one_library_by_relative_path(batch_folder):
    nested, lib, wav = batch_folder["nested"], batch_folder["lib"], batch_folder["wav"]
    with headless_chrome(log_network=True) as driver:
        for page in (batch_folder["flat"], nested):  # the one opened last is checked in detail
            driver.get(page.resolve().as_uri())
            _wait(driver, "return document.body.dataset.ready === '1'")
            # The plot is drawn by the shared library: every lane is there.
            assert driver.execute_script("return document.getElementById('timeline').data.length") >= 6
            assert driver.execute_script("return Plotly.version") == "4.1.1"
            assert driver.execute_script("return document.getElementById('plot-missing')") is None
        _wait(driver, "return document.getElementById('audio').readyState >= 1")

        # A real mouse click on the pitch lane at t = 7 s seeks there (plotly_click still fires).
        from selenium.webdriver.common.actions.action_builder import ActionBuilder

        x, y = driver.execute_script(
            "var gd = document.getElementById('timeline'), L = gd._fullLayout;"
            "gd.scrollIntoView({block: 'center'});"
            "var r = gd.getBoundingClientRect();"
            "return [r.left + L.xaxis._offset + L.xaxis.d2p(86400000 + 7000),"
            "        r.top + L.yaxis._offset + L.yaxis._length / 2];"
        )
        driver.execute_script(
            "window.__seeks = []; var a = document.getElementById('audio');"
            "a.addEventListener('seeking', function () { window.__seeks.push(a.currentTime); });"
        )
        actions = ActionBuilder(driver)
        actions.pointer_action.move_to_location(int(x), int(y)).pause(0.2).click()
        actions.perform()
        seeks = _wait(driver, "return window.__seeks.length && window.__seeks")
        assert seeks[0] == pytest.approx(7.0, abs=0.2)

        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"console errors: {errors}"
        requests = _requests(driver)
        network = [r["url"] for r in requests if r["url"].split(":", 1)[0] in ("http", "https", "ws", "wss", "ftp")]
        assert not network, f"network requests: {network}"
        page_uri = nested.resolve().as_uri()
        first = next(i for i, r in enumerate(requests) if r["url"] == page_uri)
        ours = [r["url"] for r in requests[first:] if not r["url"].startswith(("data:", "blob:"))]
        allowed = {page_uri, lib.resolve().as_uri(), wav.resolve().as_uri()}
        assert set(ours) == allowed, f"requests of the page: {ours}"


def test_batch_report_without_its_library_says_so_and_still_works(tmp_path, batch_folder):
    """A shared-library report moved away from its folder: one line in place of the plot, the rest
    of the page (lists, transcript, clicks) works, and no script error is thrown."""
    import shutil

    moved = tmp_path / "elsewhere" / "call.html"
    moved.parent.mkdir()
    shutil.copy(batch_folder["flat"], moved)  # the report without audio: only the library is missing
    with headless_chrome() as driver:
        driver.get(moved.as_uri())
        _wait(driver, "return document.body.dataset.ready === '1'")
        note = driver.find_element("id", "plot-missing").text
        assert note.startswith("Plot library missing: ../assets/plotly-basic-4.1.1.min.js ")
        word = driver.find_elements("css selector", "#transcript .w")[2]
        word.click()
        assert "focus" in word.get_attribute("class")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        # Chromium logs the failed load of the missing file itself; nothing else may fail.
        assert all(
            "plotly-basic-4.1.1.min.js" in e["message"] and "ERR_FILE_NOT_FOUND" in e["message"] for e in errors
        ), errors


def test_csp_lets_local_scripts_run_and_blocks_network_ones(tmp_path):
    """The one CSP of every page: a script from a local file runs, one from the network is refused
    before any request is made."""
    from voice_coach.output.report.page import page_head

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "local.js").write_text("window.__local = 1;", encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_text(
        page_head("csp") + "<body><script>window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', function (e) {"
        " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI); });</script>"
        '<script src="lib/local.js"></script>'
        '<script src="http://127.0.0.1:9/remote.js"></script>'
        '<img src="https://127.0.0.1:9/pixel.png" alt="">'
        "</body></html>",
        encoding="utf-8",
    )
    with headless_chrome(log_network=True) as driver:
        driver.get(page.as_uri())
        _wait(driver, "return window.__violations.length >= 2")
        assert driver.execute_script("return window.__local") == 1
        violations = driver.execute_script("return window.__violations")
        assert any(v.startswith("script-src") and "remote.js" in v for v in violations), violations
        assert any(v.startswith("img-src") and "pixel.png" in v for v in violations), violations
        # DevTools announces each attempt, then reports it failed, blocked by the CSP before the
        # browser connected.
        sent, blocked = {}, {}
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            params = msg.get("params", {})
            if msg.get("method") == "Network.requestWillBeSent":
                sent[params["requestId"]] = params["request"]["url"]
            elif msg.get("method") == "Network.loadingFailed":
                blocked[params["requestId"]] = params.get("blockedReason")
        remote = {rid: url for rid, url in sent.items() if "127.0.0.1" in url}
        assert sorted(remote.values()) == ["http://127.0.0.1:9/remote.js", "https://127.0.0.1:9/pixel.png"]
        assert all(blocked.get(rid) == "csp" for rid in remote), (remote, blocked)


def test_index_trends_sort_who_is_slipping_first(tmp_path):
    """The trends table of the index uses the same sorting: worst change in calm score first."""
    from voice_coach.output.report import render_index, summary_row

    scores = {"ann": [80, 70, 55], "bob": [60, 65, 72], "cy": [70, 69, 68], "": [50, None, None]}
    rows = []
    for agent, by_week in scores.items():
        for week, score in enumerate(by_week):
            r = build_result(20.0, seed=week, source=f"{agent or 'x'}{week}.wav")
            r["agent"]["summary"]["calm_score"] = score
            rows.append(summary_row(r, agent=agent, date=f"2026-11-{2 + 7 * week:02d}"))
    rows.append(summary_row(build_result(20.0, source="nodate.wav"), agent="ann"))
    out = render_index(rows, tmp_path / "index.html", report_links={})
    order = (
        "return Array.prototype.map.call(document.querySelectorAll('#trends tbody tr'),"
        " function (tr) { return tr.cells[0].textContent; });"
    )
    with headless_chrome(log_network=True) as driver:
        driver.get(out.as_uri())
        _wait(driver, "return document.body.dataset.ready === '1'")
        # changes: ann -25, cy -2, bob +12, unknown agent none (one week with a score): last
        assert driver.execute_script(order) == ["ann", "cy", "bob", "(unknown agent)"]
        driver.find_element("css selector", "#trends th[data-key='calm_score_change']").click()
        assert driver.execute_script(order) == ["bob", "cy", "ann", "(unknown agent)"]
        driver.find_element("css selector", "#trends th[data-key='calm_score_by_week']").click()
        # by the last week's score, ascending: 50, 55, 68, 72
        assert driver.execute_script(order) == ["(unknown agent)", "ann", "cy", "bob"]
        assert "nodate.wav" in driver.find_element("id", "undated").text
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, f"console errors: {errors}"
        urls = [r["url"] for r in _requests(driver)]
        first = urls.index(out.as_uri())
        assert all(u == out.as_uri() or u.startswith("data:") for u in urls[first:]), urls[first:]
