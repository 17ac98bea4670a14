import numpy as np
import pytest
from signals import SR, silence, voice

from voice_coach.config import RateConfig
from voice_coach.engine.events import Word
from voice_coach.errors import ConfigError
from voice_coach.signal.activity import bridge_gaps
from voice_coach.signal.prosody import analyze_frames
from voice_coach.signal.rate import pause_threshold_s, rolling_wpm, talk_spans, talk_time_s, words_per_minute
from voice_coach.signal.syllables import SyllablePicker, articulation, articulation_rate, syllable_nuclei


@pytest.mark.parametrize("rate", [2.5, 4.0, 5.5, 7.0])
def test_pulse_train_syllable_rate(rate):
    seconds = 6.0
    frames = analyze_frames(voice(seconds, syllables_per_s=rate), sr=SR)
    nuclei = syllable_nuclei(frames.loudness_db, frames.voiced, hop_s=0.01)
    assert len(nuclei) == pytest.approx(rate * seconds, abs=1)


def test_unvoiced_bursts_are_not_syllables():
    rng = np.random.default_rng(0)
    t = np.arange(SR * 4) / SR
    env = (np.mod(t, 0.25) < 0.15).astype(np.float32)
    noise = (rng.normal(0, 0.05, len(t)) * env).astype(np.float32)
    frames = analyze_frames(noise, sr=SR)
    assert len(syllable_nuclei(frames.loudness_db, frames.voiced, hop_s=0.01)) == 0


def test_streaming_picker_matches_batch():
    frames = analyze_frames(
        np.concatenate([voice(3, syllables_per_s=5), silence(0.5), voice(2, syllables_per_s=3, seed=2)]), sr=SR
    )
    batch = syllable_nuclei(frames.loudness_db, frames.voiced, hop_s=0.01)
    picker = SyllablePicker(hop_s=0.01)
    stream = []
    for i in range(0, len(frames), 7):
        stream += picker.feed(frames.loudness_db[i : i + 7], frames.voiced[i : i + 7]).nuclei
    assert stream == list(batch)


def held_vowel(*, f0_hz: float = 140.0, rise_s: float = 0.06, hold_s: float = 0.5, decay_db: float = 4.0) -> np.ndarray:
    """A voiced syllable that rises in 60 ms and then decays slowly, ``decay_db`` over ``hold_s``
    (a held or stressed vowel, slow speech)."""
    n = int((rise_s + hold_s) * SR)
    t = np.arange(n) / SR
    phase = 2 * np.pi * np.cumsum(f0_hz * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))) / SR
    src = sum(np.sin(k * phase) / k for k in range(1, 8))
    env_db = np.where(t < rise_s, -30 * (1 - t / rise_s), -decay_db * (t - rise_s) / hold_s)
    return (0.05 * src * 10 ** (env_db / 20)).astype(np.float32)


@pytest.mark.parametrize("decay_db", [3.0, 6.0, 20.0])
def test_slowly_decaying_vowels_are_syllables(decay_db):
    # Each vowel is confirmed as a nucleus only once it has fallen 2 dB below its peak: 150-330 ms
    # after the peak for the slow decays. Its voicing used to be looked up only then, in a buffer
    # that no longer held the peak's frames, and the nucleus was rejected.
    y = np.concatenate([x for _ in range(5) for x in (held_vowel(decay_db=decay_db), silence(0.25))])
    frames = analyze_frames(y, sr=SR)
    assert len(syllable_nuclei(frames.loudness_db, frames.voiced, hop_s=0.01)) == 5


def test_pauses_do_not_change_articulation_rate():
    # The same speech with long pauses inserted has the same syllables per second of phonation.
    speech = voice(4, syllables_per_s=5)
    with_pauses = np.concatenate([speech[: 2 * SR], silence(2.0), speech[2 * SR :], silence(3.0)])

    def rate(y):
        frames = analyze_frames(y, sr=SR)
        return articulation(frames.loudness_db, frames.voiced, hop_s=0.01).rate

    assert rate(with_pauses) == pytest.approx(rate(speech), rel=0.08)


