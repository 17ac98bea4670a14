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
    assert ray_rows == local_rows and len(ray_rows) == 3  # the broken file's row says why it failed
    assert [r["source"].endswith("broken.wav") for r in ray_rows if r["error"]] == [True]


def test_ray_resumes_with_skip_existing(ray_runtime, calls, ray_run, tmp_path):
    first, ray_out = ray_run
    assert first.exit_code == 1
    out = tmp_path / "out"
    shutil.copytree(ray_out, out)  # copy2: the results keep their times, newer than their recordings
    done = {p: p.stat().st_mtime_ns for p in out.glob("*.json")}
    res = _analyze(calls, out, "--backend", "ray", "--skip-existing")
    assert res.exit_code == 1 and "(existing result)" in res.output
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.json")} == done  # nothing analyzed again
    assert len(list(csv.DictReader((out / "summary.csv").open()))) == 3


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


# --- workers Ray cannot place, and workers lost for good ---------------------------------------------


def _fast_jobs(tmp_path, samples_dir, n):
    from voice_coach.app.batch import Job

    return [
        Job(samples_dir / "jfk.flac", None, {"json": tmp_path / f"c{i}.json"}, {"transcribe": False}) for i in range(n)
    ]


def _drain(generator, timeout_s=180):
    """The generator's items, collected in a thread: a dispatch that hangs fails the test, not the suite."""
    import threading

    items: list = []
    runner = threading.Thread(target=lambda: items.extend(generator), daemon=True)
    runner.start()
    runner.join(timeout_s)
    assert not runner.is_alive(), "the dispatch hung"
    return items


def test_a_worker_ray_cannot_place_is_given_no_call(ray_runtime, tmp_path, samples_dir):
    from voice_coach.app.ray_backend import ActorPlan, _dispatch

    # three one-CPU workers on a 2-CPU runtime: the third is never placed, and must hold no call
    jobs = _fast_jobs(tmp_path, samples_dir, 3)
    outcomes = _drain(_dispatch(ray, jobs, ActorPlan(3, 1, 0.0), keep_results=False))
    assert [o.error for o in outcomes] == [None, None, None]
    assert sorted(p.name for p in tmp_path.glob("c*.json")) == ["c0.json", "c1.json", "c2.json"]


def test_no_worker_with_room_fails_the_calls_in_one_line_each(ray_runtime, tmp_path, samples_dir, monkeypatch):
    from voice_coach.app import ray_backend

    monkeypatch.setattr(ray_backend, "START_TIMEOUT_S", 3.0)
    jobs = _fast_jobs(tmp_path, samples_dir, 2)
    outcomes = _drain(ray_backend._dispatch(ray, jobs, ray_backend.ActorPlan(1, 4, 0.0), keep_results=False))
    assert len(outcomes) == 2
    for o in outcomes:
        assert o.error.endswith(
            "not analyzed, no Ray worker started within 3 s "
            "(each needs 4 CPU(s) free on one node, and the model loaded)"
        )
    assert not list(tmp_path.glob("c*.json"))


class _FakeRay:
    """Just enough of Ray for ``_dispatch``: calls run when their result is asked for."""

    exceptions = ray.exceptions

    def __init__(self, actors):
        self.actors = iter(actors)

    def remote(self, _cls):
        fake = self

        class _Class:
            def options(self, **_kw):
                return self

            def remote(self, *_args):
                return next(fake.actors)

        return _Class()

    def get_runtime_context(self):
        class _Context:
            def get_node_id(self):
                return "node"

        return _Context()

    def wait(self, refs, num_returns, timeout):
        return refs[:1], refs[1:]

    def get(self, ref):
        return ref.fn(*ref.args)


