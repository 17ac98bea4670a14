"""The silence floor that follows a quiet recording (signal/floor.py), for syllables and phonation."""

import numpy as np
import pytest
from signals import SR, silence, tone, voice

from voice_coach.config import ProsodyConfig
from voice_coach.signal.crosstalk import leak_mask
from voice_coach.signal.floor import RelativeFloor, relative_floor_db
from voice_coach.signal.prosody import FrameAnalyzer, Frames, analyze_frames, frame_times_s
from voice_coach.signal.syllables import articulation

HOP_S = 0.01


def _floor(levels: np.ndarray, periodic: np.ndarray | None = None) -> float:
    periodic = levels > -85.0 if periodic is None else periodic
    return relative_floor_db(levels, periodic, ceiling_db=-55.0, below_speech_db=15.0, above_noise_db=10.0)


def test_the_floor_follows_a_quiet_recording_but_not_below_its_noise():
    speech_at = lambda speech_db, noise_db: np.r_[np.full(900, noise_db), np.full(100, speech_db)]  # noqa: E731
    assert _floor(speech_at(-20.0, -90.0)) == -55.0  # an ordinary level: the fixed floor
    assert _floor(speech_at(-50.0, -90.0)) == pytest.approx(-65.0)  # 15 dB under the speech
    assert _floor(speech_at(-50.0, -80.0), speech_at(-50.0, -80.0) > -60) == pytest.approx(-65.0)
    assert _floor(speech_at(-60.0, -80.0), speech_at(-60.0, -80.0) > -70) == pytest.approx(-70.0)  # noise + 10
    assert _floor(speech_at(-50.0, -60.0), speech_at(-50.0, -60.0) > -55) == -55.0  # never above the fixed one
    assert _floor(speech_at(-70.0, -100.0)) == -75.0  # never below LOWEST_DB
    assert _floor(np.zeros(0)) == -55.0
    # the speech level is that of the periodic frames: a loud unvoiced noise does not raise it
    levels = np.r_[np.full(800, -90.0), np.full(100, -50.0), np.full(100, -20.0)]
    assert _floor(levels, np.r_[np.zeros(800, bool), np.ones(100, bool), np.zeros(100, bool)]) == pytest.approx(-65.0)


def _syllables(y: np.ndarray, *, relative: bool = True) -> tuple[int, float]:
    frames = analyze_frames(y, sr=SR)
    a = articulation(frames.loudness_db, frames.voiced_relative if relative else frames.voiced, hop_s=HOP_S)
    return len(a.nuclei), a.phonation_s


def test_a_soft_voice_keeps_its_syllables():
    # The same 4 syllables/s voice at an ordinary level and 32 dB softer (a soft speaker on a low
    # line): all of the soft one is under the fixed -55 dBFS floor, so it has no pitch voicing,
    # but its syllables and phonation are counted as at the ordinary level.
    normal = voice(10, level_db=-30.0)
    soft = normal * np.float32(10 ** (-32 / 20))
    frames = analyze_frames(soft, sr=SR)
    assert (frames.loudness_db < ProsodyConfig().silence_floor_db).all() and not frames.voiced.any()
    assert _syllables(soft, relative=False)[0] == 0
    n_normal, phon_normal = _syllables(normal)
    n_soft, phon_soft = _syllables(soft)
    assert n_normal >= 38
    assert n_soft >= n_normal - 2
    assert phon_soft == pytest.approx(phon_normal, rel=0.1)


def test_an_ordinary_level_keeps_the_fixed_floors_voicing():
    frames = analyze_frames(voice(6, level_db=-25.0), sr=SR)
    np.testing.assert_array_equal(frames.voiced_relative, frames.voiced)


def test_relative_voicing_is_a_superset_with_the_same_clean_up():
    frames = analyze_frames(np.concatenate([voice(4, level_db=-30.0), voice(6, level_db=-62.0, seed=3)]), sr=SR)
    assert not (frames.voiced & ~frames.voiced_relative).any()
    r = frames.voiced_relative.astype(int)
    isolated = (r[1:-1] == 1) & (r[:-2] == 0) & (r[2:] == 0)
    assert not isolated.any()  # a voiced frame with no voiced neighbour is dropped, as for ``voiced``


