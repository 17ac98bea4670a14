"""The live path: a real-time source through the same engine, the events file, the CLI command."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from conftest import SAMPLES
from typer.testing import CliRunner

from voice_coach.app.analyze import analyze_file
from voice_coach.app.live import Clock, EventsWriter, LiveSession, ReplaySource, run_live
from voice_coach.asr.transcribe import AsyncTranscriber
from voice_coach.cli.main import app
from voice_coach.engine.core import Engine
from voice_coach.output.live_view import ViewState, render
from voice_coach.output.result import build_result

SAMPLE = SAMPLES / "calm_then_rushed.wav"


class Collect:
    def __init__(self):
        self.items = []

    def handle(self, event, lag_s):
        self.items.append((event, lag_s))

    def close(self):
        pass


def test_live_and_file_paths_give_the_same_warnings():
    """One engine: the same audio replayed 20x faster than real time (so the transcriber falls
    behind and skips) gives the same warnings as the file path, because prosody never waits."""
    file_result = analyze_file(SAMPLE, transcribe=False, speakers="1")  # one voice, as live
    engine = Engine()
    collect = Collect()
    with ReplaySource(SAMPLE, speed=20.0) as source:
        end = LiveSession(engine=engine, source=source, consumers=[collect]).run()
    assert end.reason == "end of replayed file"
    live_result = build_result(engine, source="replay", model="none")
    assert file_result["warnings"], "the sample should raise a warning"
    assert [w["kind"] for w in live_result["warnings"]] == [w["kind"] for w in file_result["warnings"]]
    for a, b in zip(live_result["warnings"], file_result["warnings"], strict=True):
        assert abs(a["start"] - b["start"]) <= 1.0
    types = [e.type for e, _ in collect.items]
    assert types[0] == "started" and types[-1] == "stopped"
    assert "warning" in types and "metrics" in types


def test_events_file_lines_have_type_t_and_lag(tmp_path):
    path = tmp_path / "ev.jsonl"
    writer = EventsWriter(path)
    engine = Engine()
    with ReplaySource(SAMPLE, speed=30.0) as source:
        LiveSession(engine=engine, source=source, consumers=[writer], duration_s=20.0).run()
    writer.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0]["type"] == "started" and lines[-1]["type"] == "stopped"
    assert all({"type", "t", "lag_s"} <= set(e) for e in lines)
    metrics = [e for e in lines if e["type"] == "metrics"]
    assert len(metrics) >= 2 * 20 - 2
    assert {"wpm", "syllables_per_s", "pitch_hz", "pitch_st", "loudness_db", "agitation"} <= set(metrics[0])
    assert max(e["t"] for e in lines) == pytest.approx(20.0, abs=0.1)


def test_clock_lag():
    clock = Clock()
    clock.update(10.0, capture_monotonic=100.0)
    assert clock.lag_s(10.0, now=100.3) == pytest.approx(0.3)
    assert clock.lag_s(8.0, now=100.3) == pytest.approx(2.3)


def test_view_shows_one_cue_and_calm_again():
    from voice_coach.engine.events import BaselineReady, Metrics, WarningEnded, WarningStarted

    state = ViewState()
    state.handle(BaselineReady(6.0, "agent", "self-calibrated", {}))
    state.handle(Metrics(6.5, "agent", 140.0, 4.2, 120.0, 0.3, -30.0, 0.5, 0.1, True))
    assert state.warning is None and "CALM" in render(state).renderable.renderables[0].plain
    state.handle(WarningStarted(9.0, "agent", "loud", "Lower your voice", 7.0))
    assert "LOWER YOUR VOICE" in render(state).renderable.renderables[0].plain
    state.handle(WarningEnded(14.0, "agent", "loud", 7.0, 12.5))
    assert state.warning is None and state.calm_since == 14.0


@pytest.mark.slow
def test_live_replay_cli_writes_result_events_and_transcribes(tmp_path):
    # the first 7.8 s of the recording (it is replayed in real time), to "... your country can do for you"
    y, sr = sf.read(str(SAMPLES / "jfk.flac"), dtype="float32")
    sf.write(str(tmp_path / "jfk.flac"), y[: int(7.8 * sr)], sr, subtype="PCM_24")
    events, out = tmp_path / "ev.jsonl", tmp_path / "live.json"
    res = CliRunner().invoke(
        app, ["live", "--replay", str(tmp_path / "jfk.flac"), "--quiet", "--events", str(events), "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    assert result["schema_version"] == 1 and result["live"]["stop_reason"] == "end of replayed file"
    text = " ".join(w["text"] for w in result["agent"]["words"]).lower()
    assert "country" in text
    word_events = [json.loads(line) for line in events.read_text().splitlines() if '"words"' in line]
    assert word_events and all(e["lag_s"] < 5 for e in word_events)


def test_live_rejects_bad_options(tmp_path):
    res = CliRunner().invoke(app, ["live", "--replay", str(SAMPLE), "--record", str(tmp_path / "no" / "r.wav")])
    assert res.exit_code != 0 and "does not exist" in res.output
    res = CliRunner().invoke(app, ["live", "--replay", str(tmp_path / "missing.wav"), "--quiet"])
    assert res.exit_code != 0 and "no such file" in res.output and "Traceback" not in res.output


class ExplodingTranscriber:
    """A transcriber whose work (done in AsyncTranscriber's worker thread) raises after ``after_s``."""

    def __init__(self, after_s: float = 1.0):
        self.after_n = int(after_s * 16000)
        self.fed = 0

    def insert_audio(self, audio):
        self.fed += len(audio)

    def process(self):
        if self.fed >= self.after_n:
            raise RuntimeError("model exploded")
        return []

    def finish(self):
        return self.process()


def exploding_factory(_speaker):
    return AsyncTranscriber(ExplodingTranscriber(), max_backlog_s=6.0)


def test_session_finishes_the_engine_when_the_asr_worker_fails():
    engine = Engine(transcriber=exploding_factory)
    collect = Collect()
    with ReplaySource(SAMPLE, speed=50.0) as source:
        end = LiveSession(engine=engine, source=source, consumers=[collect]).run()
    assert end.reason == "transcription error"
    assert end.error == "transcription failed (agent): model exploded"
    assert engine.finished and 1.0 <= engine.t < 10.0, engine.t  # stopped soon after the failure
    types = [e.type for e, _ in collect.items]
    assert types[0] == "started" and types[-1] == "stopped"
    assert "metrics" in types


def test_run_live_writes_result_and_recording_when_the_asr_worker_fails(tmp_path):
    out, rec = tmp_path / "live.json", tmp_path / "live.wav"
    run = run_live(replay=SAMPLE, replay_speed=50.0, transcriber=exploding_factory, record=rec, json_path=out)
    assert run.end.error == "transcription failed (agent): model exploded" and run.json_path == out
    result = json.loads(out.read_text())
    assert result["live"].pop("voice_filter") == {"on": False, "why": "off: no --profile"}
    assert result["live"] == {"overflows": 0, "stop_reason": "transcription error", "record": str(rec)}
    heard_s = result["duration_s"]
    audio, sr = sf.read(str(rec))
    assert sr == 16000 and len(audio) / sr == pytest.approx(heard_s, abs=0.06) and heard_s >= 1.0
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0.01  # the call's audio, not silence


def test_live_cli_reports_an_asr_failure_in_one_line_and_exits_non_zero(tmp_path, monkeypatch):
    import voice_coach.app.live as live

    monkeypatch.setattr(live, "live_transcriber_factory", lambda model, config: exploding_factory)
    out, rec = tmp_path / "live.json", tmp_path / "live.wav"
    res = CliRunner().invoke(
        app, ["live", "--replay", str(SAMPLE), "--quiet", "--json", str(out), "--record", str(rec), "--duration", "8"]
    )
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    errors = [line for line in res.output.splitlines() if "error:" in line]
    assert errors == ["voice-coach: error: transcription failed (agent): model exploded"]
    assert json.loads(out.read_text())["live"]["stop_reason"] == "transcription error"
    assert sf.info(str(rec)).frames >= 16000  # the failure came after 1 s of audio


def test_entry_points_are_exported_lazily():
    import voice_coach
    import voice_coach.app.analyze
    import voice_coach.app.live

    assert voice_coach.run_live is voice_coach.app.live.run_live
    assert voice_coach.analyze_file is voice_coach.app.analyze.analyze_file
    code = "import sys, voice_coach; print(*(m in sys.modules for m in ('voice_coach.app.live', 'voice_coach.engine')))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == ["False"] * 2
