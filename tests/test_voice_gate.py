"""The live voice filter (voices.gate.VoiceGate): on a mono mix of the shipped two-voice call, the agent's
voice print keeps the agent and silences the customer; the customer's voice print does the opposite; the
live path and the CLI turn it on only with one channel and a voice print, and say what it did."""

import json

import numpy as np
import pytest
from conftest import SAMPLES
from typer.testing import CliRunner

from voice_coach.app.calibrate import calibrate_files
from voice_coach.app.live import _voice_gate, run_live
from voice_coach.cli.main import app
from voice_coach.sources.decode import load_audio
from voice_coach.voices.gate import LEVEL_OFFSET_DB, VoiceGate

SR = 16000
LEAK = 10 ** (-12 / 20)
"""The customer reaches the agent's microphone 12 dB below their own level (a caller leaking from the headset)."""
LIVE_S = 36.0
"""The live tests replay the first 36 s of the mix: six agent and five customer turns, calm and then tense."""


@pytest.fixture(scope="module")
def call(tmp_path_factory):
    """The call's two channels mixed to mono (left: agent, right: customer 12 dB down), its truth, two profiles:
    the agent's from the calm first 20 s of samples/calm_then_rushed.wav (the same espeak voice, other
    sentences), the customer's from the right channel."""
    folder = tmp_path_factory.mktemp("gate")
    import soundfile as sf

    stereo = load_audio(SAMPLES / "call_stereo.wav")
    mono = folder / "mono.wav"
    mix = (stereo[0] + LEAK * stereo[1]).astype(np.float32)
    sf.write(mono, mix, SR, subtype="PCM_16")
    mono_live = folder / "mono_live.wav"
    sf.write(mono_live, mix[: int(LIVE_S * SR)], SR, subtype="PCM_16")
    agent_cal = folder / "agent_cal.wav"
    sf.write(agent_cal, load_audio(SAMPLES / "calm_then_rushed.wav")[0, : 20 * SR], SR, subtype="PCM_16")
    customer_cal = folder / "customer_cal.wav"
    sf.write(customer_cal, stereo[1], SR, subtype="PCM_16")
    truth = json.loads((SAMPLES / "call_stereo.truth.json").read_text())["utterances"]
    profiles = {"agent": calibrate_files([agent_cal]), "customer": calibrate_files([customer_cal])}
    for name, p in profiles.items():
        assert p.voiceprint is not None, name
        p_path = folder / f"{name}.json"
        from voice_coach.analysis.baseline import save_profile

        save_profile(p, p_path, sources=[name])
    return {"mono": mono_live, "audio": load_audio(mono)[0], "truth": truth, "profiles": profiles, "folder": folder}


def _speaker(truth, a: float, b: float) -> str | None:
    for u in truth:
        if min(b, u["end"]) - max(a, u["start"]) >= 0.5 * (b - a):
            return u["speaker"]
    return None


def _run_gate(call, whose: str, chunk: int = 800, *, voice_only: bool = False):
    """The mix through the gate as the live app makes it from ``whose`` profile; ``voice_only``: without the
    loudness rule (the voice print alone decides)."""
    p = call["profiles"][whose]
    if voice_only:
        gate = VoiceGate(p.voiceprint, level_db=p.loudness_median_db + LEVEL_OFFSET_DB, keep_blocks=True)
    else:
        gate, why = _voice_gate(p, channels=1, wanted=True)
        assert gate is not None, why
        gate.blocks = []  # keep every decision
    x = call["audio"]
    out = np.concatenate([gate.feed(x[i : i + chunk]) for i in range(0, x.size, chunk)] + [gate.flush()])
    silenced = {"agent": 0.0, "customer": 0.0}
    speech = {"agent": 0.0, "customer": 0.0}
    for b in gate.blocks:
        who = _speaker(call["truth"], b.start_s, b.end_s)
        if who is None:
            continue
        speech[who] += b.end_s - b.start_s
        if b.verdict == "other":
            silenced[who] += b.end_s - b.start_s
    return gate, out, {w: silenced[w] / speech[w] for w in speech}


@pytest.fixture(scope="module")
def gated(call):
    """The whole mix through the gate with each voice print (in different chunk sizes)."""
    return {"agent": _run_gate(call, "agent"), "customer": _run_gate(call, "customer", chunk=1234, voice_only=True)}


def test_gate_keeps_the_agent_and_silences_the_customer(call, gated):
    gate, out, silenced = gated["agent"]
    x = call["audio"]
    assert out.shape == x.shape  # nothing lost or added, only delayed
    assert silenced["agent"] <= 0.05, silenced  # the agent is kept
    assert silenced["customer"] >= 0.45, silenced  # about half the customer is dropped
    # silenced blocks are zeros; every other block is the input, unchanged
    for b in gate.blocks:
        a, e = int(round(b.start_s * SR)), int(round(b.end_s * SR))
        if b.verdict == "other":
            assert not out[a:e].any()
        else:
            np.testing.assert_array_equal(out[a:e], x[a:e])
    stats = gate.stats
    assert stats.other_s > 10.0 and stats.windows > 100
    assert stats.agent_s + stats.other_s + stats.unsure_s == pytest.approx(stats.speech_s)
    # the silenced speech as stretches (what the live session reports): in order, apart, covering every
    # silenced speech block, and mostly the customer's
    stretches = gate.take_silenced(final=True)
    assert gate.take_silenced(final=True) == []
    assert all(a < b for a, b, _ in stretches)
    assert all(b1 <= a2 for (_, b1, _), (a2, _, _) in zip(stretches, stretches[1:], strict=False))
    for b in gate.blocks:
        if b.verdict == "other" and b.similarity is not None:  # a judged block of speech, not a tail
            assert any(a <= b.start_s and b.end_s <= e for a, e, _ in stretches)
    customer_s = sum(e - a for a, e, _ in stretches if _speaker(call["truth"], a, e) == "customer")
    assert customer_s >= 0.8 * sum(e - a for a, e, _ in stretches)
    sims = [s for _, _, s in stretches if s is not None]
    assert sims and max(sims) < gate.threshold


