"""The silence floor that follows a quiet recording (signal/floor.py), for syllables and phonation."""

import numpy as np
import pytest
from signals import SR, silence, tone, voice

from voice_coach.config import ProsodyConfig, RateConfig
from voice_coach.signal.floor import RelativeFloor, SyllableVoicing, relative_floor_db
from voice_coach.signal.prosody import Frames, analyze_frames, frame_times_s
from voice_coach.signal.syllables import articulation

HOP_S = 0.01


def _floor(levels: np.ndarray) -> float:
    return relative_floor_db(levels, ceiling_db=-55.0, below_speech_db=15.0, above_noise_db=10.0)


def test_the_floor_follows_a_quiet_recording_but_not_below_its_noise():
    speech_at = lambda speech_db, noise_db: np.r_[np.full(900, noise_db), np.full(100, speech_db)]  # noqa: E731
    assert _floor(speech_at(-20.0, -90.0)) == -55.0  # an ordinary level: the fixed floor
    assert _floor(speech_at(-50.0, -90.0)) == pytest.approx(-65.0)  # 15 dB under the speech
    assert _floor(speech_at(-50.0, -60.0)) == pytest.approx(-50.0 + -5.0)  # 10 dB over the noise, capped
    assert _floor(speech_at(-60.0, -80.0)) == pytest.approx(-70.0)  # 10 dB over the noise
    assert _floor(np.zeros(0)) == -55.0


def _syllables(y: np.ndarray, *, relative: bool = True) -> tuple[int, float]:
    frames = analyze_frames(y, sr=SR)
    voicing = SyllableVoicing(hop_s=HOP_S, prosody=ProsodyConfig(), rate=RateConfig())(frames) if relative else None
    a = articulation(frames.loudness_db, frames.voiced if voicing is None else voicing, hop_s=HOP_S)
    return len(a.nuclei), a.phonation_s


def test_a_soft_voice_keeps_its_syllables():
    # The same 4 syllables/s voice at an ordinary level and 32 dB softer (a soft speaker on a low
    # line): all of the soft one is under the fixed -55 dBFS floor, so prosody finds no voicing in it,
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


def test_an_ordinary_level_keeps_prosodys_voicing():
    frames = analyze_frames(voice(6, level_db=-25.0), sr=SR)
    voicing = SyllableVoicing(hop_s=HOP_S, prosody=ProsodyConfig(), rate=RateConfig())(frames)
    np.testing.assert_array_equal(voicing, frames.voiced)


def test_hum_under_a_soft_voice_is_not_phonation():
    # A soft voice over a 100 Hz hum swelling from 29 to 19 dB below it: the hum is periodic and
    # within 15 dB of the floor the speech alone would give, but it is the noise level, and the
    # floor stays 10 dB above that (without the guard half the pauses would count as phonation).
    speech = np.concatenate([np.concatenate([voice(2.0, level_db=-45.0, seed=k), silence(3.0)]) for k in range(3)])
    t = np.arange(len(speech)) / SR
    hum = tone(100.0, len(speech) / SR, level_db=-69.0) * np.float32(10) ** (0.25 * np.sin(2 * np.pi * 0.3 * t))
    frames = analyze_frames(speech + hum.astype(np.float32), sr=SR)

    def voicing(above_noise_db: float) -> np.ndarray:
        rate = RateConfig(syllable_floor_below_speech_db=30.0, syllable_floor_above_noise_db=above_noise_db)
        return SyllableVoicing(hop_s=HOP_S, prosody=ProsodyConfig(), rate=rate)(frames)

    ft = frame_times_s(len(frames), sr=SR)
    in_pause = (np.mod(ft, 5.0) > 2.3) & (np.mod(ft, 5.0) < 4.8) & (ft > 5.0)
    speaking = (np.mod(ft, 5.0) < 1.8) & (ft > 5.0)
    assert voicing(10.0)[in_pause].mean() < 0.02
    assert voicing(10.0)[speaking].mean() > 0.5
    assert voicing(0.0)[in_pause].mean() > 0.3  # the guard is what keeps the hum out


@pytest.mark.parametrize("seed", [0, 1])
def test_the_floor_is_the_same_for_any_chunking(seed):
    levels = np.r_[np.full(300, -90.0), np.random.default_rng(seed).uniform(-70, -40, 2000)]
    whole = RelativeFloor(hop_s=HOP_S, ceiling_db=-55.0, below_speech_db=15.0, above_noise_db=10.0).above(levels)
    chunked_floor = RelativeFloor(hop_s=HOP_S, ceiling_db=-55.0, below_speech_db=15.0, above_noise_db=10.0)
    rng = np.random.default_rng(seed + 10)
    parts, i = [], 0
    while i < len(levels):
        k = int(rng.integers(1, 120))
        parts.append(chunked_floor.above(levels[i : i + k]))
        i += k
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert not whole[:50].any()  # the first 0.5 s is held to the fixed floor
    assert whole[300:].mean() > 0.4  # then to the speech's own level


def test_syllable_voicing_takes_frames():
    f = Frames.empty()
    assert len(SyllableVoicing(hop_s=HOP_S, prosody=ProsodyConfig(), rate=RateConfig())(f)) == 0