def test_bridge_gaps_fills_short_gaps_only():
    a = np.array([1, 0, 0, 1, 0, 0, 0, 0, 1, 0], bool)
    np.testing.assert_array_equal(bridge_gaps(a, max_gap=2), np.array([1, 1, 1, 1, 0, 0, 0, 0, 1, 0], bool))
    assert not bridge_gaps(np.zeros(5, bool), max_gap=3).any()


def test_articulation_rate_needs_enough_phonation():
    assert articulation_rate(3, 0.5) is None
    assert articulation_rate(10, 2.0) == 5.0


def _words(start, n, spacing=0.4, dur=0.3):
    return [Word(start + i * spacing, start + i * spacing + dur, "w") for i in range(n)]


def test_wpm_ignores_long_pauses():
    words = _words(0, 20) + _words(60, 20)
    assert talk_spans(words) == [(0.0, pytest.approx(7.9)), (60.0, pytest.approx(67.9))]
    # 40 words in 15.8 s of talk, though the call lasted 68 s.
    assert words_per_minute(words) == pytest.approx(40 / 15.8 * 60)
    assert talk_time_s(talk_spans(words)) == pytest.approx(15.8)


def test_wpm_unknown_without_talk():
    assert words_per_minute([]) is None
    assert words_per_minute([Word(0, 0.2, "hi")]) is None


def test_rolling_wpm_is_centred_and_nan_in_silence():
    words = _words(0, 30)  # 150 wpm for 12 s
    t = np.array([5.0, 30.0])
    out = rolling_wpm(words, t, window_s=4.0)
    assert out[0] == pytest.approx(150, rel=0.05)
    assert np.isnan(out[1])


# ---------------------------------------------------------------- rates that follow the pace


def _paired_syllables(n_syllables: int, rate: float, *, dip_db: float = 5.0, dip_share: float = 0.25) -> np.ndarray:
    """Voiced syllables at ``rate`` in pairs: a pause (30 % of a syllable) after each pair, and
    inside it a shallow dip of ``dip_db`` over ``dip_share`` of a syllable (a vowel running into
    the next through a sonorant). Time-compressing the signal shortens the dip with the rest."""
    slot = 1.0 / rate
    n = int(round(n_syllables * slot * SR))
    t = np.arange(n) / SR
    phase = 2 * np.pi * np.cumsum(120.0 * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))) / SR
    src = sum(np.sin(k * phase) / k for k in range(1, 8))
    pos = np.mod(t / slot, 2.0)  # position in the pair, in syllables
    x = (pos - 1.0) / dip_share + 0.5
    env_db = np.where((x > 0) & (x < 1), -dip_db * np.sin(np.pi * np.clip(x, 0, 1)) ** 2, 0.0)
    y = 0.03 * src * 10 ** (env_db / 20) * (pos <= 1.7)
    return (y + np.random.default_rng(0).normal(0, 10 ** (-75 / 20), n)).astype(np.float32)


def _count(y: np.ndarray, config: RateConfig = RateConfig()) -> int:
    frames = analyze_frames(y, sr=SR)
    return len(syllable_nuclei(frames.loudness_db, frames.voiced, hop_s=0.01, config=config))


def test_fast_syllables_are_counted_at_a_finer_resolution():
    # The same 60 syllables at a calm pace and 1.5x faster (7.5/s): the shallow dips last 50 and
    # 33 ms. With the time constants fixed, the 30 ms smoothing fills the shorter ones in.
    fixed = RateConfig(timescale_min_factor=1.0)
    assert _count(_paired_syllables(60, 5.0)) == 60
    assert _count(_paired_syllables(60, 7.5), fixed) <= 54
    assert _count(_paired_syllables(60, 7.5)) >= 58


def test_the_minimum_dip_follows_the_pace():
    # Pairs of syllables joined by a shallow dip over half a syllable. Fast (7.5/s), the smoothed
    # dip is shallower than 2 dB, and the 2 dB given at 5 syllables/s would merge most pairs (48
    # of 60 counted); scaled with the pace it does not.
    assert _count(_paired_syllables(60, 7.5, dip_db=2.6, dip_share=0.5)) >= 56
    # Slow (3/s), a 2.2 dB wobble is within one drawn-out vowel: 2 dB would count it (60).
    assert _count(_paired_syllables(60, 3.0, dip_db=2.2, dip_share=0.5)) == 30


