import csv
import os

import pytest
from conftest import sample_speech, write_wav
from typer.testing import CliRunner

from voice_coach.app.batch import AgentIdentity
from voice_coach.cli.main import app
from voice_coach.errors import ConfigError

SENTENCES = [(0.3, 5.3), (5.5, 9.2)]
"""Two of the sample's calm sentences (start, end in s): each call is one."""


@pytest.fixture
def calls(tmp_path):
    root = tmp_path / "calls"
    for agent, n in (("alice", 2), ("bob", 1)):
        for i in range(n):
            (root / agent).mkdir(parents=True, exist_ok=True)
            write_wav(root / agent / f"call{i}.wav", sample_speech(*SENTENCES[i]))
    (root / "bob" / "broken.wav").write_text("not audio")
    return root


def test_folder_in_parallel_with_summary_index_and_agents(calls, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        [
            "analyze",
            str(calls),
            "-r",
            "--jobs",
            "2",
            "--json",
            str(out),
            "--html",
            str(out),
            "--summary",
            str(out / "summary.csv"),
            "--agent-from",
            r"(?P<agent>[^/]+)/[^/]+$",
            "-q",
        ],
    )
    assert res.exit_code == 1  # the broken file
    assert "broken.wav" in res.output and "1 of 4 recordings failed" in res.output
    # alice/call0 and bob/call0 share a stem: their outputs keep their folders, none is overwritten.
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.json")) == [
        "alice/call0.json",
        "alice/call1.json",
        "bob/call0.json",
    ]
    every = list(csv.DictReader((out / "summary.csv").open()))
    (broken,) = [r for r in every if r["error"]]  # the failed call has its row too: which, whose, why
    assert broken["source"].endswith("broken.wav") and broken["agent"] == "bob" and broken["calm_score"] == ""
    assert "broken.wav" not in broken["error"]  # the reason, without the file's name again
    rows = [r for r in every if not r["error"]]
    assert len(rows) == 3
    assert sorted(r["agent"] for r in rows) == ["alice", "alice", "bob"]
    assert {
        "calm_score",
        "warnings_loud",
        "speaking_rate_wpm",
        "pitch_vs_baseline_st",
        "loudness_vs_baseline_db",
    } <= set(rows[0])
    index = (out / "summary.html").read_text()
    assert "By agent" in index and ".html" in index
    assert "Not analyzed (1)" in index and "broken.wav" in index


def test_agent_identity_from_regex_and_sidecar(tmp_path):
    from pathlib import Path

    who = AgentIdentity(r"agents/(?P<agent>\w+)/")
    assert who(Path("/data/agents/carol/x.wav")) == "carol" and who(Path("/data/x.wav")) is None
    side = tmp_path / "map.csv"
    side.write_text("file,agent\nx.wav,dave\n")
    assert AgentIdentity(sidecar=side)(Path("/any/x.wav")) == "dave"
    with pytest.raises(ConfigError, match="named group"):
        AgentIdentity(r"agents/(\w+)/")
    side.write_text("name,who\n")
    with pytest.raises(ConfigError, match="columns 'file' and 'agent'"):
        AgentIdentity(sidecar=side)


# --- call dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, day",
    [
        ("2024-03-07", "2024-03-07"),
        ("20240307", "2024-03-07"),
        ("2024-03-07T23:59:10", "2024-03-07"),
        ("2024-03-07 08:00", "2024-03-07"),
        (" 2024-12-31 ", "2024-12-31"),
    ],
)
def test_call_date_formats(text, day):
    from voice_coach.app.dating import parse_call_date

    assert parse_call_date(text).isoformat() == day


@pytest.mark.parametrize("text", ["2024-02-30", "20241301", "2024/03/07", "07-03-2024", "2024-3-7", "yesterday", ""])
def test_call_date_refuses_what_is_not_a_day(text):
    from voice_coach.app.dating import parse_call_date

    with pytest.raises(ValueError):
        parse_call_date(text)


