"""The Ray backend against local worker processes: a real local Ray runtime (2 CPUs) on two short
sample calls and a broken file, through the CLI. Same words, warnings and summary; the bad file is
reported once and the rest go on."""

import csv
import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from voice_coach.cli.main import app

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]' (.ci/run installs it)")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ray_runtime():
    """A local Ray runtime with 2 CPUs for this module; the CLI joins it instead of starting its own."""
    from voice_coach.app.ray_backend import connect

    started = connect(ray, None, 2)
    yield
    if started:
        ray.shutdown()


@pytest.fixture(scope="module")
def calls(tmp_path_factory, samples_dir):
    folder = tmp_path_factory.mktemp("ray_calls")
    shutil.copy(samples_dir / "stereo_diarization.wav", folder / "two_voices.wav")
    shutil.copy(samples_dir / "jfk.flac", folder / "jfk.flac")
    (folder / "broken.wav").write_text("not audio")
    return folder


def _analyze(calls, out, *extra):
    args = ["analyze", str(calls), "--jobs", "2", "--json", str(out), "--summary", str(out / "summary.csv"), *extra]
    return CliRunner().invoke(app, args)


def _words(result, voice):
    return [(w["text"], w["start"], w["end"]) for w in (result[voice] or {}).get("words", [])]


def _read(out):
    results = {p.name: json.loads(p.read_text()) for p in sorted(out.glob("*.json"))}
    rows = list(csv.DictReader((out / "summary.csv").open()))
    return results, rows


@pytest.fixture(scope="module")
def ray_run(ray_runtime, calls, tmp_path_factory):
    """The calls analyzed on Ray once for the module: (the CLI's result, its output folder). Tests
    that change outputs work on a copy of the folder."""
    out = tmp_path_factory.mktemp("ray_out") / "out"
    return _analyze(calls, out, "--backend", "ray"), out


def test_ray_gives_the_same_results_as_local_processes(ray_runtime, calls, ray_run, tmp_path, monkeypatch):
    assert ray.cluster_resources()["CPU"] == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # local --jobs 2: one CTranslate2 thread each, as on Ray
    local = _analyze(calls, tmp_path / "local")
    on_ray, ray_out = ray_run
    for res in (local, on_ray):
        assert res.exit_code == 1  # the broken file
        assert res.output.count("broken.wav") == 1 and "1 of 3 recordings failed" in res.output
    local_results, local_rows = _read(tmp_path / "local")
    ray_results, ray_rows = _read(ray_out)
    assert sorted(ray_results) == ["jfk.json", "two_voices.json"]
    for name, expected in local_results.items():
        got = ray_results[name]
        for voice in ("agent", "customer"):
            assert _words(got, voice) == _words(expected, voice), (name, voice)
        assert got["warnings"] == expected["warnings"]
        assert got["agent"]["summary"] == expected["agent"]["summary"]
    assert any(r["agent"]["words"] for r in ray_results.values())  # the model ran on the workers
    assert ray_rows == local_rows and len(ray_rows) == 2


def test_ray_resumes_with_skip_existing(ray_runtime, calls, ray_run, tmp_path):
    first, ray_out = ray_run
    assert first.exit_code == 1
    out = tmp_path / "out"
    shutil.copytree(ray_out, out)  # copy2: the results keep their times, newer than their recordings
    done = {p: p.stat().st_mtime_ns for p in out.glob("*.json")}
    res = _analyze(calls, out, "--backend", "ray", "--skip-existing")
    assert res.exit_code == 1 and "(existing result)" in res.output
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.json")} == done  # nothing analyzed again
    assert len(list(csv.DictReader((out / "summary.csv").open()))) == 2


def _running_analyses() -> list[int]:
    """Ray worker processes running a call now (Ray titles them after the actor method)."""
    pids = []
    for proc in os.listdir("/proc"):
        if proc.isdigit():
            try:
                with open(f"/proc/{proc}/cmdline", "rb") as fh:
                    if fh.read().startswith(b"ray::_Analyzer.run"):
                        pids.append(int(proc))
            except OSError:
                pass
    return pids


def test_a_worker_killed_mid_call_is_restarted_and_the_call_retried(ray_runtime, tmp_path, samples_dir):
    import signal
    import threading
    import time

    import soundfile as sf

    from voice_coach.app.batch import Job, run_batch

    # long enough (25 s of the two-voice sample) for the kill to land mid-call
    y, sr = sf.read(str(samples_dir / "call_stereo.wav"), dtype="float32")
    sf.write(str(tmp_path / "long.wav"), y[: 25 * sr], sr)
    shutil.copy(samples_dir / "stereo_diarization.wav", tmp_path / "short.wav")
    jobs = [Job(tmp_path / n, None, {"json": tmp_path / f"{n}.json"}, {}) for n in ("long.wav", "short.wav")]
    outcomes: list = []
    runner = threading.Thread(target=lambda: outcomes.extend(run_batch(jobs, backend="ray", workers=2)))
    runner.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and runner.is_alive() and time.monotonic() < deadline:
        running = _running_analyses()
        if running:
            time.sleep(1.0)  # let it get into the call
            running = _running_analyses()
            if running:
                killed = running[0]
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    runner.join(timeout=300)
    assert killed is not None, "no analysis was seen running"
    assert sorted(o.path.name for o in outcomes) == ["long.wav", "short.wav"]
    assert [o.error for o in outcomes] == [None, None]
    for n in ("long.wav", "short.wav"):
        assert json.loads((tmp_path / f"{n}.json").read_text())["agent"]["words"]
