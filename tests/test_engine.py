import json

import numpy as np
import pytest
from signals import SR, silence, voice

from voice_coach.analysis.baseline import Baseline
from voice_coach.engine.core import ChannelMap, Engine
from voice_coach.output.result import build_result, to_csv, to_json


def run(y, *, chunk=1600, profile=None, channels=ChannelMap()):
    eng = Engine(profile=profile, channels=channels)
    events = []
    if y.ndim == 1:
        y = y[None, :]
    for i in range(0, y.shape[1], chunk):
        events += eng.feed(y[:, i : i + chunk])
    events += eng.finish()
    return eng, events, build_result(eng, source="synthetic", model="none")


def calm_then(seconds_calm=24, **hot):
    calm = voice(seconds_calm, f0_hz=120, level_db=-30, syllables_per_s=4)
    return np.concatenate(
        [
            calm,
            voice(8, **{"f0_hz": 120, "level_db": -30, "syllables_per_s": 4, "seed": 3, **hot}),
            voice(6, f0_hz=120, level_db=-30, syllables_per_s=4, seed=4),
        ]
    )


@pytest.mark.parametrize(
    "hot, kind",
    [
        ({"level_db": -18}, "loud"),
        ({"f0_hz": 190}, "high_pitch"),
        ({"syllables_per_s": 7}, "fast"),
        ({"level_db": -18, "f0_hz": 190}, "agitated"),
    ],
)
def test_each_behaviour_gives_one_warning_of_its_kind_in_the_right_place(hot, kind):
    _, events, result = run(calm_then(**hot))
    warnings = result["warnings"]
    assert [w["kind"] for w in warnings] == [kind]
    w = warnings[0]
    assert 23.0 <= w["start"] <= 26.0  # the hot part is 24-32 s
    assert 30.0 <= w["end"] <= 34.0
    started = [e for e in events if e.type == "warning"]
    assert started[0].t - 24.0 <= 4.0  # raised within ~2 s sustain + window
    assert w["speaker"] == "agent" and w["message"]


def test_calm_speech_gives_no_warning_and_a_high_calm_score():
    _, _, result = run(voice(40, f0_hz=120, level_db=-30, syllables_per_s=4))
    assert result["warnings"] == []
    assert result["agent"]["summary"]["calm_score"] >= 90
    assert result["agent"]["baseline"]["source"] == "self-calibrated"


def test_chunk_size_does_not_change_the_result():
    y = calm_then(level_db=-18)
    a = run(y, chunk=160)[2]
    b = run(y, chunk=16000 * 3)[2]
    assert a["warnings"] == b["warnings"]
    assert a["agent"]["timeline"] == b["agent"]["timeline"]


def test_profile_is_used_from_the_first_word():
    profile = Baseline(120.0, -30.0, 4.0, "profile")
    y = np.concatenate([voice(8, f0_hz=120, level_db=-18), silence(2)])  # loud from the start
    _, _, result = run(y, profile=profile)
    assert [w["kind"] for w in result["warnings"]] == ["loud"]
    assert result["warnings"][0]["start"] < 1.5
    assert result["agent"]["baseline"]["source"] == "profile"


@pytest.mark.parametrize(
    "signal",
    [
        silence(5),
        np.random.default_rng(0).normal(0, 0.1, SR * 30).astype(np.float32),
        np.clip(voice(30, level_db=-3) * 4, -1, 1),  # clipped speech
        np.zeros(160, np.float32),  # 10 ms
    ],
    ids=["silence", "noise", "clipped", "10ms"],
)
def test_degenerate_inputs_give_no_warnings_and_valid_json(signal):
    _, _, result = run(signal)
    assert result["warnings"] == []
    text = to_json(result)
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)


def test_timeline_invariants():
    y = calm_then(level_db=-18)
    _, events, result = run(y)
    tl = result["agent"]["timeline"]
    t = [e["t"] for e in tl]
    assert len(tl) == int(np.ceil(len(y) / SR / 0.1))
    assert t[0] == pytest.approx(0.05) and all(b - a == pytest.approx(0.1) for a, b in zip(t, t[1:], strict=False))
    assert set(tl[0]) >= {"t", "pitch_hz", "loudness_db", "wpm", "agitation"}
    ag = [e["agitation"] for e in tl if e["agitation"] is not None]
    assert ag and all(0.0 <= a <= 1.0 for a in ag)
    times = [e.t for e in events]
    assert times == sorted(times)
    metrics = [e for e in events if e.type == "metrics"]
    assert len(metrics) >= 2 * (len(y) / SR) - 2  # at least 2 per second


def test_stereo_analyzes_both_voices_and_csv_has_both():
    agent = voice(30, f0_hz=110, level_db=-30)
    customer = np.concatenate([voice(20, f0_hz=210, level_db=-30, seed=5), voice(10, f0_hz=300, level_db=-16, seed=6)])
    eng, _, result = run(np.stack([agent, customer]), channels=ChannelMap.for_input(2, 0))
    assert result["customer"] is not None
    assert [w["kind"] for w in result["warnings"]] == ["customer_agitated"]
    assert result["warnings"][0]["speaker"] == "customer"
    assert result["customer"]["summary"]["pitch_median_hz"] == pytest.approx(225, rel=0.2)
    header = to_csv(result).splitlines()[0].split(",")
    assert (
        "agent_pitch_hz" in header and "customer_agitation" in header and header[-2:] == ["warning", "warning_message"]
    )


def test_channel_map():
    assert ChannelMap.for_input(1, 0).voices() == {"agent": 0}
    assert ChannelMap.for_input(2, 1).voices() == {"agent": 1, "customer": 0}
