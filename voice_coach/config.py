"""Thresholds and windows, as documented dataclasses loadable from TOML.

Every number that shapes a warning lives here, with its unit in its name. ``Config.from_toml``
reads a file whose tables mirror the dataclasses::

    [prosody]
    fmin_hz = 65.0

    [warnings]
    sustain_s = 2.0

Unknown tables or keys are an error (a typo must not be silently ignored). Results echo
``Config.to_dict()`` so that every figure can be traced to the settings that produced it.
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from voice_coach.errors import ConfigError

NYQUIST_HZ = 8000.0
"""Half the 16 kHz analysis rate: no pitch above it can be measured."""

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


_UNITS = {
    "_hz": " Hz",
    "_ms": " ms",
    "_s": " s",
    "_db": " dB",
    "_st": " semitones",
    "_sps": " syllables/s",
    "_wpm": " wpm",
}


def _unit(key: str) -> str:
    return next((u for suffix, u in _UNITS.items() if key.endswith(suffix)), "")


class _Checks:
    """Range checks for one settings table, run when it is built (as librosa checks its parameters).

    A failed check raises ``ConfigError`` with one line: the table and key, the value, the allowed
    range and, where it helps, the fix, e.g. ``[prosody] fmin_hz = 0: must be > 0 Hz``. Reading a
    file prefixes the file's path. Every float must be finite first.
    """

    def __init__(self, section: Any):
        self.section = section
        tables: dict[Any, str] = {f.default_factory: f.name for f in fields(Config)}
        self.table = tables.get(type(section), type(section).__name__)
        for f in fields(section):
            value = getattr(section, f.name)
            if isinstance(value, float):
                self.check(f.name, math.isfinite(value), "must be a finite number")

    def check(self, key: str, ok: bool, rule: str) -> None:
        if not ok:
            raise ConfigError(f"[{self.table}] {key} = {_fmt(getattr(self.section, key))}: {rule}")

    def positive(self, *keys: str) -> None:
        for key in keys:
            self.check(key, getattr(self.section, key) > 0, f"must be > 0{_unit(key)}")

    def non_negative(self, *keys: str) -> None:
        for key in keys:
            self.check(key, getattr(self.section, key) >= 0, f"must be >= 0{_unit(key)}")

    def within(self, key: str, lo: float, hi: float) -> None:
        self.check(key, lo <= getattr(self.section, key) <= hi, f"must be in [{_fmt(lo)}, {_fmt(hi)}]{_unit(key)}")

    def below(self, low: str, high: str, *, fix: str = "") -> None:
        """``low`` < ``high``, reported on the one of the two that was changed from its default."""
        self._order(low, high, strict=True, fix=fix)

    def at_most(self, low: str, high: str, *, fix: str = "") -> None:
        self._order(low, high, strict=False, fix=fix)

    def _order(self, low: str, high: str, *, strict: bool, fix: str) -> None:
        a, b = getattr(self.section, low), getattr(self.section, high)
        if a < b or (not strict and a == b):
            return
        defaults = {f.name: f.default for f in fields(self.section)}
        tail = f" ({fix})" if fix else ""
        if a == defaults[low] and b != defaults[high]:
            rule = f"must be {'above' if strict else 'at least'} {low} = {_fmt(a)}{_unit(low)}"
            self.check(high, False, rule + tail)
        rule = f"must be {'below' if strict else 'at most'} {high} = {_fmt(b)}{_unit(high)}"
        self.check(low, False, rule + tail)


@dataclass(frozen=True)
class ProsodyConfig:
    """Frame-level pitch, loudness and voicing."""

    hop_ms: float = 10.0
    """Frame step. Every frame-level series is sampled at this step."""
    window_ms: float = 25.0
    """Loudness (RMS) window, and the YIN integration window."""
    fmin_hz: float = 65.0
    """Lowest F0 searched for (deep male voices reach ~70 Hz)."""
    fmax_hz: float = 500.0
    """Highest F0 searched for (raised female voices reach ~450 Hz)."""
    yin_threshold: float = 0.15
    """YIN absolute threshold on the cumulative mean normalised difference."""
    voicing_max_aperiodicity: float = 0.35
    """A frame is voiced when its best YIN dip is below this (0 = perfectly periodic)."""
    silence_floor_db: float = -55.0
    """Frames quieter than this (dBFS) are never voiced (``Frames.voiced``: pitch, loudness)."""
    relative_floor_below_speech_db: float = 15.0
    """Syllables and phonation are counted on ``Frames.voiced_relative``: periodic frames above a
    silence floor that follows a quiet recording down (signal/floor.py), this far under the speech
    level (the 95th percentile of the periodic frames' levels over the last 30 s), so a soft voice or
    a low line keeps its syllables where ``silence_floor_db`` cuts most of them. Never above
    ``silence_floor_db``: a recording at an ordinary level counts on ``Frames.voiced``."""
    relative_floor_above_noise_db: float = 10.0
    """... raised to this far over the noise level (the 10th percentile of all frame levels over the
    last 30 s) where that is higher, so that hum or line noise in the speaker's silences is not
    phonation."""
    octave_jump_cost: float = 0.35
    """Pitch tracking: within a voiced stretch, the F0 path minimises the YIN dips' depths plus this
    much per octave of change between frames (Praat's default octave-jump cost), so a strong
    harmonic (phone speech has no fundamental) cannot flip single frames an octave up. 0 = each
    frame on its own."""
    octave_cost: float = 0.005
    """Pitch tracking: a candidate's cost rises by this much per octave below ``fmax_hz``, so that of a
    period and its multiples, equally periodic, the period wins (as Praat's octave cost does)."""
    pitch_lookahead_ms: float = 100.0
    """Pitch tracking: a frame's F0 is decided once this much more of its voiced stretch has been
    heard (or the stretch ended). Frames are released this much later in a live stream."""

    def __post_init__(self) -> None:
        c = _Checks(self)
        c.positive("hop_ms", "window_ms", "fmin_hz", "fmax_hz")
        c.at_most("hop_ms", "window_ms", fix="consecutive frames must overlap or touch")
        c.below("fmin_hz", "fmax_hz")
        c.check(
            "fmax_hz", self.fmax_hz < NYQUIST_HZ, "must be < 8000 Hz, the Nyquist frequency of the 16 kHz analysis rate"
        )
        c.within("yin_threshold", 0.0, 1.0)
        c.within("voicing_max_aperiodicity", 0.0, 1.0)
        c.check("silence_floor_db", self.silence_floor_db <= 0, "must be <= 0 dBFS")
        c.non_negative("relative_floor_below_speech_db", "relative_floor_above_noise_db")
        c.non_negative("octave_jump_cost", "octave_cost", "pitch_lookahead_ms")


@dataclass(frozen=True)
class RateConfig:
    """Speaking rate (words) and articulation rate (acoustic syllable nuclei)."""

    window_s: float = 5.0
    """Rolling window for the timeline's wpm and syllables/s."""
    pause_word_multiple: float = 2.0
    """A gap between words is a pause, not talk, when it is at least this many of the speaker's own
    median word durations long (a silence two of their words would fit in). So the threshold
    follows the speaker's pace: about 0.5-0.7 s at a calm pace, shorter when they speed up. Pauses
    do not count as talk time (speaking rate, talk time)."""
    pause_min_s: float = 0.25
    """Gaps shorter than this are never pauses, however fast the speaker (stop closures, a breath
    inside a phrase)."""
    pause_max_s: float = 1.0
    """Gaps at least this long are always pauses, however slow the speaker."""
    pause_default_s: float = 0.5
    """The pause threshold when there are too few words to time the speaker by (no transcript)."""
    syllable_min_dip_db: float = 2.0
    """A syllable nucleus is an intensity peak with a dip of at least this before the next one
    (de Jong & Wempe 2009 use 2 dB). Given for speech at ``timescale_ref_sps`` and scaled with the
    picker's time constants: the dips between fast syllables are shallower."""
    syllable_floor_below_peak_db: float = 25.0
    """Peaks more than this below the loudest recent speech are ignored (de Jong & Wempe: 25 dB)."""
    syllable_min_spacing_s: float = 0.07
    """Two nuclei closer than this are one (no speaker exceeds ~14 syllables/s)."""
    intensity_smooth_ms: float = 30.0
    """Smoothing of the intensity contour before peak picking."""
    min_phonation_s: float = 1.0
    """A rolling rate needs at least this much phonation in its window, else it is unknown."""
    phonation_bridge_s: float = 0.3
    """Unvoiced gaps up to this long between voiced frames (stop closures, breaths) count as
    phonation time for the articulation rate; longer ones are pauses. Given for speech at
    ``timescale_ref_sps``: it is multiplied by that rate over the speaker's running articulation rate,
    within ``[timescale_min_factor, timescale_max_factor]`` (not held back by the reference count
    that gates the picker's coarser time constants: a bridge misses no syllables), so a slower
    speaker's longer closures still count as phonation."""
    timescale_ref_sps: float = 5.0
    """The syllable picker's time constants (``intensity_smooth_ms``, ``syllable_min_spacing_s``,
    ``phonation_bridge_s``) and its ``syllable_min_dip_db`` are given for speech articulated at this
    rate (calm conversational English: about 4.5-5.5 syllables/s). They are multiplied by this rate
    over the speaker's running articulation rate, within ``[timescale_min_factor,
    timescale_max_factor]``: a fixed resolution merges the shorter, shallower dips between fast
    syllables, and splits a slow speaker's drawn-out vowels (see signal/syllables.py)."""
    timescale_min_factor: float = 0.5
    """The time constants shrink to no less than this fraction of their value (speech at twice
    ``timescale_ref_sps`` or faster). 1 keeps them from shrinking."""
    timescale_max_factor: float = 1.4
    """The time constants grow to no more than this multiple of their value (speech at
    ``timescale_ref_sps`` / 1.4, about 3.6 syllables/s, or slower). Bounded more tightly than the
    shrinking, since a count that misses syllables reads slow (signal/syllables.py). 1 keeps them
    from growing."""
    timescale_window_s: float = 10.0
    """The running articulation rate forgets nuclei over about this much phonation."""
    timescale_prior_s: float = 2.0
    """The running rate starts at ``timescale_ref_sps`` as if measured over this much phonation."""

    def __post_init__(self) -> None:
        c = _Checks(self)
        c.positive("window_s", "syllable_floor_below_peak_db")
        c.positive("pause_word_multiple")
        c.at_most("pause_min_s", "pause_max_s")
        c.non_negative(
            "pause_min_s",
            "pause_max_s",
            "pause_default_s",
            "syllable_min_dip_db",
            "syllable_min_spacing_s",
            "intensity_smooth_ms",
            "min_phonation_s",
            "phonation_bridge_s",
            "timescale_window_s",
            "timescale_prior_s",
        )
        c.positive("timescale_ref_sps")
        c.check(
            "timescale_min_factor",
            0 < self.timescale_min_factor <= 1,
            "must be in (0, 1] (1 keeps the time constants from shrinking)",
        )
        c.check(
            "timescale_max_factor",
            1 <= self.timescale_max_factor <= 3,
            "must be in [1, 3] (1 keeps the time constants from growing)",
        )


@dataclass(frozen=True)
class BaselineConfig:
    """The speaker's calm reference, when no profile is given (self-calibration)."""

    min_speech_s: float = 5.0
    """A provisional baseline, and so the first warnings, after this much voiced speech (about
    8-10 s of talk)."""
    calibration_speech_s: float = 60.0
    """The baseline is refined with calm speech until it rests on this much voiced speech; then it
    is frozen."""
    block_s: float = 1.0
    """Calibration speech is cut into blocks of this much voiced speech; each block gives one median."""
    quantile: float = 0.5
    """The baseline is this quantile of the block medians: robust to a heated start, because the
    calmer blocks (not the average) set it. See docs/design.md."""
    calm_max_agitation: float = 0.6
    """Once a provisional baseline exists, a block refines it only if the speaker's agitation
    stayed below this throughout the block and no warning was active: an agitated stretch never
    pulls the baseline up."""

    def __post_init__(self) -> None:
        c = _Checks(self)
        c.positive("min_speech_s", "calibration_speech_s", "block_s")
        c.at_most("min_speech_s", "calibration_speech_s")
        c.within("quantile", 0.0, 1.0)
        c.within("calm_max_agitation", 0.0, 1.0)


@dataclass(frozen=True)
class AgitationConfig:
    """How far above baseline counts as agitated. Each cue ramps linearly from 0 at ``*_start``
    to 1 at ``*_full``; the score is ``max_weight * max(cues) + (1 - max_weight) * mean(cues)``."""

    window_s: float = 1.0
    """Pitch and loudness are medians over the speaker's last this-many seconds of *voiced* frames,
    pauses skipped: a sentence's first, stressed syllables are weighed with the speech before them
    (pitch and loudness fall across an utterance, so its start alone reads high)."""
    min_voiced_s: float = 0.3
    """Pitch and loudness cues need this much voicing: a single stressed syllable at the start of
    the first phrase is not a raised voice."""
    phrase_pause_s: float = 0.5
    """A pause (no voiced frame) at least this long starts a new phrase, for ``phrase_min_voiced_s``."""
    phrase_min_voiced_s: float = 0.4
    """Loudness is also measured over the current phrase alone (its last ``window_s`` of voiced
    frames, not reaching back across the pause before it) once it holds this much voicing, and the
    louder of the two counts: a voice raised at the start of a turn shows within its first 0.4 s of
    voicing instead of having to outweigh the calmer turn before it. Less than this is a stressed
    syllable, not a raised voice (0.3 s gave a false alarm on calm speech in the benchmark)."""
    rate_window_s: float = 2.0
    """The rate cue uses the articulation rate over the speaker's last this-many seconds of
    phonation, pauses skipped."""
    loudness_start_db: float = 4.0
    loudness_full_db: float = 10.0
    pitch_start_st: float = 2.0
    pitch_full_st: float = 6.0
    rate_start_ratio: float = 1.15
    """Articulation rate relative to baseline where the rate cue starts."""
    rate_full_ratio: float = 1.5
    rate_norm_start_sps: float = 6.0
    """Absolute articulation rate where the rate cue starts whatever the baseline: calm
    conversational English articulates about 4.5-5.5 syllables/s; 6 is brisk, 7.5 rushed."""
    rate_norm_full_sps: float = 7.5
    rate_baseline_floor_sps: float = 5.0
    """The rate baseline is never taken below this population norm (conversational English is
    articulated at about 4.5-5.5 syllables/s), so a slow start or hesitant speech does not make
    ordinary speech read as fast."""
    comfortable_wpm_min: float = 120.0
    """Lower end of comfortable phone speech (the pace band shown in summaries and reports)."""
    comfortable_wpm_max: float = 150.0
    """Upper end of comfortable phone speech; reported against in summaries."""
    rushed_wpm: float = 160.0
    """Above this many words per minute of talk time, speech sounds rushed."""
    max_weight: float = 0.6
    """Weight of the strongest cue in the agitation score; the rest goes to the mean of the cues."""
    speaking_lookback_s: float = 0.3
    """A 0.1 s step counts as speech (its cues and agitation are computed, its loudness shown) when a
    frame in the last this-many seconds was voiced."""

    def __post_init__(self) -> None:
        c = _Checks(self)
        c.positive("window_s", "rate_window_s", "speaking_lookback_s", "rate_start_ratio", "rate_norm_start_sps")
        c.positive("comfortable_wpm_min", "comfortable_wpm_max", "rushed_wpm")
        c.non_negative("min_voiced_s", "rate_baseline_floor_sps")
        c.at_most("min_voiced_s", "window_s", fix="the pitch and loudness cues could never be known")
        c.positive("phrase_pause_s", "phrase_min_voiced_s")
        c.at_most("phrase_min_voiced_s", "window_s", fix="the phrase loudness could never be measured")
        for cue in ("loudness", "pitch", "rate", "rate_norm"):
            start = next(f.name for f in fields(self) if f.name.startswith(f"{cue}_start_"))
            c.below(start, start.replace("_start_", "_full_"))
        c.within("max_weight", 0.0, 1.0)


@dataclass(frozen=True)
class WarningConfig:
    """When cues become a warning: episodes of agitated speech counted across turns, with
    hysteresis and a cooldown (see ``cues.py`` and docs/design.md)."""

    evidence_window_s: float = 2.0
    """A warning rests on the speaker's last this-many seconds of *speech*: pauses, silence and the
    other party's turns neither add to it nor clear it."""
    sustain_s: float = 0.6
    """Agitated speech (cue at or above its start threshold) needed within that window to raise a
    warning. Short sentences add up; a single loud syllable does not reach it."""
    customer_sustain_s: float = 0.4
    """The same for the customer's ``customer_agitated``: shorter, because its job is to switch the
    agent's coaching to de-escalation early, and a calm caller is far below the threshold (no calm
    customer in the benchmark came within reach of it even at this setting)."""
    speech_gap_s: float = 0.1
    """A step with no voiced frame still counts as speech when voicing stopped less than this
    before it (an unvoiced consonant), so a gap inside a sentence neither drops evidence nor
    depends on where the 0.1 s steps fall."""
    release_s: float = 1.5
    """A warning ends after this much calm speech (every cue of the episode below its end threshold)
    since its last agitated step. Silence alone does not end it."""
    cooldown_s: float = 15.0
    """After a warning ends, the same kind cannot start again for this long."""
    gap_s: float = 3.0
    """After any warning ends, no other warning starts for this long (one episode, one warning)."""
    on_loud: float = 0.5
    off_loud: float = 0.25
    on_high_pitch: float = 0.5
    off_high_pitch: float = 0.25
    on_fast: float = 0.5
    off_fast: float = 0.25
    on_agitated: float = 0.55
    off_agitated: float = 0.35
    on_mirroring: float = 0.5
    off_mirroring: float = 0.25
    on_customer_agitated: float = 0.5
    """The customer's value is their strongest cue (or the agitation score, if higher)."""
    off_customer_agitated: float = 0.25
    agitated_min_cues: int = 2
    """The ``agitated`` warning needs at least this many cues (loud, high pitch, fast) up at once;
    a single cue has its own kind of warning."""
    agitated_cue_level: float = 0.35
    """A cue counts as up, for ``agitated_min_cues``, at or above this value (cue values run 0 to 1)."""

    def __post_init__(self) -> None:
        c = _Checks(self)
        c.positive("evidence_window_s", "sustain_s", "customer_sustain_s")
        c.at_most("sustain_s", "evidence_window_s", fix="else no warning can start: raise evidence_window_s too")
        c.at_most(
            "customer_sustain_s", "evidence_window_s", fix="else no warning can start: raise evidence_window_s too"
        )
        c.non_negative("speech_gap_s", "release_s", "cooldown_s", "gap_s")
        for f in fields(self):
            if f.name.startswith("on_"):
                off = "off_" + f.name[3:]
                c.check(f.name, 0 < getattr(self, f.name) <= 1, "must be in (0, 1]: cue values run from 0 to 1")
                c.within(off, 0.0, 1.0)
                c.below(off, f.name, fix="hysteresis: a warning ends below a lower value than it starts at")
        c.check("agitated_min_cues", 1 <= self.agitated_min_cues <= 3, "must be 1, 2 or 3 (loud, high pitch, fast)")
        c.within("agitated_cue_level", 0.0, 1.0)


@dataclass(frozen=True)
class DeescalationConfig:
    """Two voices: the customer's state changes the agent's coaching."""

    upset_hold_s: float = 10.0
    """De-escalation mode lasts while the customer's agitation warning is on and this long after;
    an agent whose voice rises then is ``mirroring``."""
    tighten_factor: float = 0.7
    """In de-escalation mode the agent's warnings start at this fraction of their usual thresholds."""
    reject_leak: bool = True
    """Frames where the agent channel carries the customer's voice (same pitch at the same time,
    weaker than on the customer channel) are not the agent talking. See docs/design.md."""
    leak_max_pitch_diff_st: float = 0.7
    """Agent and customer F0 closer than this (semitones) in the same frame is one voice."""

    def __post_init__(self) -> None:
        c = _Checks(self)
        c.non_negative("upset_hold_s")
        c.check(
            "tighten_factor", 0 < self.tighten_factor <= 1, "must be in (0, 1]: 1 leaves the thresholds as they are"
        )
        c.positive("leak_max_pitch_diff_st")


@dataclass(frozen=True)
class DynamicsConfig:
    """Thresholds for conversation dynamics (interruptions, dead air, monologues). Every threshold is
    inclusive."""

    interruption_min_overlap_s: float = 0.5
    """Overlap that makes a talk-over an interruption."""
    report_customer_interruptions: bool = True
    """Also report the customer interrupting the agent."""
    dead_air_min_s: float = 6.0
    """Silence on both sides that counts as dead air."""
    dead_air_count_edges: bool = False
    """Count silence before the first and after the last speech too."""
    monologue_max_s: float = 40.0
    """Continuous talk by one speaker that counts as a monologue."""
    monologue_bridge_gap_s: float = 1.5
    """Pauses shorter than this do not end a monologue, unless the other speaker talks during the pause."""
    report_customer_monologues: bool = False
    """Also report the customer's monologues (off: the advice is the agent's)."""
    hop_s: float = 0.01
    """Frame hop of the per-frame activity ``DynamicsTracker`` turns into segments (as
    ``segments_from_activity`` does)."""
    min_speech_s: float = 0.1
    """Shortest activity segment kept."""
    bridge_gap_s: float = 0.3
    """Longest pause bridged inside an activity segment."""

    def __post_init__(self) -> None:
        c = _Checks(self)
        c.non_negative(*(f.name for f in fields(self) if f.name.endswith("_s")))
        c.positive("hop_s")

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


ASR_DEVICES = ("auto", "cpu", "cuda")
"""Where faster-whisper may run; ``auto`` is CUDA when CTranslate2 sees a GPU, else the CPU."""
ASR_COMPUTE_TYPES = ("int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16", "float32")
"""CTranslate2 compute types (whether the device supports one is checked when the model is set up)."""


@dataclass(frozen=True)
class TranscriptionConfig:
    """faster-whisper settings."""

    language: str = "en"
    beam_size: int = 5
    """Beam size for recordings (faster-whisper's default)."""
    live_beam_size: int = 1
    """Beam size for live transcription, where latency matters more."""
    vad_filter: bool = True
    temperature: float = 0.0
    """Decoding temperature for recordings. 0 decodes deterministically (beam search) with no
    fallback, so the same file gives the same transcript on every run. faster-whisper's own default
    re-decodes repetitive or low-confidence windows by random sampling at 0.2 to 1.0, which made
    transcripts differ from run to run. Above 0, every window is sampled at random at that
    temperature. Live transcription always decodes at 0: LocalAgreement needs repeatable
    hypotheses."""
    file_chunk_s: float = 28.0
    """File input is transcribed once, in chunks of at most this length cut at quiet points."""
    repair_gaps: bool = True
    """Recordings: speech the VAD hears but whisper gave no word for (it jumped ahead, stopped early
    in a window of fast speech, or a decoding loop was dropped there: a stretch under half covered by
    words, or a hole of 1 s or more inside one) is decoded again on its own, at the same temperature;
    what a second reading still leaves out is looked at again, up to three rounds."""
    repair_sparse_ratio: float = 0.5
    """Recordings, with ``repair_gaps``: a stretch of speech whose words per second fall below this
    share of the chunk's words per second of speech is decoded again on its own too (whisper merges a
    sentence said twice in a row into one and spreads its words over both). 0 turns it off."""
    trim_words_to_speech: bool = True
    """Recordings: cut the silence whisper folds into a word (a pause given to the word before or
    after it) using the VAD, so that pauses do not count as talk time."""
    min_word_probability: float = 0.0
    """Recordings: words whisper gives a lower probability than this are left out (0 keeps all)."""
    live_max_backlog_s: float = 6.0
    """Live: when transcription falls this far behind real time, it skips the audio it has not
    heard yet (and says so in an ``asr`` event); prosody and warnings never wait for it."""
    device: str = "auto"
    """Where faster-whisper runs: ``cpu``, ``cuda``, or ``auto`` (CUDA when CTranslate2 sees a GPU).
    ``--device`` overrides it; a result records the device that was used."""
    compute_type: str = ""
    """CTranslate2 compute type (``int8``, ``int8_float16``, ``float16``, ``float32``, ...); empty is
    int8 on the CPU and float16 on CUDA. ``--compute-type`` overrides it."""

    def __post_init__(self) -> None:
        c = _Checks(self)
        c.check("language", bool(self.language.strip()), 'must be a language code such as "en"')
        c.check("beam_size", self.beam_size >= 1, "must be >= 1")
        c.within("repair_sparse_ratio", 0.0, 1.0)
        c.check("live_beam_size", self.live_beam_size >= 1, "must be >= 1")
        c.non_negative("temperature")
        c.positive("live_max_backlog_s")
        c.check("file_chunk_s", self.file_chunk_s >= 1, "must be >= 1 s (whisper needs context around each word)")
        c.within("min_word_probability", 0.0, 1.0)
        c.check("device", self.device in ASR_DEVICES, f"must be one of {', '.join(ASR_DEVICES)}")
        c.check(
            "compute_type",
            self.compute_type in ("", *ASR_COMPUTE_TYPES),
            f"must be empty (the device's default) or one of {', '.join(ASR_COMPUTE_TYPES)}",
        )


@dataclass(frozen=True)
class SeparationConfig:
    """Telling two voices apart in a mono recording (``--speakers``): speaker embeddings of short
    windows over speech only, clustered in two, smoothed; see ``voice_coach/voices/separate.py``."""

    window_s: float = 1.6
    """Length of the window each speaker embedding describes."""
    step_s: float = 0.5
    """Step between window starts inside a stretch of speech (2 windows per second of speech, plus one
    ending at each stretch's end). The cost of separation is proportional to the number of windows; 0.2
    to 0.8 s gave the same attribution on the benchmark's mixes (docs/benchmarks/separation.md)."""
    vad_threshold: float = 0.3
    """Silero VAD speech probability above which a 32 ms frame is speech (below faster-whisper's 0.5:
    at 0.5 Silero misses much of some shouted speech; docs/benchmarks/separation.md)."""
    min_speech_s: float = 0.25
    """Speech stretches shorter than this are dropped by the speech detector."""
    min_silence_s: float = 0.1
    """Pauses shorter than this do not end a speech stretch."""
    smooth_s: float = 0.5
    """Window labels are smoothed over this much time (a voice change needs more evidence)."""
    min_stretch_s: float = 0.4
    """A stretch of one voice shorter than this is not attributed (voice -1)."""
    min_margin: float = 0.02
    """A stretch whose embeddings are nearer to one voice than the other by less than this cosine
    similarity is not attributed (voice -1): overlap, or unsure."""
    two_voice_max_similarity: float = 0.9
    """``--speakers auto``: two voices only when the cosine similarity of the two clusters' centroids
    is below this (one person's windows split at random sit above it)."""
    min_voice_share: float = 0.05
    """``--speakers auto``: the smaller cluster must hold at least this share of the speech windows
    for two voices."""
    min_copresence: float = 0.6
    """``--speakers auto``: two voices must both speak in at least this share of the blocks (~10 s of
    speech each) of the recording: people in a call take turns all through it, while one person's
    calm and angry stretches follow each other."""
    max_voice_absence: float = 0.125
    """``--speakers auto``, second test (on the voices joined from three styles of speech): two voices
    only when neither is silent for more than this share of the speech in a row. Two people on a call
    keep taking turns; one person's angry stretches fill only part of it (the one-voice recordings of
    the tuned group reached 0.15 at least; docs/benchmarks/separation.md)."""
    timbre_weight: float = 1.0
    """Once two voices are decided, the windows are clustered again on their speaker embeddings joined
    with their MFCC statistics (mean and spread of 19 MFCCs), standardised and weighted by this (1: the
    two count about equally; 0: embeddings only). GE2E alone puts two calm same-gender voices nearly
    in one place in the phone band; the MFCCs still tell them apart (docs/benchmarks/separation.md)."""
    block_windows: int = 256
    """Windows embedded at once (bounds memory: a block holds ~160 frames x 256 units each)."""

    def __post_init__(self) -> None:
        c = _Checks(self)
        c.positive("window_s", "step_s", "block_windows")
        c.check("window_s", self.window_s >= 0.5, "must be >= 0.5 s (an embedding needs half a second of speech)")
        c.within("vad_threshold", 0.0, 1.0)
        c.non_negative("min_speech_s", "min_silence_s", "smooth_s", "min_stretch_s", "min_margin")
        c.within("two_voice_max_similarity", -1.0, 1.0)
        c.within("min_voice_share", 0.0, 0.5)
        c.within("min_copresence", 0.0, 1.0)
        c.within("max_voice_absence", 0.0, 1.0)
        c.non_negative("timbre_weight")


@dataclass(frozen=True)
class Config:
    prosody: ProsodyConfig = field(default_factory=ProsodyConfig)
    rate: RateConfig = field(default_factory=RateConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)
    agitation: AgitationConfig = field(default_factory=AgitationConfig)
    warnings: WarningConfig = field(default_factory=WarningConfig)
    deescalation: DeescalationConfig = field(default_factory=DeescalationConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    transcription: TranscriptionConfig = field(default_factory=TranscriptionConfig)
    separation: SeparationConfig = field(default_factory=SeparationConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, origin: str = "config") -> Config:
        config = cls()
        for table, values in data.items():
            known = {f.name: f for f in fields(cls)}
            if table not in known:
                raise ConfigError(f"{origin}: unknown table [{table}]; known: {', '.join(known)}")
            if not isinstance(values, dict):
                raise ConfigError(f"{origin}: [{table}] must be a table of settings")
            section = getattr(config, table)
            config = replace(config, **{table: _updated(section, values, f"{origin} [{table}]")})
        return config

    @classmethod
    def from_toml(cls, path: str | Path) -> Config:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
        return cls.from_dict(data, origin=str(path))


def _updated(section: Any, values: dict[str, Any], origin: str) -> Any:
    assert is_dataclass(section) and not isinstance(section, type)
    types = {f.name: type(getattr(section, f.name)) for f in fields(section)}
    changes = {}
    for key, value in values.items():
        if key not in types:
            raise ConfigError(f"{origin}: unknown setting '{key}'; known: {', '.join(types)}")
        want = types[key]
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, want) or (want is not bool and isinstance(value, bool)):
            raise ConfigError(f"{origin}: '{key}' must be {want.__name__}, got {value!r}")
        changes[key] = value
    try:
        return replace(section, **changes)
    except ConfigError as exc:  # "[table] key = value: rule" from the table's own checks
        raise ConfigError(f"{origin.rsplit(' [', 1)[0]} {exc}") from None


def load_config(path: str | Path | None) -> Config:
    """The default configuration, or the one in a TOML file."""
    return Config() if path is None else Config.from_toml(path)