def test_the_voice_print_decides_whose_speech_stays(gated):
    """The same mix judged by the customer's voice print alone (the agent, 12 dB louder than the customer,
    would be kept for loudness): now the agent's speech is the one silenced."""
    by_agent, by_customer = gated["agent"][2], gated["customer"][2]
    assert by_customer["customer"] < by_agent["customer"] - 0.3
    assert by_customer["agent"] > by_customer["customer"] + 0.1
    assert by_customer["agent"] > by_agent["agent"] + 0.1


def test_gate_output_does_not_depend_on_chunk_sizes(call):
    p = call["profiles"]["agent"]
    x = call["audio"][: 12 * SR]
    outs = []
    for chunk in (160, 3000, 7777):
        gate = VoiceGate(p.voiceprint, level_db=p.loudness_median_db + LEVEL_OFFSET_DB)
        outs.append(np.concatenate([gate.feed(x[i : i + chunk]) for i in range(0, x.size, chunk)] + [gate.flush()]))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])


def test_gate_holds_at_most_a_block_and_hold_s():
    """No sample waits longer than for its block to fill plus ``hold_s`` (in whole blocks)."""
    x = load_audio(SAMPLES / "jfk.flac")[0, : 6 * SR]
    x = np.concatenate([np.zeros(SR, np.float32), x])
    gate = VoiceGate(np.random.default_rng(0).normal(size=256), hold_s=0.25, keep_blocks=True)
    block = 0.192  # hold_s counts whole blocks: 0.25 s waits two
    most = 0.0
    for i in range(0, x.size, 400):
        gate.feed(x[i : i + 400])
        most = max(most, gate.held_s)
    assert block < most <= block + 2 * block + 1e-9
    assert gate.blocks[0].verdict == "silence" and gate.stats.speech_s > 2.0
    with pytest.raises(ValueError):
        VoiceGate(np.zeros(256))


def test_live_replay_filters_with_a_voice_print_and_not_without(call, tmp_path):
    def replay(name: str, path=call["mono"], **kwargs):
        return run_live(
            replay=path,
            replay_speed=200.0,
            profile=call["profiles"]["agent"],
            transcribe=False,
            json_path=tmp_path / f"{name}.json",
            **kwargs,
        )

    seen: list = []
    on = replay("on", on_event=seen.append)
    vf = on.result["live"]["voice_filter"]
    assert vf["on"] and vf["other_s"] > 2.0 and vf["why"].startswith("on")
    # each silenced stretch is in the result and was an event, raised once the stretch had ended
    assert vf["silenced"] and sum(s["end"] - s["start"] for s in vf["silenced"]) >= vf["other_s"] - 0.01
    filtered = [e for e in seen if e.type == "voice_filtered"]
    assert [(round(e.start_s, 3), round(e.end_s, 3)) for e in filtered] == [
        (s["start"], s["end"]) for s in vf["silenced"]
    ]
    assert all(e.t >= e.end_s for e in filtered)
    assert on.result["duration_s"] == pytest.approx(LIVE_S, abs=0.01)
    off = replay("off", voice_filter=False)
    assert off.result["live"]["voice_filter"] == {"on": False, "why": "off: --no-voice-filter"}
    # the customer's turns count as the agent's talk time only without the filter
    talk_on, talk_off = (r.result["agent"]["summary"]["talk_time_s"] for r in (on, off))
    assert talk_on < talk_off - 2.0
    stereo = replay("stereo", SAMPLES / "call_stereo.wav", duration_s=3.0)
    assert stereo.result["live"]["voice_filter"]["on"] is False


@pytest.mark.slow
def test_live_cli_voice_filter_flag(call, tmp_path):
    import soundfile as sf

    short = tmp_path / "short.wav"
    sf.write(short, call["audio"][int(4.0 * SR) : int(12.0 * SR)], SR, subtype="PCM_16")
    out = tmp_path / "live.json"
    profile = call["folder"] / "agent.json"
    res = CliRunner().invoke(
        app, ["live", "--replay", str(short), "--profile", str(profile), "--quiet", "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    vf = json.loads(out.read_text())["live"]["voice_filter"]
    assert vf["on"] and vf["other_s"] > 1.0
    assert "voice filter on" in res.output
    help_text = CliRunner().invoke(app, ["live", "--help"], env={"COLUMNS": "200"}).output
    assert "--no-voice-filter" in help_text