class _FakeRef:
    """A pending call (hashed by identity, as Ray's object refs are used)."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args


class _FakeActor:
    """A worker whose calls are lost (``ActorDiedError``) ``lose`` times; ``dead_after_loss``: it does not come back."""

    def __init__(self, lose=0, dead_after_loss=False):
        self.lose, self.dead, self.runs = lose, False, []
        parent = self

        class _Method:
            def __init__(self, fn):
                self.fn = fn

            def remote(self, *args):
                return _FakeRef(self.fn, args)

        def ready():
            if parent.dead:
                raise ray.exceptions.ActorDiedError()

        def run(job, _keep):
            from voice_coach.app.batch import FileOutcome

            parent.runs.append(job.path.name)
            if parent.lose:
                parent.lose -= 1
                parent.dead = dead_after_loss
                raise ray.exceptions.ActorDiedError()
            return FileOutcome(job.path)

        self.ready, self.run = _Method(ready), _Method(run)


def _jobs(tmp_path, names):
    from voice_coach.app.batch import Job

    return [Job(tmp_path / n, None, {}, {}) for n in names]


def test_a_call_whose_worker_is_lost_goes_to_another(tmp_path):
    from voice_coach.app.ray_backend import ActorPlan, _dispatch

    lost, healthy = _FakeActor(lose=1, dead_after_loss=True), _FakeActor()
    outcomes = list(
        _dispatch(_FakeRay([lost, healthy]), _jobs(tmp_path, ["a", "b", "c"]), ActorPlan(2, 1, 0.0), keep_results=False)
    )
    assert sorted(o.path.name for o in outcomes) == ["a", "b", "c"]  # each call reported once
    assert [o.error for o in outcomes] == [None, None, None]
    assert len(lost.runs) == 1 and sorted(healthy.runs) == ["a", "b", "c"]  # the lost call ran again elsewhere


def test_a_call_that_keeps_losing_its_worker_fails_after_the_attempts(tmp_path):
    from voice_coach.app.ray_backend import CALL_ATTEMPTS, ActorPlan, _dispatch

    flaky = _FakeActor(lose=99)  # every call is lost, the worker always comes back
    outcomes = list(_dispatch(_FakeRay([flaky]), _jobs(tmp_path, ["a"]), ActorPlan(1, 1, 0.0), keep_results=False))
    assert len(outcomes) == 1 and outcomes[0].error.endswith(f"lost {CALL_ATTEMPTS} times (ActorDiedError)")
    assert flaky.runs == ["a"] * CALL_ATTEMPTS


def test_when_every_worker_is_gone_the_calls_left_fail(tmp_path):
    from voice_coach.app.ray_backend import ActorPlan, _dispatch

    gone = _FakeActor(lose=1, dead_after_loss=True)
    outcomes = list(_dispatch(_FakeRay([gone]), _jobs(tmp_path, ["a", "b"]), ActorPlan(1, 1, 0.0), keep_results=False))
    assert sorted(o.path.name for o in outcomes) == ["a", "b"]
    assert all(o.error.endswith("not analyzed, every Ray worker has failed") for o in outcomes)


_NODE_LOSS = """
import glob, os, subprocess, sys, time
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
from ray.cluster_utils import Cluster

calls, out = sys.argv[1], sys.argv[2]
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
second = cluster.add_node(num_cpus=1)
cluster.wait_for_nodes()
cmd = [sys.executable, "-m", "voice_coach.cli.main", "analyze", calls, "--backend", "ray",
       "--ray-address", cluster.address, "--json", out, "--summary", os.path.join(out, "summary.csv"), "-q"]
proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.monotonic() + 240
while not glob.glob(os.path.join(out, "*.json")) and proc.poll() is None and time.monotonic() < deadline:
    time.sleep(0.05)
time.sleep(1.0)  # both workers are into their second call
cluster.remove_node(second, allow_graceful=False)
try:
    stdout, stderr = proc.communicate(timeout=240)
    print("RC", proc.returncode)
    print(stderr)
except subprocess.TimeoutExpired:
    proc.kill()
    print("HUNG")
finally:
    cluster.shutdown()
"""


def test_a_call_whose_node_is_lost_goes_to_the_node_left(tmp_path, samples_dir):
    """A two-node cluster (one CPU each, so a worker everywhere and no room to restart one): one node
    is lost in the middle of a call; that call goes to the other node's worker and the batch ends."""
    import subprocess
    import sys

    import soundfile as sf

    calls, out = tmp_path / "calls", tmp_path / "out"
    calls.mkdir()
    y, sr = sf.read(str(samples_dir / "call_stereo.wav"), dtype="float32")
    for i in range(4):
        sf.write(str(calls / f"c{i}.wav"), y[: 20 * sr], sr)
    res = subprocess.run(
        [sys.executable, "-c", _NODE_LOSS, str(calls), str(out)], capture_output=True, text=True, timeout=600
    )
    assert "HUNG" not in res.stdout, res.stdout[-3000:]
    assert "RC 0" in res.stdout, res.stdout[-3000:] + res.stderr[-2000:]
    assert "its Ray worker was lost" in res.stdout  # the call was moved, not failed
    assert sorted(p.name for p in out.glob("c*.json")) == [f"c{i}.json" for i in range(4)]
    assert len(list(csv.DictReader((out / "summary.csv").open()))) == 4