@pytest.mark.parametrize("factor", [0.8, 1.25, 1.5, 2.0])
def test_articulation_rate_scales_with_pace(factor):
    # A syllable train and the same train ``factor`` times faster: the rate scales by the factor.
    def rate(y):
        frames = analyze_frames(y, sr=SR)
        return articulation(frames.loudness_db, frames.voiced, hop_s=0.01).rate

    base = rate(voice(12, syllables_per_s=4.0))
    assert rate(voice(12 / factor, syllables_per_s=4.0 * factor)) / base == pytest.approx(factor, rel=0.05)


def test_time_constants_follow_the_pace_within_bounds():
    def timescale(rate):
        frames = analyze_frames(voice(20, syllables_per_s=rate), sr=SR)
        picker = SyllablePicker(hop_s=0.01)
        picker.feed(frames.loudness_db, frames.voiced)
        return picker.timescale

    assert timescale(8.0) == pytest.approx(5.0 / 8.0, rel=0.1)  # (phonation includes 30 % gaps)
    assert timescale(4.0) == pytest.approx(5.0 / 4.0, rel=0.1)
    assert timescale(14.0) == 0.5  # bounded both ways, tighter when coarser
    assert timescale(2.0) == 1.4
    fixed = SyllablePicker(hop_s=0.01, config=RateConfig(timescale_min_factor=1.0, timescale_max_factor=1.0))
    frames = analyze_frames(voice(20, syllables_per_s=2.0), sr=SR)
    fixed.feed(frames.loudness_db, frames.voiced)
    assert fixed.timescale == 1.0


def test_slow_speech_does_not_blind_the_picker_to_a_speed_up():
    # After slow speech the time constants are coarse; a fast stretch whose shallow dips that
    # resolution misses would read slow on the picker's own count and keep it coarse (19 of the
    # first 40 fast syllables, and on). Growth must also be agreed by the count at the reference
    # resolution, which sees the dips: the picker turns finer within a couple of seconds.
    y = np.concatenate([voice(6, syllables_per_s=3.5), _paired_syllables(80, 8.0)])
    frames = analyze_frames(y, sr=SR)
    picker = SyllablePicker(hop_s=0.01)
    slow = picker.feed(frames.loudness_db[:600], frames.voiced[:600])
    assert len(slow.nuclei) == pytest.approx(21, abs=2)
    assert picker.timescale > 1.2  # slow speech: coarser
    first = picker.feed(frames.loudness_db[600:1100], frames.voiced[600:1100])
    then = picker.feed(frames.loudness_db[1100:], frames.voiced[1100:])
    assert len(first.nuclei) >= 30  # of 40: the change of pace takes a moment to follow
    assert len(then.nuclei) >= 39  # of 40
    assert picker.timescale < 1.0


def _gappy(n_bursts: int, factor: float = 1.0) -> np.ndarray:
    """Steady voiced bursts of 0.3 s with 0.25 s of silence between them (a stop closure, bridged
    at the reference pace), all times divided by ``factor``."""
    burst_n, gap_n = int(0.3 / factor * SR), int(0.25 / factor * SR)
    t = np.arange(burst_n) / SR
    burst = 0.03 * sum(np.sin(2 * np.pi * k * 120.0 * t) / k for k in range(1, 8))
    one = np.concatenate([burst, np.zeros(gap_n)])
    y = np.concatenate([np.tile(one, n_bursts), burst])
    return (y + np.random.default_rng(0).normal(0, 10 ** (-75 / 20), len(y))).astype(np.float32)


def test_phonation_bridge_follows_the_pace():
    # Slowed to 0.8x the closures last 0.31 s: past a fixed 0.3 s bridge, inside one that scales.
    def phonation(y, config=RateConfig()):
        frames = analyze_frames(y, sr=SR)
        return articulation(frames.loudness_db, frames.voiced, hop_s=0.01, config=config).phonation_s

    ref, slow = _gappy(30), _gappy(30, 0.8)
    fixed = RateConfig(timescale_min_factor=1.0, timescale_max_factor=1.0)
    assert phonation(slow, fixed) / phonation(ref, fixed) < 1.25 * 0.8  # gaps dropped: too little
    assert phonation(slow) / phonation(ref) == pytest.approx(1.25, rel=0.08)


