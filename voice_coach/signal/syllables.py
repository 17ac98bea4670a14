"""Acoustic syllable nuclei, in the manner of de Jong & Wempe (2009).

A syllable nucleus is a peak of the (smoothed) intensity contour that

* is voiced (a vowel carries F0),
* rises at least ``min_dip_db`` above the dip before it and falls that much after it,
* is no more than ``floor_below_peak_db`` below the loudest recent speech, and
* is at least ``min_spacing_s`` after the previous nucleus.

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
        self._smooth_n = max(1, int(round(config.intensity_smooth_ms / 1000 / hop_s)))
        self._ring: deque[float] = deque(maxlen=self._smooth_n)
        self._voiced_recent: deque[tuple[int, bool]] = deque(maxlen=2 * self._smooth_n + 5)
        self._ref_window = max(1, int(round(10.0 / hop_s)))  # loudest speech over ~10 s
        self._ref: deque[tuple[int, float]] = deque()  # monotonic queue for a sliding maximum
        self._min_spacing = max(1, int(round(config.syllable_min_spacing_s / hop_s)))
        self._index = 0
        self._rising = True
        self._peak_value = -np.inf
        self._peak_index = -1
        self._peak_voiced = False  # any frame within 2 of the current peak is voiced
        self._valley_value = np.inf
        self._last_nucleus = -(10**9)

    def feed(self, loudness_db: np.ndarray, voiced: np.ndarray) -> list[int]:
        found: list[int] = []
        lag = (self._smooth_n - 1) / 2  # a centred moving average, realised causally
        dip = self.config.syllable_min_dip_db
        for level, is_voiced in zip(np.asarray(loudness_db, dtype=float), np.asarray(voiced, dtype=bool), strict=False):
            i = self._index
            self._index += 1
            self._ring.append(level)
            self._voiced_recent.append((i, bool(is_voiced)))
            value = sum(self._ring) / len(self._ring)
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
                    if self._accept(self._peak_index, self._peak_value):
                        found.append(self._peak_index)
                        self._last_nucleus = self._peak_index
                    self._rising = False
                    self._valley_value = value
            else:
                if value < self._valley_value:
                    self._valley_value = value
                elif value > self._valley_value + dip:
                    self._rising = True
                    self._set_peak(value, centre)
        return found

    def _set_peak(self, value: float, centre: int) -> None:
        # The voicing around the peak is read now, while its frames are in the buffer: a peak is
        # confirmed only once the contour has fallen ``min_dip_db``, which on a slowly decaying
        # vowel (held, stressed, or slow speech) comes long after they have left it.
        self._peak_value, self._peak_index = value, centre
        self._peak_voiced = any(v for j, v in self._voiced_recent if abs(j - centre) <= 2)

    def _accept(self, index: int, value: float) -> bool:
        if value <= self.silence_floor_db:
            return False
        if value < self._ref[0][1] - self.config.syllable_floor_below_peak_db:
            return False
        if index - self._last_nucleus < self._min_spacing:
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