def test_call_dates_name_then_agent_map_then_modification_day(tmp_path):
    import datetime
    import os
    from pathlib import Path

    from voice_coach.app.dating import CallDates

    named = tmp_path / "2024" / "call_20240307_0915.wav"
    mapped = tmp_path / "mapped.wav"
    plain = tmp_path / "plain.wav"
    for p in (named, mapped, plain):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    stamp = datetime.datetime(2023, 5, 6, 12, 0).timestamp()
    os.utime(plain, (stamp, stamp))
    dates = CallDates(r"_(?P<date>\d{8})_", {"mapped.wav": "2022-01-02", "call_20240307_0915.wav": "1999-01-01"})
    assert dates(named) == ("2024-03-07", "name")  # the name wins over the map
    assert dates(mapped) == ("2022-01-02", "agent-map")
    assert dates(plain) == ("2023-05-06", "modified")
    assert dates(Path(tmp_path / "missing.wav")) == (None, "unknown")
    with pytest.raises(ConfigError, match="named group 'date'"):
        CallDates(r"_(\d{8})_")
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        CallDates(r"(?P<date>")
    with pytest.raises(ConfigError, match=r"call_20249999_1\.wav.*not a date"):
        CallDates(r"_(?P<date>\d{8})_")(tmp_path / "call_20249999_1.wav")


def test_agent_map_date_column_is_optional_and_checked(tmp_path):
    from pathlib import Path

    side = tmp_path / "map.csv"
    side.write_text("file,agent,date\nx.wav,dave,20240102\ny.wav,erin,\n")
    who = AgentIdentity(sidecar=side)
    assert who(Path("x.wav")) == "dave" and who(Path("y.wav")) == "erin"
    assert who.dates == {"x.wav": "2024-01-02"}
    side.write_text("file,agent,date\nx.wav,dave,2024-01-02\ny.wav,erin,02/01/2024\n")
    with pytest.raises(ConfigError, match=r"line 3: date '02/01/2024' is not a date"):
        AgentIdentity(sidecar=side)


def test_summary_dates_and_resume_repairs_missing_outputs_without_analyzing_again(calls, tmp_path):
    import os

    (calls / "bob" / "broken.wav").unlink()
    out = tmp_path / "out"
    side = tmp_path / "map.csv"
    side.write_text("file,agent,date\ncall1.wav,alice,2024-02-03\n")
    base = ["analyze", str(calls), "-r", "--json", str(out), "--agent-map", str(side), "-q"]
    assert CliRunner().invoke(app, base).exit_code == 0
    results = sorted(out.rglob("*.json"))
    assert len(results) == 3
    before = {p: p.stat().st_mtime_ns for p in results}
    # an older run: the call's recording is newer than its result, so it is analyzed again
    redo = out / "alice" / "call0.json"
    old = os.stat(calls / "alice" / "call0.wav").st_mtime - 60
    os.utime(redo, (old, old))
    before[redo] = redo.stat().st_mtime_ns
    res = CliRunner().invoke(
        app,
        [
            *base,
            "--skip-existing",
            "--html",
            str(out),
            "--summary",
            str(out / "summary.csv"),
            "--date-from",
            r"/(?P<date>\d{4}-\d{2}-\d{2})/",  # matches no path here: the map, then the file's day
        ],
    )
    assert res.exit_code == 0, res.output
    changed = sorted(str(p.relative_to(out)) for p in results if p.stat().st_mtime_ns != before[p])
    assert changed == ["alice/call0.json"]
    assert sorted(str(p.relative_to(out)) for p in out.rglob("call*.html")) == [
        "alice/call0.html",
        "alice/call1.html",
        "bob/call0.html",
    ]
    rows = {r["source"].split("calls/")[1]: r for r in csv.DictReader((out / "summary.csv").open())}
    import datetime

    today = datetime.date.fromtimestamp((calls / "bob" / "call0.wav").stat().st_mtime).isoformat()
    assert {k: r["date"] for k, r in rows.items()} == {
        "alice/call0.wav": today,
        "alice/call1.wav": "2024-02-03",
        "bob/call0.wav": today,
    }


