"""Typed contracts: the engine's events and outputs, the result built from them alone, the published
JSON Schema (and its version check when a result is read back), and the diagnostics counts."""

import dataclasses
import json
import typing
from importlib import resources

import jsonschema
import numpy as np
import pytest
from conftest import validate_result
from signals import silence, voice
from typer.testing import CliRunner

from voice_coach.cli.main import app
from voice_coach.engine.core import ChannelMap, Engine
from voice_coach.engine.events import Event, PhraseSpotted, Word
from voice_coach.engine.outputs import EngineOutputs
from voice_coach.output.report._result import READABLE_SCHEMA_VERSION, result_problem
from voice_coach.output.result import SCHEMA_PATH, SCHEMA_VERSION, build_result

EVENT_TYPES = typing.get_args(Event)
runner = CliRunner()


class ScriptedTranscriber:
    """A transcriber that commits given words at the end and reports loop drops and skipped audio."""

    def __init__(self, words, *, dropped_loop_words=0, status=()):
        self.words, self.dropped_loop_words, self.status = list(words), dropped_loop_words, list(status)

    def insert_audio(self, audio):
        pass

    def process(self):
        return []

    def finish(self):
        return self.words


WORDS = [
    Word(1.0 + 0.3 * i, 1.25 + 0.3 * i, w)
    for i, w in enumerate(["I", "understand", "how", "frustrating", "this", "is"])
]


def _run(y, **kw):
    eng = Engine(**kw)
    events = eng.start()
    y = y if y.ndim == 2 else y[None, :]
    for i in range(0, y.shape[1], 3200):
        events += eng.feed(y[:, i : i + 3200])
    events += eng.finish()
    return eng, events


@pytest.fixture(scope="module")
def call():
    """Two voices, the agent's words scripted, so that phrases, events and warnings all occur."""
    agent = np.concatenate([voice(8, f0_hz=120, level_db=-30, syllables_per_s=4), silence(10)])
    customer = np.concatenate([silence(9), voice(9, f0_hz=210, level_db=-28, syllables_per_s=4, seed=2)])
    transcriber = {"agent": ScriptedTranscriber(WORDS, dropped_loop_words=3, status=[("skipped", 2.0, 1.5)])}
    return _run(np.stack([agent, customer]), channels=ChannelMap(0, 1), transcriber=transcriber.get)


def test_engine_returns_typed_events(call):
    eng, events = call
    assert events and all(isinstance(e, EVENT_TYPES) for e in events)
    assert events[0].type == "started" and events[-1].type == "stopped"


def test_result_is_built_from_the_public_outputs_alone(call):
    eng, events = call
    out = eng.outputs()
    assert isinstance(out, EngineOutputs)
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.duration_s = 0.0  # type: ignore[misc]
    before = build_result(eng, source="s", model="none")
    kept = eng.analyzers, eng.dynamics, eng.spotter
    eng.analyzers, eng.dynamics, eng.spotter = {}, None, None  # nothing is read once the outputs exist
    try:
        assert build_result(out, source="s", model="none") == before
    finally:
        eng.analyzers, eng.dynamics, eng.spotter = kept


def test_phrases_are_the_ones_the_spotter_emitted(call):
    eng, events = call
    spotted = [e for e in events if isinstance(e, PhraseSpotted)]
    assert spotted, "the scripted words hold an empathy phrase"
    result = build_result(eng.outputs(), source="s", model="none")
    assert [(p["category"], p["start"], p["end"]) for p in result["phrases"]] == [
        (e.category, round(e.start_s, 3), round(e.end_s, 3)) for e in spotted
    ]
    marked = [s for s in result["agent"]["timeline"] if s["phrase"]]
    assert marked and all("phrase" not in s for s in result["customer"]["timeline"])


def test_diagnostics_count_what_was_dropped_or_skipped(call):
    eng, _ = call
    eng.padded_s = 0.25  # the live app sets it from DualSource.padded_s
    try:
        d = build_result(eng.outputs(), source="s", model="none")["diagnostics"]
    finally:
        eng.padded_s = 0.0  # the engine is shared with other tests
    assert d == {
        "dropped_loop_words": 3,
        "dropped_leak_words": eng.dropped_leak_words,
        "asr_skipped_s": 1.5,
        "padded_s": 0.25,
    }


def test_a_file_without_transcriber_reports_zero_drops():
    eng, _ = _run(voice(3, f0_hz=120, level_db=-30, syllables_per_s=4))
    assert build_result(eng, source="s", model="none")["diagnostics"] == {
        "dropped_loop_words": 0,
        "dropped_leak_words": 0,
        "asr_skipped_s": 0.0,
        "padded_s": 0.0,
    }


def test_schema_is_package_data_and_matches_the_version():
    shipped = resources.files("voice_coach.output").joinpath("result.schema.json")
    schema = json.loads(shipped.read_text(encoding="utf-8"))
    assert schema == json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"] == {"const": SCHEMA_VERSION} == {"const": READABLE_SCHEMA_VERSION}


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r.pop("diagnostics"),
        lambda r: r["agent"]["timeline"][0].update(agitation=float("nan")),
        lambda r: r["warnings"].append({"start": 1.0}),
        lambda r: r.update(schema_version=2),
        lambda r: r["agent"]["summary"].update(word_count=-1),
    ],
)
def test_the_schema_check_can_fail(call, damage):
    result = build_result(call[0].outputs(), source="s", model="none")
    validate_result(result)
    damage(result)
    with pytest.raises(jsonschema.ValidationError):
        validate_result(result)


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda r: r.update(schema_version=2), "schema_version 2 is newer than this voice-coach reads (1)"),
        (lambda r: r.pop("schema_version"), "no schema_version"),
        (lambda r: r.update(schema_version="1"), "schema_version '1' is not one this voice-coach reads"),
    ],
)
def test_report_refuses_a_newer_or_unversioned_result(call, tmp_path, edit, fragment):
    result = build_result(call[0].outputs(), source="s", model="none")
    edit(result)
    src = tmp_path / "r.json"
    src.write_text(json.dumps(result))
    res = runner.invoke(app, ["report", str(src), "--html", str(tmp_path / "o.html")])
    assert res.exit_code != 0, res.output
    assert res.output.strip().count("\n") == 0 and fragment in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o.html").exists()


def test_result_problem_accepts_a_current_result(call):
    assert result_problem(build_result(call[0].outputs(), source="s", model="none")) is None


def test_calibrate_goes_through_the_engine(monkeypatch, wav_writer):
    import voice_coach.app.calibrate as calibrate

    made = []

    class Spy(Engine):
        def __init__(self, **kw):
            super().__init__(**kw)
            made.append(kw)

    monkeypatch.setattr(calibrate, "Engine", Spy)
    path = wav_writer("calm.wav", voice(6, f0_hz=120, level_db=-30, syllables_per_s=4))
    baseline = calibrate.calibrate_files([path])
    assert baseline.source == "profile" and baseline.pitch_median_hz == pytest.approx(120, rel=0.05)
    assert len(made) == 1 and made[0]["transcriber"] is None and made[0]["calibrating"] is True
    assert made[0]["channels"] == ChannelMap(0, None)
