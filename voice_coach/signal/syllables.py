"""Acoustic syllable nuclei, in the manner of de Jong & Wempe (2009).

A syllable nucleus is a peak of the (smoothed) intensity contour that

* is voiced (a vowel carries F0),
* rises at least ``min_dip_db`` above the dip before it and falls that much after it,
* is no more than ``floor_below_peak_db`` below the loudest recent speech, and
* is at least ``min_spacing_s`` after the previous nucleus.

The time resolution follows a fast speaker. The intensity smoothing and the minimum spacing are
given for speech at ``timescale_ref_sps`` (5 syllables/s); for a faster speaker they shrink in
proportion to the speaker's running articulation rate (nuclei per second of phonation over the
last ~10 s of it), down to ``timescale_min_factor`` of their value. With fixed time constants the
count depends on the pace: the dips between fast syllables are shorter, the fixed smoothing fills
the shallow ones in, and a speaker who speeds up by half was measured about 10 % slower than they
are (sox-stretched real speech, docs/benchmarks/rate.md). The constants never grow for slower
speech: the running rate is the picker's own count, and speech whose syllables it partly misses
reads slow, so a coarser resolution would feed on its own misses (tested on syllable trains whose
dips are at the edge of detection). Finer resolution has no such loop: it can only find more.

The picker is a small state machine fed frame by frame, so the same code serves files and the
live stream; ``syllable_nuclei`` runs it over whole arrays. A peak is confirmed once the contour
has fallen ``min_dip_db`` after it, i.e. with a delay of a few tens of milliseconds.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from voice_coach.config import RateConfig
from voice_coach.signal.activity import bridge_gaps  # noqa: F401  (re-exported: phonation bridging)


class SyllablePicker:
    """Streaming syllable-nucleus detector over per-frame loudness (dB) and voicing.

    ``feed`` returns the frame indices (stream-absolute) of the nuclei confirmed by these frames.
    """

    def __init__(self, *, hop_s: float, config: RateConfig = RateConfig(), silence_floor_db: float = -55.0):
        self.hop_s = hop_s
        self.config = config
        self.silence_floor_db = silence_floor_db
        # The time constants are given for speech at ``timescale_ref_sps``; for faster speech they
        # shrink with the speaker's running articulation rate, down to ``timescale_min_factor``.
        c = config
        self._min_scale = c.timescale_min_factor
        self._max_smooth = max(1.0, c.intensity_smooth_ms / 1000 / hop_s)
        self._ring: deque[float] = deque(maxlen=int(np.ceil(self._max_smooth)))
        self._voiced_recent: deque[tuple[int, bool]] = deque(maxlen=2 * int(np.ceil(self._max_smooth)) + 5)
        self._ref_window = max(1, int(round(10.0 / hop_s)))  # loudest speech over ~10 s
        self._ref: deque[tuple[int, float]] = deque()  # monotonic queue for a sliding maximum
        # Running articulation rate: nuclei and phonation seconds (voiced frames, gaps up to
        # ``phonation_bridge_s`` bridged), forgotten over ``timescale_window_s`` of phonation and
        # started from ``timescale_ref_sps`` worth ``timescale_prior_s`` of phonation.
        self._decay = float(np.exp(-hop_s / c.timescale_window_s)) if c.timescale_window_s > 0 else 1.0
        self._phon_s = c.timescale_prior_s
        self._nuclei = c.timescale_ref_sps * c.timescale_prior_s
        self._bridge = int(round(c.phonation_bridge_s / hop_s))
        self._gap_run = 1 << 30
        self._scale = 1.0
        self._index = 0
        self._rising = True
        self._peak_value = -np.inf
        self._peak_index = -1
        self._peak_voiced = False  # any frame within 2 of the current peak is voiced
        self._valley_value = np.inf
        self._last_nucleus = -(10**9)

    @property
    def timescale(self) -> float:
        """The factor the time constants are multiplied by now: the reference rate over the
        speaker's running articulation rate, within ``[timescale_min_factor, 1]``."""
        return self._scale

    def feed(self, loudness_db: np.ndarray, voiced: np.ndarray) -> list[int]:
        found: list[int] = []
        dip = self.config.syllable_min_dip_db
        smooth_ref = max(1.0, self.config.intensity_smooth_ms / 1000 / self.hop_s)
        spacing_ref = self.config.syllable_min_spacing_s / self.hop_s
        for level, is_voiced in zip(np.asarray(loudness_db, dtype=float), np.asarray(voiced, dtype=bool), strict=False):
            i = self._index
            self._index += 1
            self._ring.append(level)
            self._voiced_recent.append((i, bool(is_voiced)))
            length = min(self._max_smooth, max(1.0, smooth_ref * self._scale))
            value, lag = self._smoothed(length)
            centre = i - int(round(lag))
            # Sliding maximum of the smoothed contour, for the "25 dB below the peak" rule.
            while self._ref and self._ref[-1][1] <= value:
                self._ref.pop()
            self._ref.append((i, value))
            while self._ref[0][0] <= i - self._ref_window:
                self._ref.popleft()
            if self._rising and i <= self._peak_index + 2:
                self._peak_voiced |= bool(is_voiced)  # a frame just after the peak
            if self._rising:
                if value > self._peak_value:
                    self._set_peak(value, centre)
                elif value < self._peak_value - dip:
                    if self._accept(self._peak_index, self._peak_value, spacing_ref * self._scale):
                        found.append(self._peak_index)
                        self._last_nucleus = self._peak_index
                        self._nuclei += 1.0
                    self._rising = False
                    self._valley_value = value
            else:
                if value < self._valley_value:
                    self._valley_value = value
                elif value > self._valley_value + dip:
                    self._rising = True
                    self._set_peak(value, centre)
            self._track_rate(bool(is_voiced))
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

    def _track_rate(self, is_voiced: bool) -> None:
        """Phonation bookkeeping for the running articulation rate (gaps bridged as for the
        articulation rate itself), and the time-constant factor that follows from it."""
        if is_voiced:
            added = 1 + (self._gap_run if self._gap_run <= self._bridge else 0)
            self._gap_run = 0
        else:
            self._gap_run += 1
            return
        forget = self._decay**added
        self._phon_s = self._phon_s * forget + added * self.hop_s
        self._nuclei *= forget
        rate = self._nuclei / self._phon_s if self._phon_s > 0 else 0.0
        scale = self.config.timescale_ref_sps / rate if rate > 0 else 1.0
        self._scale = min(1.0, max(self._min_scale, scale))

    def _set_peak(self, value: float, centre: int) -> None:
        # The voicing around the peak is read now, while its frames are in the buffer: a peak is
        # confirmed only once the contour has fallen ``min_dip_db``, which on a slowly decaying
        # vowel (held, stressed, or slow speech) comes long after they have left it.
        self._peak_value, self._peak_index = value, centre
        self._peak_voiced = any(v for j, v in self._voiced_recent if abs(j - centre) <= 2)

    def _accept(self, index: int, value: float, min_spacing: float) -> bool:
        if value <= self.silence_floor_db:
            return False
        if value < self._ref[0][1] - self.config.syllable_floor_below_peak_db:
            return False
        if index - self._last_nucleus < min_spacing - 1e-6:  # frames; float error must not reject
            return False
        return self._peak_voiced


def syllable_nuclei(
    loudness_db: np.ndarray,
    voiced: np.ndarray,
    *,
    hop_s: float,
    config: RateConfig = RateConfig(),
    silence_floor_db: float = -55.0,
) -> np.ndarray:
    """Frame indices of syllable nuclei in whole arrays (see the module docstring)."""
    picker = SyllablePicker(hop_s=hop_s, config=config, silence_floor_db=silence_floor_db)
    return np.asarray(picker.feed(loudness_db, voiced), dtype=np.int64)


def articulation_rate(n_syllables: int, phonation_s: float, *, min_phonation_s: float = 1.0) -> float | None:
    """Syllables per second of phonation time, or None when there is too little phonation."""
    if phonation_s < min_phonation_s or phonation_s <= 0:
        return None
    return n_syllables / phonation_s
