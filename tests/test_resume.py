"""Resuming a batch killed half-way (``kill -9`` of the driver): a rerun with --skip-existing analyzes
only the calls that had not finished, leaves no output half-written, and the summary covers every call.

The analyses are counted by the debug line each one logs (``--verbose``: "analyzing <file>")."""

import csv
import json
import re
import shutil
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow

N_CALLS = 3  # the kill lands after the first; the rerun must analyze the other two, once each


def _command(folder, out):
    return [
        sys.executable,
        "-m",
        "voice_coach.cli.main",
        "-v",
        "analyze",
        str(folder),
        "--json",
        str(out),
        "--html",
        str(out),
        "--summary",
        str(out / "summary.csv"),
        "-q",
    ]


def _analyzed(log: str) -> list[str]:
    return re.findall(r"voice-coach: debug: analyzing \S*/(call\d+)\.wav", log)


def test_kill_then_skip_existing_analyzes_each_call_once(tmp_path, samples_dir):
    folder, out = tmp_path / "calls", tmp_path / "out"
    folder.mkdir()
    for i in range(N_CALLS):
        shutil.copy(samples_dir / "stereo_diarization.wav", folder / f"call{i}.wav")
    first_log = tmp_path / "first.log"
    with open(first_log, "w") as log:
        proc = subprocess.Popen(_command(folder, out), stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 300
        while not list(out.glob("call*.json")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.kill()  # kill -9 the driver as soon as the first call is finished
        proc.wait()
    finished = {p.stem for p in out.glob("call*.json")}
    started = _analyzed(first_log.read_text())
    assert 1 <= len(finished) < N_CALLS, f"the kill should land mid-batch: {sorted(finished)} finished"
    assert not (out / "summary.csv").exists()
    # every output that exists under its own name is whole (written atomically)
    for p in out.glob("call*.json"):
        json.loads(p.read_text())
    for p in out.glob("call*.html"):
        assert p.read_text().rstrip().endswith("</html>")
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("call*.json")}

    rerun = subprocess.run([*_command(folder, out), "--skip-existing"], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    again = _analyzed(rerun.stderr)
    assert not set(again) & finished, f"finished calls analyzed again: {sorted(set(again) & finished)}"
    assert sorted(again) == sorted({f"call{i}" for i in range(N_CALLS)} - finished)  # the rest, once each
    assert rerun.stderr.count("skipped, its result") == len(finished)
    assert set(started) >= finished
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # finished results untouched
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert sorted(re.search(r"call\d+", r["source"]).group() for r in rows) == [f"call{i}" for i in range(N_CALLS)]
    assert sorted(p.stem for p in out.glob("call*.html")) == [f"call{i}" for i in range(N_CALLS)]
