"""Warnings on turn-taking speech: known answers on synthetic streams of short bursts.

Each stream is bursts of a voice-like signal shorter than 2 s, separated by pauses (an agent's
turns, with the customer's turns as silence on the agent's channel). No profile: the baseline is
self-calibrated from the calm bursts at the start. The thresholds of the targets are the issue's:
a louder or faster episode is caught within seconds; calm speech is never warned.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from signals import SR, silence, voice

from voice_coach.config import Config
from voice_coach.engine.core import ChannelMap, Engine
from voice_coach.engine.events import WarningStarted

BURST_S = 1.5
PAUSE_S = 1.5
CALM = dict(f0_hz=120.0, level_db=-30.0, syllables_per_s=4.0)


def bursts(n: int, *, seed: int = 0, **style) -> np.ndarray:
    """``n`` bursts of ``BURST_S`` with ``PAUSE_S`` of silence after each."""
    params = {**CALM, **style}
    parts = []
    for i in range(n):
        parts += [voice(BURST_S, seed=seed + i, **params), silence(PAUSE_S)]
    return np.concatenate(parts)


def warnings_of(
    audio: np.ndarray, *, channels: int = 1, config: Config = Config()
) -> tuple[list[WarningStarted], dict]:
    from voice_coach.output.result import build_result

    engine = Engine(config=config, channels=ChannelMap.for_input(channels, 0))
    events = []
    audio = audio if audio.ndim == 2 else audio[None, :]
    for i in range(0, audio.shape[1], SR // 2):
        events += engine.feed(audio[:, i : i + SR // 2])
    events += engine.finish()
    return [e for e in events if isinstance(e, WarningStarted)], build_result(engine, source="synthetic", model="none")


CALM_BURSTS = 12  # 36 s, of which about 12 s voiced: the baseline is ready well before the end
ONSET_S = CALM_BURSTS * (BURST_S + PAUSE_S)


@pytest.mark.parametrize(
    "style, kinds",
    [
        (dict(level_db=-18.0), {"loud", "agitated"}),  # 12 dB louder
        (dict(f0_hz=170.0), {"high_pitch", "agitated"}),  # 6 semitones higher
        (dict(syllables_per_s=8.0), {"fast", "agitated"}),  # twice as fast
        (dict(level_db=-20.0, f0_hz=160.0), {"agitated", "loud", "high_pitch"}),
    ],
)
def test_agitated_bursts_raise_a_warning_within_seconds(style, kinds):
    audio = np.concatenate([bursts(CALM_BURSTS), bursts(6, seed=100, **style)])
    raised, result = warnings_of(audio)
    assert raised, "no warning"
    first = raised[0]
    assert first.kind in kinds
    assert first.raised_at >= ONSET_S  # nothing in the calm part
    assert first.raised_at - ONSET_S <= BURST_S + PAUSE_S + 0.6  # by the second hot burst at the latest
    assert first.start_s <= first.raised_at
    # One episode, one warning.
    assert len([w for w in raised if w.speaker == "agent"]) == 1
    w = result["warnings"][0]
    assert w["raised_at"] == pytest.approx(first.raised_at, abs=0.01)
    assert w["start"] <= w["raised_at"] <= w["end"]


def test_a_voice_raised_from_the_first_word_of_short_turns_is_caught_in_the_first_turn():
    # Turns of 1 s, 8 dB louder than the calm ones from their first word. The 1 s window of voiced
    # frames would still hold the calm turn before; the phrase's own loudness shows the raised voice.
    hot = np.concatenate(
        [np.concatenate([voice(1.0, seed=100 + i, **{**CALM, "level_db": -22.0}), silence(PAUSE_S)]) for i in range(6)]
    )
    audio = np.concatenate([bursts(CALM_BURSTS), hot])
    raised, _ = warnings_of(audio)
    assert [w.kind for w in raised] == ["loud"]
    assert 0 <= raised[0].raised_at - ONSET_S <= 1.0 + 0.3  # within the first loud turn
    # Without the phrase measure (it would need a full window of the phrase) it is not caught at all.
    config = Config()
    config = dataclasses.replace(config, agitation=dataclasses.replace(config.agitation, phrase_min_voiced_s=1.0))
    raised, _ = warnings_of(audio, config=config)
    assert raised == [] or raised[0].raised_at - ONSET_S > 1.0 + PAUSE_S


def test_calm_bursts_raise_nothing():
    raised, result = warnings_of(bursts(30))
    assert raised == []
    assert result["agent"]["baseline"]["source"] == "self-calibrated"


def test_calm_bursts_of_varying_level_and_pitch_raise_nothing():
    # Natural variation of calm speech: +-3 dB and +-1.5 semitones from burst to burst.
    rng = np.random.default_rng(7)
    parts = []
    for i in range(30):
        parts += [
            voice(BURST_S, f0_hz=120 * 2 ** (rng.uniform(-1.5, 1.5) / 12), level_db=-30 + rng.uniform(-3, 3), seed=i),
            silence(PAUSE_S),
        ]
    raised, _ = warnings_of(np.concatenate(parts))
    assert raised == []


def test_a_single_loud_syllable_raises_nothing():
    loud_syllable = voice(0.25, f0_hz=150.0, level_db=-12.0, syllables_per_s=4.0, seed=99)
    audio = np.concatenate([bursts(CALM_BURSTS), loud_syllable, silence(PAUSE_S), bursts(10, seed=50)])
    raised, _ = warnings_of(audio)
    assert raised == []


def test_silence_and_the_other_party_do_not_end_an_episode():
    # Loud bursts, then 20 s of silence, then more loud bursts: still the same warning.
    audio = np.concatenate(
        [bursts(CALM_BURSTS), bursts(3, seed=100, level_db=-18.0), silence(20.0), bursts(3, seed=200, level_db=-18.0)]
    )
    raised, result = warnings_of(audio)
    assert len(raised) == 1
    assert result["warnings"][0]["end"] > ONSET_S + 9 * (BURST_S + PAUSE_S) - PAUSE_S  # lasted to the end
    # Calm speech afterwards ends it.
    audio = np.concatenate([audio, bursts(4, seed=300)])
    raised, result = warnings_of(audio)
    assert len(raised) == 1
    assert result["warnings"][0]["end"] < len(audio) / SR - 3.0


def test_customer_anger_and_mirroring_across_turns():
    # Two channels, turns alternate: agent burst, customer burst. The customer turns loud; the agent
    # stays calm (call 1) or turns loud three turns later (call 2, mirroring).
    def call(agent_hot_from: int | None) -> np.ndarray:
        left, right = [], []
        for i in range(24):
            hot_customer = i >= 12
            hot_agent = agent_hot_from is not None and i >= agent_hot_from
            a = voice(BURST_S, seed=i, **{**CALM, **(dict(level_db=-18.0) if hot_agent else {})})
            c = voice(
                BURST_S, seed=500 + i, **{**CALM, "f0_hz": 200.0, **(dict(level_db=-18.0) if hot_customer else {})}
            )
            gap = silence(0.8)
            left += [a, gap, np.zeros_like(c), gap]
            right += [np.zeros_like(a), gap, c, gap]
        return np.stack([np.concatenate(left), np.concatenate(right)])

    turn_s = 2 * (BURST_S + 0.8)
    customer_onset = 12 * turn_s + BURST_S + 0.8
    raised, _ = warnings_of(call(None), channels=2)
    customer = [w for w in raised if w.speaker == "customer"]
    assert customer and customer[0].kind == "customer_agitated"
    assert 0 <= customer[0].raised_at - customer_onset <= turn_s + 0.6
    assert [w for w in raised if w.speaker == "agent"] == []  # a calm agent is not warned

    raised, _ = warnings_of(call(15), channels=2)
    agent = [w for w in raised if w.speaker == "agent"]
    assert agent and agent[0].kind == "mirroring"
    assert 0 <= agent[0].raised_at - 15 * turn_s <= turn_s + 0.6