def test_hum_under_a_soft_voice_is_not_phonation():
    # A soft voice over a 100 Hz hum swelling from 29 to 19 dB below it: the hum is periodic and
    # within 15 dB of the floor the speech alone would give, but it is the noise level, and the
    # floor stays 10 dB above that (without the guard half the pauses would count as phonation).
    speech = np.concatenate([np.concatenate([voice(2.0, level_db=-45.0, seed=k), silence(3.0)]) for k in range(3)])
    t = np.arange(len(speech)) / SR
    hum = tone(100.0, len(speech) / SR, level_db=-69.0) * np.float32(10) ** (0.25 * np.sin(2 * np.pi * 0.3 * t))
    audio = speech + hum.astype(np.float32)
    frames = analyze_frames(audio, sr=SR)

    def voicing(above_noise_db: float) -> np.ndarray:
        config = ProsodyConfig(relative_floor_below_speech_db=30.0, relative_floor_above_noise_db=above_noise_db)
        return analyze_frames(audio, sr=SR, config=config).voiced_relative

    ft = frame_times_s(len(frames), sr=SR)
    in_pause = (np.mod(ft, 5.0) > 2.3) & (np.mod(ft, 5.0) < 4.8) & (ft > 5.0)
    speaking = (np.mod(ft, 5.0) < 1.8) & (ft > 5.0)
    assert voicing(10.0)[in_pause].mean() < 0.02
    assert voicing(10.0)[speaking].mean() > 0.5
    assert voicing(0.0)[in_pause].mean() > 0.3  # the guard is what keeps the hum out


@pytest.mark.parametrize("seed", [0, 1])
def test_the_floor_is_the_same_for_any_chunking(seed):
    rng = np.random.default_rng(seed)
    levels = np.r_[np.full(300, -90.0), rng.uniform(-75, -54, 2000)]
    periodic = np.r_[np.zeros(300, bool), rng.random(2000) < 0.5]

    def floor():
        return RelativeFloor(hop_s=HOP_S, ceiling_db=-55.0, below_speech_db=15.0, above_noise_db=10.0)

    whole = floor().above(levels, periodic)
    chunked, parts, i = floor(), [], 0
    while i < len(levels):
        k = int(rng.integers(1, 120))
        parts.append(chunked.above(levels[i : i + k], periodic[i : i + k]))
        i += k
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    # the fixed floor holds until a quarter of a second of periodic frames has been heard...
    assert not whole[300:350][levels[300:350] <= -55.0].any()
    # ...then the floor follows the speech down
    assert whole[400:][levels[400:] <= -55.0].mean() > 0.5


def test_prosody_streams_the_relative_voicing_like_the_batch():
    y = np.concatenate([voice(6, level_db=-62.0, seed=1), voice(3, level_db=-30.0), silence(0.5)])
    rng = np.random.default_rng(4)
    fa, parts, i = FrameAnalyzer(sr=SR), [], 0
    while i < len(y):
        k = int(rng.integers(1, 4000))
        parts.append(fa.feed(y[i : i + k]))
        i += k
    parts.append(fa.finish())
    stream, batch = Frames.concat(parts), analyze_frames(y, sr=SR)
    np.testing.assert_array_equal(stream.voiced_relative[: len(batch)], batch.voiced_relative)
    assert batch.voiced_relative[100:550].mean() > 0.3 and not batch.voiced[:550].any()  # the soft voice


def test_soft_frames_quieter_than_the_customer_are_leak():
    # The customer's voice leaking softly into the agent's channel: under the fixed floor there is
    # no pitch to compare, but the customer is voiced and louder at those frames.
    customer = voice(6, level_db=-25.0, f0_hz=180.0)
    leak = customer * np.float32(10 ** (-38 / 20))
    agent_frames = analyze_frames(np.concatenate([voice(3, level_db=-62.0, seed=2), leak]), sr=SR)
    customer_frames = analyze_frames(np.concatenate([silence(3), customer]), sr=SR)
    mask = leak_mask(agent_frames, customer_frames)
    in_leak = np.arange(len(agent_frames)) >= 300
    soft = agent_frames.voiced_relative & in_leak
    assert soft.sum() > 100 and mask[soft].all()
    assert agent_frames.voiced_relative[:290].sum() > 100 and not mask[:290].any()  # the agent's own soft voice