def test_phonation_is_the_bridged_voicing_at_the_reference_pace():
    frames = analyze_frames(voice(10, syllables_per_s=5.0), sr=SR)
    fixed = RateConfig(timescale_min_factor=1.0, timescale_max_factor=1.0)
    got = articulation(frames.loudness_db, frames.voiced, hop_s=0.01, config=fixed).phonation_s
    assert got == pytest.approx(bridge_gaps(frames.voiced, max_gap=30).sum() * 0.01, abs=0.011)


def test_streaming_picker_matches_batch_while_the_resolution_changes():
    y = np.concatenate([voice(4, syllables_per_s=4), _paired_syllables(40, 8.0), voice(3, syllables_per_s=3, seed=2)])
    frames = analyze_frames(y, sr=SR)
    batch = syllable_nuclei(frames.loudness_db, frames.voiced, hop_s=0.01)
    picker = SyllablePicker(hop_s=0.01)
    stream, phonation = [], 0
    for i in range(0, len(frames), 13):
        picked = picker.feed(frames.loudness_db[i : i + 13], frames.voiced[i : i + 13])
        stream += picked.nuclei
        phonation += picked.phonation_frames
    assert stream == list(batch)
    assert len(batch) > 50
    whole = articulation(frames.loudness_db, frames.voiced, hop_s=0.01)
    assert phonation * 0.01 == pytest.approx(whole.phonation_s)


def _phrases(n_phrases: int, factor: float = 1.0) -> list[Word]:
    """Phrases of 5 words (0.3 s each, 0.05 s apart), 0.7 s of pause between phrases; every time
    divided by ``factor`` (the same speech ``factor`` times faster)."""
    words, t = [], 0.0
    for _ in range(n_phrases):
        for _ in range(5):
            words.append(Word(t / factor, (t + 0.3) / factor, "w"))
            t += 0.35
        t += 0.7 - 0.05
    return words


@pytest.mark.parametrize("factor", [0.8, 1.25, 1.5])
def test_wpm_scales_with_pace(factor):
    base = words_per_minute(_phrases(10))
    assert words_per_minute(_phrases(10, factor)) / base == pytest.approx(factor, rel=0.01)


def test_a_fixed_pause_threshold_does_not_scale():
    # At 1.5x the 0.7 s pauses last 0.47 s: under a fixed 0.5 s threshold they count as talk.
    ratio = words_per_minute(_phrases(10, 1.5), pause_s=0.5) / words_per_minute(_phrases(10), pause_s=0.5)
    assert ratio < 1.5 * 0.85


def test_pause_threshold_is_two_median_words_within_bounds():
    assert pause_threshold_s(_phrases(4)) == pytest.approx(0.6)
    assert pause_threshold_s(_phrases(4, 1.5)) == pytest.approx(0.4)
    assert pause_threshold_s(_phrases(4, 4.0)) == 0.25  # never shorter
    assert pause_threshold_s(_phrases(4, 0.25)) == 1.0  # never longer
    assert pause_threshold_s(_phrases(4)[:4]) == 0.5  # too few words to time the speaker
    config = RateConfig(pause_word_multiple=3.0, pause_min_s=0.1, pause_max_s=2.0, pause_default_s=0.7)
    assert pause_threshold_s(_phrases(4), config) == pytest.approx(0.9)
    assert pause_threshold_s([], config) == 0.7


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"pause_min_s": 2.0}, "[rate] pause_min_s = 2: must be at most pause_max_s = 1 s"),
        ({"timescale_min_factor": 0.0}, "[rate] timescale_min_factor = 0: must be in (0, 1]"),
        ({"pause_word_multiple": 0.0}, "[rate] pause_word_multiple = 0: must be > 0"),
    ],
)
def test_rate_settings_are_checked(changes, message):
    with pytest.raises(ConfigError) as err:
        RateConfig(**changes)
    assert str(err.value).startswith(message)
