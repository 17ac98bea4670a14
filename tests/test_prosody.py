import numpy as np
import pytest

from signals import SR, glide, glide_f0, silence, tone
from voice_coach.config import ProsodyConfig
from voice_coach.prosody import FrameAnalyzer, Frames, analyze_frames, frame_times_s


@pytest.mark.parametrize("f_hz", [70, 100, 147, 220, 330, 480])
def test_pitch_of_pure_tones(f_hz):
    frames = analyze_frames(tone(f_hz, 1.0), sr=SR)
    assert frames.voiced.mean() > 0.95
    assert np.nanmedian(frames.f0_hz) == pytest.approx(f_hz, rel=0.005)


def test_pitch_follows_a_glide():
    y = glide(100, 300, 2.0)
    frames = analyze_frames(y, sr=SR)
    t = frame_times_s(len(frames), sr=SR)
    truth = glide_f0(100, 300, 2.0, t)
    ok = frames.voiced
    assert ok.mean() > 0.9
    rel = np.abs(frames.f0_hz[ok] / truth[ok] - 1)
    assert np.percentile(rel, 95) < 0.02



def two_harmonics(f0_hz: float, h2_gain: float, seconds: float = 1.0) -> np.ndarray:
    """A fundamental plus a 2nd harmonic ``h2_gain`` times stronger, as a vowel whose first
    formant sits on the 2nd harmonic."""
    t = np.arange(int(seconds * SR)) / SR
    return (0.05 * (np.sin(2 * np.pi * f0_hz * t) + h2_gain * np.sin(2 * np.pi * 2 * f0_hz * t + 0.5))).astype(np.float32)


@pytest.mark.parametrize("f_hz", [250, 256, 262])
def test_strong_second_harmonic_above_fmax_is_not_an_octave_error(f_hz):
    # The 2nd harmonic (500-524 Hz) lies just above fmax (500 Hz), so the difference function is
    # still falling at the shortest lag searched. That edge used to count as a dip and won over
    # the true period: F0 came out an octave up, at 501-516 Hz, above fmax.
    frames = analyze_frames(two_harmonics(f_hz, 4.0), sr=SR)
    assert frames.voiced.mean() > 0.95
    assert np.nanmedian(frames.f0_hz) == pytest.approx(f_hz, rel=0.01)
    assert np.nanmax(frames.f0_hz) <= ProsodyConfig().fmax_hz

@pytest.mark.parametrize("level_db", [-6.0, -20.0, -40.0])
def test_loudness_of_a_sine_is_its_rms_level(level_db):
    frames = analyze_frames(tone(200, 1.0, level_db=level_db), sr=SR)
    assert np.median(frames.loudness_db) == pytest.approx(level_db, abs=0.2)


def test_loudness_follows_level_steps():
    y = np.concatenate([tone(200, 1.0, level_db=-30), tone(200, 1.0, level_db=-18), tone(200, 1.0, level_db=-24)])
    frames = analyze_frames(y, sr=SR)
    t = frame_times_s(len(frames), sr=SR)
    for lo, hi, want in [(0.2, 0.8, -30), (1.2, 1.8, -18), (2.2, 2.8, -24)]:
        sel = (t > lo) & (t < hi)
        assert np.median(frames.loudness_db[sel]) == pytest.approx(want, abs=0.3)


def test_noise_and_silence_are_unvoiced():
    noise = np.random.default_rng(1).normal(0, 0.1, SR * 2).astype(np.float32)
    assert analyze_frames(noise, sr=SR).voiced.mean() < 0.02
    quiet = analyze_frames(silence(1.0), sr=SR)
    assert not quiet.voiced.any()
    assert (quiet.loudness_db == -100.0).all()
    assert np.isnan(quiet.f0_hz).all()


def test_too_short_input_gives_no_frames():
    assert len(analyze_frames(np.zeros(100, np.float32), sr=SR)) == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_streaming_equals_batch_for_any_chunking(seed):
    y = np.concatenate([glide(90, 250, 1.5), silence(0.3), tone(180, 0.7)])
    rng = np.random.default_rng(seed)
    fa = FrameAnalyzer(sr=SR)
    parts, i = [], 0
    while i < len(y):
        k = int(rng.integers(1, 4000))
        parts.append(fa.feed(y[i : i + k]))
        i += k
    parts.append(fa.finish())
    stream = Frames.concat(parts)
    batch = analyze_frames(y, sr=SR)
    assert len(stream) == int(np.ceil(len(y) / 160))  # one frame per hop of input
    n = len(batch)
    np.testing.assert_allclose(stream.loudness_db[:n], batch.loudness_db, atol=1e-4)
    np.testing.assert_array_equal(stream.voiced[:n], batch.voiced)
    np.testing.assert_allclose(np.nan_to_num(stream.f0_hz[:n]), np.nan_to_num(batch.f0_hz), rtol=1e-4)


def test_pitch_range_is_configurable():
    # A 60 Hz tone is below the default floor (65 Hz) but inside a lowered one.
    cfg = ProsodyConfig(fmin_hz=50.0)
    frames = analyze_frames(tone(60, 1.0), sr=SR, config=cfg)
    assert np.nanmedian(frames.f0_hz) == pytest.approx(60, rel=0.01)