def test_skip_existing_needs_json_and_the_backend_is_checked(tmp_path):
    res = CliRunner().invoke(app, ["analyze", str(tmp_path / "x.wav"), "--skip-existing", "--html", str(tmp_path)])
    assert res.exit_code == 2 and "--skip-existing needs --json" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = CliRunner().invoke(app, ["analyze", str(tmp_path / "x.wav"), "--backend", "spark"])
    assert res.exit_code == 2 and "--backend 'spark': must be local or ray" in res.output
    res = CliRunner().invoke(app, ["analyze", str(tmp_path / "x.wav"), "--ray-address", "auto"])
    assert res.exit_code == 2 and "--ray-address needs --backend ray" in res.output


def test_ray_backend_without_ray_says_how_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    res = CliRunner().invoke(app, ["analyze", str(tmp_path / "x.wav"), "--backend", "ray"])
    assert res.exit_code == 2
    assert res.output.strip() == (
        "voice-coach: error: --backend ray needs Ray, an optional extra: pip install 'voice-coach[ray]'"
    )


# --- where Whisper runs -------------------------------------------------------------------------


def test_device_resolution(monkeypatch):
    from voice_coach.asr import model
    from voice_coach.errors import ModelError

    assert model.resolve_device("auto", None, gpus=0) == ("cpu", "int8")
    assert model.resolve_device("auto", None, gpus=2) == ("cuda", "float16")
    assert model.resolve_device("cuda", "int8_float16", gpus=1) == ("cuda", "int8_float16")
    assert model.resolve_device("cpu", "float32", gpus=1) == ("cpu", "float32")
    with pytest.raises(ModelError, match="--device cuda: the Ray cluster has no GPU"):  # a cluster's count
        model.resolve_device("cuda", None, gpus=0)
    with pytest.raises(ConfigError, match="--compute-type float16: not supported on this CPU"):
        model.resolve_device("cpu", "float16", gpus=0)
    with pytest.raises(ConfigError, match="--compute-type 'int4': must be one of"):
        model.resolve_device("cpu", "int4")
    with pytest.raises(ConfigError, match="--device 'tpu': must be one of auto, cpu, cuda"):
        model.resolve_device("tpu")
    # without a count given, CTranslate2 is asked
    monkeypatch.setattr(model, "cuda_device_count", lambda: 1)
    assert model.resolve_device("auto") == ("cuda", "float16")
    monkeypatch.setattr(model, "cuda_device_count", lambda: 0)
    assert model.resolve_device("auto") == ("cpu", "int8")


def test_config_device_is_checked_and_resolved():
    from voice_coach.asr.model import resolve_config_device
    from voice_coach.config import Config

    cfg = Config.from_dict({"transcription": {"device": "auto"}})
    done = resolve_config_device(cfg, gpus=0)
    assert (done.transcription.device, done.transcription.compute_type) == ("cpu", "int8")
    assert resolve_config_device(done, gpus=0) is done
    with pytest.raises(ConfigError, match=r"\[transcription\] device = .*must be one of auto, cpu, cuda"):
        Config.from_dict({"transcription": {"device": "gpu"}})


