"""Acoustic syllable nuclei, in the manner of de Jong & Wempe (2009).

A syllable nucleus is a peak of the (smoothed) intensity contour that

* is voiced (a vowel carries F0; the caller's voicing applies the silence floor: the engine
  passes ``Frames.voiced_relative``, signal/floor.py),
* rises at least ``min_dip_db`` above the dip before it and falls that much after it,
* is no more than ``floor_below_peak_db`` below the loudest recent speech, and
* is at least ``min_spacing_s`` after the previous nucleus.

The time resolution follows the speaker's pace. The intensity smoothing, the minimum spacing and
the minimum dip are given for speech at ``timescale_ref_sps`` (5 syllables/s); they are multiplied
by the reference over the speaker's running articulation rate (nuclei per second of phonation over
the last ~10 s of it), within ``[timescale_min_factor, timescale_max_factor]``. With fixed values
the count depends on the pace: the dips between fast syllables are shorter and shallower (the
syllables run into each other, and any smoothing fills short dips in), so a fixed smoothing and a
fixed 2 dB merge them, while in slow speech they let through dips inside one drawn-out vowel. Real speech
time-stretched by sox was measured up to 15 % off the factor that way (docs/benchmarks/rate.md).
The running rate is the picker's own count, and speech whose syllables it partly misses reads
slow: a resolution that grew on it alone could feed on its own misses (a speaker who speeds up
after slow speech would stay coarse). So the constants grow only as far as a second count, made
at the reference resolution throughout, also reads the speech as slow; they shrink on the picker's
own count, where a finer resolution can only find more.

Phonation time is counted here too: voiced frames, and the unvoiced gaps between them (stop
closures, breaths) up to ``phonation_bridge_s`` times the reference over the running rate (within
the same bounds, and not gated: a wider bridge misses no syllables). A fixed bridge
does not follow the pace: slowed down, a 0.25 s closure becomes a 0.31 s pause. The picker reports
the phonation frames each ``feed`` completes, so the articulation rate has one definition for files,
the live stream and the timeline.

The picker is a small state machine fed frame by frame, so the same code serves files and the
live stream; ``articulation`` and ``syllable_nuclei`` run it over whole arrays. A peak is confirmed once the contour
has fallen ``min_dip_db`` after it, i.e. with a delay of a few tens of milliseconds.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import numpy as np

from voice_coach.config import RateConfig


class Picked(NamedTuple):
    """What one ``SyllablePicker.feed`` found."""

    nuclei: list[int]
    """Frame indices (stream-absolute) of the nuclei these frames confirmed."""
    phonation_frames: int
    """Phonation frames these frames completed: their voiced frames, and the bridged gap that a
    voiced frame closes (wherever the gap began)."""


class _Peaks:
    """The peak-picking state machine over the intensity contour, at a time scale given per frame."""

    def __init__(self, *, hop_s: float, config: RateConfig, max_scale: float):
        self.config = config
        self._smooth_ref = max(1.0, config.intensity_smooth_ms / 1000 / hop_s)
        self._spacing_ref = config.syllable_min_spacing_s / hop_s
        self._max_smooth = self._smooth_ref * max_scale
        self._ring: deque[float] = deque(maxlen=int(np.ceil(self._max_smooth)))
        self._voiced_recent: deque[tuple[int, bool]] = deque(maxlen=2 * int(np.ceil(self._max_smooth)) + 5)
        self._ref_window = max(1, int(round(10.0 / hop_s)))  # loudest speech over ~10 s
        self._ref: deque[tuple[int, float]] = deque()  # monotonic queue for a sliding maximum
        self._index = 0
        self._rising = True
        self._peak_value = -np.inf
        self._peak_index = -1
        self._peak_voiced = False  # any frame within 2 of the current peak is voiced
        self._valley_value = np.inf
        self._last_nucleus = -(10**9)

    def step(self, level: float, is_voiced: bool, scale: float) -> int | None:
        """Feed one frame; the index of the nucleus it confirms, if any."""
        dip = self.config.syllable_min_dip_db * scale
        i = self._index
        self._index += 1
        self._ring.append(level)
        self._voiced_recent.append((i, is_voiced))
        value, lag = self._smoothed(min(self._max_smooth, max(1.0, self._smooth_ref * scale)))
        centre = i - int(round(lag))
        # Sliding maximum of the smoothed contour, for the "25 dB below the peak" rule.
        while self._ref and self._ref[-1][1] <= value:
            self._ref.pop()
        self._ref.append((i, value))
        while self._ref[0][0] <= i - self._ref_window:
            self._ref.popleft()
        if self._rising and i <= self._peak_index + 2:
            self._peak_voiced |= is_voiced  # a frame just after the peak
        found = None
        if self._rising:
            if value > self._peak_value:
                self._set_peak(value, centre)
            elif value < self._peak_value - dip:
                if self._accept(self._peak_index, self._peak_value, self._spacing_ref * scale):
                    found = self._last_nucleus = self._peak_index
                self._rising = False
                self._valley_value = value
        elif value < self._valley_value:
            self._valley_value = value
        elif value > self._valley_value + dip:
            self._rising = True
            self._set_peak(value, centre)
        return found

    def _smoothed(self, length: float) -> tuple[float, float]:
        """Moving average of the last ``length`` frames (a fractional length weighs the oldest
        frame by its fraction), and its lag in frames (a centred average, realised causally)."""
        ring = self._ring
        whole = int(length)
        frac = length - whole
        values = list(ring)[-(whole + 1) :] if frac > 0 and len(ring) > whole else list(ring)[-whole:]
        if len(values) > whole:
            total = frac * values[0] + sum(values[1:])
            weight = frac + whole
        else:
            total, weight = sum(values), len(values)
        return total / weight, (min(length, len(ring)) - 1) / 2

    def _set_peak(self, value: float, centre: int) -> None:
        # The voicing around the peak is read now, while its frames are in the buffer: a peak is
        # confirmed only once the contour has fallen ``min_dip_db``, which on a slowly decaying
        # vowel (held, stressed, or slow speech) comes long after they have left it.
        self._peak_value, self._peak_index = value, centre
        self._peak_voiced = any(v for j, v in self._voiced_recent if abs(j - centre) <= 2)

    def _accept(self, index: int, value: float, min_spacing: float) -> bool:
        if value < self._ref[0][1] - self.config.syllable_floor_below_peak_db:
            return False
        if index - self._last_nucleus < min_spacing - 1e-6:  # frames; float error must not reject
            return False
        return self._peak_voiced


class SyllablePicker:
    """Streaming syllable-nucleus detector and phonation counter over per-frame loudness (dB) and
    voicing (see the module docstring)."""

    def __init__(self, *, hop_s: float, config: RateConfig = RateConfig()):
        self.hop_s = hop_s
        self.config = config
        c = config
        self._min_scale = c.timescale_min_factor
        self._max_scale = c.timescale_max_factor
        self._peaks = _Peaks(hop_s=hop_s, config=c, max_scale=c.timescale_max_factor)
        # the second count, at the reference resolution, that any growth must agree with
        self._reference = _Peaks(hop_s=hop_s, config=c, max_scale=1.0) if c.timescale_max_factor > 1 else None
        # Running articulation rates: nuclei of each count and phonation seconds, forgotten over
        # ``timescale_window_s`` of phonation and started from ``timescale_ref_sps`` worth
        # ``timescale_prior_s`` of phonation.
        self._decay = float(np.exp(-hop_s / c.timescale_window_s)) if c.timescale_window_s > 0 else 1.0
        self._phon_s = c.timescale_prior_s
        self._nuclei = c.timescale_ref_sps * c.timescale_prior_s
        self._reference_nuclei = c.timescale_ref_sps * c.timescale_prior_s
        self._bridge_ref = int(round(c.phonation_bridge_s / hop_s))  # frames, at the reference pace
        self._gap_run = 1 << 30
        self._scale = 1.0
        self._bridge_scale = 1.0

    @property
    def timescale(self) -> float:
        """The factor the time constants are multiplied by now (see the module docstring)."""
        return self._scale

    def feed(self, loudness_db: np.ndarray, voiced: np.ndarray) -> Picked:
        found: list[int] = []
        phonation = 0
        for level, is_voiced in zip(
            np.asarray(loudness_db, dtype=float).tolist(), np.asarray(voiced, dtype=bool).tolist(), strict=False
        ):
            nucleus = self._peaks.step(level, is_voiced, self._scale)
            if nucleus is not None:
                found.append(nucleus)
                self._nuclei += 1.0
            if self._reference is not None and self._reference.step(level, is_voiced, 1.0) is not None:
                self._reference_nuclei += 1.0
            phonation += self._track_rate(is_voiced)
        return Picked(found, phonation)

    def _track_rate(self, is_voiced: bool) -> int:
        """Phonation bookkeeping: the phonation frames this frame completes (itself, and the gap
        it closes when that is short enough to bridge at the current pace), the running
        articulation rates, and the time-constant factors that follow from them."""
        if is_voiced:
            bridged = self._gap_run <= self._bridge_ref * self._bridge_scale + 1e-6
            added = 1 + (self._gap_run if bridged else 0)
            self._gap_run = 0
        else:
            self._gap_run += 1
            return 0
        forget = self._decay**added
        self._phon_s = self._phon_s * forget + added * self.hop_s
        self._nuclei *= forget
        self._reference_nuclei *= forget
        ref_sps = self.config.timescale_ref_sps
        factor = ref_sps * self._phon_s / self._nuclei if self._nuclei > 0 else 1.0
        self._bridge_scale = min(self._max_scale, max(self._min_scale, factor))
        if factor > 1:  # coarser: only as far as the count at the reference resolution reads slow too
            agreed = ref_sps * self._phon_s / self._reference_nuclei if self._reference_nuclei > 0 else factor
            factor = max(1.0, min(factor, agreed))
        self._scale = min(self._max_scale, max(self._min_scale, factor))
        return added


def syllable_nuclei(
    loudness_db: np.ndarray,
    voiced: np.ndarray,
    *,
    hop_s: float,
    config: RateConfig = RateConfig(),
) -> np.ndarray:
    """Frame indices of syllable nuclei in whole arrays (see the module docstring)."""
    return articulation(loudness_db, voiced, hop_s=hop_s, config=config).nuclei


class Articulation(NamedTuple):
    """Syllable nuclei (frame indices) and phonation time of a whole recording (``articulation``)."""

    nuclei: np.ndarray
    phonation_s: float
    min_phonation_s: float = 1.0

    @property
    def rate(self) -> float | None:
        """Syllables per second of phonation (None with under ``min_phonation_s`` of it)."""
        return articulation_rate(len(self.nuclei), self.phonation_s, min_phonation_s=self.min_phonation_s)


def articulation(
    loudness_db: np.ndarray,
    voiced: np.ndarray,
    *,
    hop_s: float,
    config: RateConfig = RateConfig(),
) -> Articulation:
    """Syllable nuclei and phonation time of whole arrays (see the module docstring)."""
    picker = SyllablePicker(hop_s=hop_s, config=config)
    picked = picker.feed(loudness_db, voiced)
    return Articulation(
        np.asarray(picked.nuclei, dtype=np.int64), picked.phonation_frames * hop_s, config.min_phonation_s
    )


def articulation_rate(n_syllables: int, phonation_s: float, *, min_phonation_s: float = 1.0) -> float | None:
    """Syllables per second of phonation time, or None when there is too little phonation."""
    if phonation_s < min_phonation_s or phonation_s <= 0:
        return None
    return n_syllables / phonation_s
