"""Resuming a batch killed half-way (``kill -9`` of the driver): a rerun with --skip-existing analyzes
only the calls that had not finished, leaves no output half-written, and the summary covers every call.
With worker processes (``--jobs 2``), the workers end with the driver: none goes on to finish the
calls already handed to it (which the rerun would then analyze a second time).

The analyses are counted by the debug line each one logs (``--verbose``: "analyzing <file>"), in the
driver or in its workers."""

import csv
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _command(folder, out, jobs):
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
        "--jobs",
        str(jobs),
    ]


def _analyzed(log: str) -> list[str]:
    return re.findall(r"voice-coach: debug: analyzing \S*/(call\d+)\.wav", log)


def _children(pid: int) -> set[int]:
    kids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            kids.add(int(stat.parent.name))
    return kids


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


# (worker processes, calls): the kill lands after the first result; the rerun analyzes the rest, once each
@pytest.mark.parametrize("jobs, n_calls", [(1, 3), (2, 4)])
def test_kill_then_skip_existing_analyzes_each_call_once(tmp_path, samples_dir, jobs, n_calls):
    folder, out = tmp_path / "calls", tmp_path / "out"
    folder.mkdir()
    for i in range(n_calls):
        shutil.copy(samples_dir / "stereo_diarization.wav", folder / f"call{i}.wav")
    first_log = tmp_path / "first.log"
    with open(first_log, "w") as log:
        proc = subprocess.Popen(_command(folder, out, jobs), stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 300
        while not list(out.glob("call*.json")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        workers = _children(proc.pid)
        proc.kill()  # kill -9 the driver as soon as the first call is finished
        proc.wait()
    if jobs > 1:
        assert len(workers) >= jobs  # the worker processes (and multiprocessing's resource tracker)
    deadline = time.monotonic() + 10
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(w) for w in workers), "worker processes outlived the driver"
    finished = {p.stem for p in out.glob("call*.json")}
    started = _analyzed(first_log.read_text())
    assert 1 <= len(finished) < n_calls, f"the kill should land mid-batch: {sorted(finished)} finished"
    assert not (out / "summary.csv").exists()
    # every output that exists under its own name is whole (written atomically)
    for p in out.glob("call*.json"):
        json.loads(p.read_text())
    for p in out.glob("call*.html"):
        assert p.read_text().rstrip().endswith("</html>")
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("call*.json")}

    rerun = subprocess.run(
        [*_command(folder, out, jobs), "--skip-existing"], capture_output=True, text=True, timeout=600
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    again = _analyzed(rerun.stderr)
    assert not set(again) & finished, f"finished calls analyzed again: {sorted(set(again) & finished)}"
    assert sorted(again) == sorted({f"call{i}" for i in range(n_calls)} - finished)  # the rest, once each
    assert rerun.stderr.count("skipped, its result") == len(finished)
    assert set(started) >= finished
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # finished results untouched
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert sorted(re.search(r"call\d+", r["source"]).group() for r in rows) == [f"call{i}" for i in range(n_calls)]
    assert sorted(p.stem for p in out.glob("call*.html")) == [f"call{i}" for i in range(n_calls)]
