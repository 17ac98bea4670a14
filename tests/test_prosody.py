import numpy as np
import pytest
from signals import SR, glide, glide_f0, silence, tone

from voice_coach.config import ProsodyConfig
from voice_coach.signal.prosody import FrameAnalyzer, Frames, analyze_frames, frame_times_s


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
    return (0.05 * (np.sin(2 * np.pi * f0_hz * t) + h2_gain * np.sin(2 * np.pi * 2 * f0_hz * t + 0.5))).astype(
        np.float32
    )


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


def phone_vowel(f0_hz: float, *, dominant: int = 3, seconds: float = 2.0, vibrato: float = 0.02) -> np.ndarray:
    """A vowel as a phone line carries it: no fundamental (the line starts at 300 Hz), harmonics
    ``dominant`` .. 3400 Hz, the ``dominant`` one (sitting on the first formant) six times stronger
    than its neighbours, with 5 Hz vibrato."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0_hz * (1 + vibrato * np.sin(2 * np.pi * 5 * t))) / SR
    y = sum(
        (3.0 if h == dominant else 0.5 * dominant / h) * np.sin(h * phase + h)
        for h in range(dominant, int(3400 // f0_hz))
    )
    return (0.02 * y / np.std(y)).astype(np.float32)


@pytest.mark.parametrize("f_hz, dominant", [(110, 3), (120, 3), (100, 4), (200, 2)])
def test_phone_vowel_without_its_fundamental_gets_the_fundamental(f_hz, dominant):
    from numpy.lib.stride_tricks import sliding_window_view

    from voice_coach.signal.prosody import FrameGeometry, yin

    y = phone_vowel(f_hz, dominant=dominant)
    geo = FrameGeometry.from_config(ProsodyConfig(), SR)
    framewise, _ = yin(
        sliding_window_view(y, geo.frame_length)[:: geo.hop],
        sr=SR,
        win=geo.win,
        tau_min=geo.tau_min,
        tau_max=geo.tau_max,
    )
    # YIN's first dip under its threshold is the strong harmonic's period, frame after frame ...
    assert np.median(framewise) == pytest.approx(dominant * f_hz, rel=0.05)
    # ... while the tracked pitch is the voice's.
    frames = analyze_frames(y, sr=SR)
    assert frames.voiced.mean() > 0.95
    assert np.nanmedian(frames.f0_hz) == pytest.approx(f_hz, rel=0.03)
    assert np.mean(np.abs(frames.f0_hz[frames.voiced] / f_hz - 1) > 0.2) < 0.01


def _raw(cands_hz, costs, voiced=None):
    from voice_coach.signal.prosody import PITCH_CANDIDATES, _Raw

    n = len(cands_hz)
    lf = np.full((n, PITCH_CANDIDATES), np.log2(100.0))
    cost = np.full((n, PITCH_CANDIDATES), np.inf)
    lf[:, : len(cands_hz[0])] = np.log2(cands_hz)
    cost[:, : len(costs[0])] = costs
    v = np.ones(n, bool) if voiced is None else np.asarray(voiced)
    return _Raw(np.full(n, -30.0, np.float32), cost[:, 0].astype(np.float32), v, v.copy(), lf, cost)


def test_pitch_path_ignores_single_frames_an_octave_off():
    from voice_coach.signal.prosody import _Tracker

    # 60 voiced frames with two candidates, 120 Hz and 240 Hz. 120 Hz is the deeper dip, except in
    # four single frames where 240 Hz is slightly deeper: frame by frame, F0 would jump an octave.
    costs = np.tile([0.05, 0.12], (60, 1))
    for i in (5, 20, 21, 40):
        costs[i] = [0.10, 0.07]
    tracker = _Tracker(ProsodyConfig())
    out = Frames.concat([tracker.push(_raw(np.tile([120.0, 240.0], (60, 1)), costs)), tracker.flush()])
    np.testing.assert_allclose(out.f0_hz, 120.0, rtol=1e-6)


def test_pitch_path_follows_a_real_octave_change():
    from voice_coach.signal.prosody import _Tracker

    # 30 frames clearly at 120 Hz, then 30 frames clearly at 240 Hz (the voice really jumped).
    cands = np.tile([120.0, 240.0], (60, 1))
    costs = np.concatenate([np.tile([0.05, 0.40], (30, 1)), np.tile([0.40, 0.05], (30, 1))])
    tracker = _Tracker(ProsodyConfig())
    out = Frames.concat([tracker.push(_raw(cands, costs)), tracker.flush()])
    np.testing.assert_allclose(out.f0_hz[:30], 120.0, rtol=1e-6)
    np.testing.assert_allclose(out.f0_hz[30:], 240.0, rtol=1e-6)


def test_frames_are_released_after_a_fixed_delay_whatever_the_audio():
    # Two channels fed the same number of samples, one speaking and one silent, must return the
    # same number of frames at every step (the engine lines up the two voices frame by frame).
    cfg = ProsodyConfig()
    delay = int(round(cfg.pitch_lookahead_ms / cfg.hop_ms)) + 1
    voiced_ch, silent_ch = FrameAnalyzer(sr=SR), FrameAnalyzer(sr=SR)
    y = np.concatenate([tone(150, 1.0), silence(0.5), tone(200, 0.5)])
    fed = 0
    for i in range(0, len(y), 1234):
        a, b = voiced_ch.feed(y[i : i + 1234]), silent_ch.feed(np.zeros(len(y[i : i + 1234]), np.float32))
        fed += len(y[i : i + 1234])
        assert len(a) == len(b)
        measured = max(0, (fed - FrameAnalyzer(sr=SR).geo.frame_length) // 160 + 1)
        assert voiced_ch.frames_done == max(0, measured - delay)
    assert len(voiced_ch.finish()) == len(silent_ch.finish())
    assert voiced_ch.frames_done == silent_ch.frames_done == int(np.ceil(len(y) / 160))