@pytest.mark.parametrize("command", ["analyze", "live"])
def test_cuda_without_a_gpu_fails_at_once_in_one_line(command, monkeypatch, samples_dir):
    from voice_coach.asr import model

    monkeypatch.setattr(model, "cuda_device_count", lambda: 0)
    sample = str(samples_dir / "jfk.flac")
    args = ["analyze", sample, "--device", "cuda"] if command == "analyze" else ["live", "--replay", sample]
    if command == "live":
        args += ["--asr-device", "cuda", "--duration", "1", "-q"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    flag = "--device" if command == "analyze" else "--asr-device"  # live's --device is the microphone
    assert len(lines) == 1 and f"{flag} cuda: CTranslate2 sees no CUDA GPU" in lines[0]


def test_results_record_the_device_and_compute_type(tmp_path, samples_dir):
    import json

    out = tmp_path / "r.json"
    res = CliRunner().invoke(
        app, ["analyze", str(samples_dir / "stereo_diarization.wav"), "--device", "cpu", "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    t = json.loads(out.read_text())["config"]["transcription"]
    assert (t["device"], t["compute_type"]) == ("cpu", "int8")


# --- Ray: how many workers, and what each asks for ----------------------------------------------


def test_ray_actor_plan():
    from voice_coach.app.ray_backend import ActorPlan, plan_actors

    # one one-thread worker per CPU by default; N workers share the CPUs, never beyond a node
    assert plan_actors(workers=None, device="cpu", node_cpus=[2]) == ActorPlan(2, 1, 0.0)
    assert plan_actors(workers=2, device="cpu", node_cpus=[2]) == ActorPlan(2, 1, 0.0)
    assert plan_actors(workers=1, device="cpu", node_cpus=[2]) == ActorPlan(1, 2, 0.0)
    assert plan_actors(workers=2, device="cpu", node_cpus=[32] * 4) == ActorPlan(2, 32, 0.0)
    assert plan_actors(workers=None, device="cuda", node_cpus=[32, 32], total_gpus=4) == ActorPlan(4, 1, 1.0)
    assert plan_actors(workers=8, device="cuda", node_cpus=[32, 32], total_gpus=4) == ActorPlan(8, 1, 0.5)
    # never more actors than the nodes hold: one that no node can take would wait for ever
    assert plan_actors(workers=4, device="cpu", node_cpus=[2]) == ActorPlan(2, 1, 0.0)
    assert plan_actors(workers=2, device="cpu", node_cpus=[5, 1]) == ActorPlan(2, 2, 0.0)  # not 3 each: one fits
    assert plan_actors(workers=3, device="cpu", node_cpus=[2, 2]) == ActorPlan(3, 1, 0.0)
    assert plan_actors(workers=8, device="cuda", node_cpus=[2, 2], total_gpus=8) == ActorPlan(4, 1, 1.0)
    assert plan_actors(workers=8, device="cuda", node_cpus=[2, 2], total_gpus=4) == ActorPlan(4, 1, 1.0)  # all GPUs


def test_ray_address_where_nothing_answers_is_one_line(tmp_path, samples_dir):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]' (.ci/run installs it)")
    args = ["analyze", str(samples_dir / "jfk.flac"), "--backend", "ray", "--ray-address", "127.0.0.1:1"]
    res = CliRunner().invoke(app, [*args, "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        "voice-coach: error: --ray-address 127.0.0.1:1: nothing answers there (Connection refused); "
        "is the cluster's head running ('ray start --head')?"
    ]
    assert not (tmp_path / "r.json").exists()


@pytest.mark.slow
def test_ray_address_where_something_else_answers_says_so_once(tmp_path):
    """Where something other than a Ray head answers, Ray retries for minutes and its C++ core logs
    each try to file descriptor 2; joining holds those lines back and says once that it is still
    trying (after ``NOTICE_AFTER_S``, 1 s here)."""
    import socket
    import subprocess
    import sys
    import threading
    import time

    pytest.importorskip("ray", reason="Ray is an optional extra: pip install -e '.[ray]' (.ci/run installs it)")
    server = socket.create_server(("0.0.0.0", 0))  # Ray dials the node's own address, not only loopback
    port = server.getsockname()[1]

    def answer() -> None:  # accepts and hangs up: not a Ray cluster
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    script = (
        "import ray; from voice_coach.app import ray_backend as rb; rb.NOTICE_AFTER_S = 1.0; "
        f"rb.connect(ray, '127.0.0.1:{port}')"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()
        time.sleep(7.0)  # Ray logs its first failed try 5 s in
    finally:
        proc.kill()
        rest = proc.communicate()[1]
        server.close()
    assert first == (
        f"voice-coach: still joining the Ray cluster at 127.0.0.1:{port}; Ray keeps trying (Ctrl-C stops)\n"
    )
    assert rest == ""  # Ray's lines were held back (and dropped with the process)


def test_stderr_held_holds_only_what_bypasses_python():
    """What is written straight to descriptor 2 (Ray's C++ core) is held: written out after a block
    that succeeds, dropped after one that fails. Python's own stderr goes out at once; the notice
    comes once when the block is slow; descriptor 2 is back afterwards."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import os, sys, time
        from voice_coach.app.ray_backend import _stderr_held
        with _stderr_held("slow", 60):
            os.write(2, b"C++ line 1\\n")
            print("python line", file=sys.stderr, flush=True)
        try:
            with _stderr_held("slow", 60):
                os.write(2, b"C++ retry\\n")
                raise ConnectionError
        except ConnectionError:
            print("failed", file=sys.stderr, flush=True)
        with _stderr_held("still trying", 0.2):
            time.sleep(0.6)
        os.write(2, b"after\\n")
        """
    )
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stderr.splitlines() == ["python line", "C++ line 1", "failed", "voice-coach: still trying", "after"]


# --- local workers: one that dies does not take the queued calls with it ---------------------------


def _die_on_poison(job):
    """Runs in a spawned worker: the process dies on ``poison.wav``, other calls succeed."""
    from voice_coach.app.batch import FileOutcome

    if job.path.name == "poison.wav":
        os._exit(1)
    return FileOutcome(job.path, None, {"source": job.path.name})


def test_a_dying_worker_is_retried_and_only_its_call_fails(tmp_path):
    from voice_coach.app.batch import LOCAL_ATTEMPTS, Job, _run_local

    names = ["a.wav", "poison.wav", "b.wav", "c.wav", "d.wav"]
    jobs = [Job(path=tmp_path / n, agent=None, outputs={}, options={}) for n in names]
    outcomes = list(_run_local(jobs, workers=2, keep_results=False, progress=None, target=_die_on_poison))
    by_name = {o.path.name: o for o in outcomes}
    assert sorted(by_name) == sorted(names) and len(outcomes) == len(names)  # each call reported once
    assert by_name["poison.wav"].error.endswith(f"died {LOCAL_ATTEMPTS} times")
    for n in names:
        if n != "poison.wav":
            assert by_name[n].error is None and by_name[n].row == {"source": n}


# --- a worker ends with its driver -----------------------------------------------------------------


def test_a_worker_ends_when_the_driver_is_gone_even_as_a_zombie():
    """``exit_with_driver`` as a Ray worker on the driver's machine uses it: the driver is not its
    parent, and a driver killed but not yet reaped (a zombie) counts as gone."""
    import signal
    import subprocess
    import sys
    import time

    driver = subprocess.Popen(["sleep", "60"])  # stands for the driver; this test process is its parent
    watch = (
        "import sys, time; from voice_coach.app.batch import exit_with_driver; "
        f"exit_with_driver({driver.pid}); print('watching', flush=True); time.sleep(60); sys.exit(7)"
    )
    worker = subprocess.Popen([sys.executable, "-c", watch], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline() == "watching\n"
        time.sleep(0.5)
        assert worker.poll() is None  # the driver is there: the worker runs on
        driver.send_signal(signal.SIGKILL)  # not reaped: a zombie until driver.wait()
        time.sleep(0.1)
        assert os.path.exists(f"/proc/{driver.pid}")  # still a zombie
        assert worker.wait(timeout=5) == 1  # os._exit(1) by the watch, long before its own exit (7)
        assert worker.stderr.read() == ""  # not a traceback
    finally:
        worker.kill()
        driver.wait()
