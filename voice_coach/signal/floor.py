"""A silence floor that follows the recording's level: which periodic frames a soft voice still owns.

Prosody's voicing (``Frames.voiced``) uses a fixed floor (``ProsodyConfig.silence_floor_db``,
-55 dBFS): frames quieter than that are never voiced, so hum and line noise are not speech, and the
pitch and loudness statistics rest on frames strong enough to trust. A soft voice or a low phone
line loses most of its voicing to it (RAVDESS actor 05, calm, peaks at -46 dBFS: a fifth of his
frames clear -55), and the syllable count and phonation time then fall apart into fragments. So
prosody also reports ``Frames.voiced_relative``, periodic frames above this floor, which the
syllable picker and the phonation count use (the picker keeps only peaks within 25 dB of the
loudest recent speech anyway). The floor is

* ``below_speech_db`` under the speech level: the 95th percentile of the levels of the periodic
  frames of the last 30 s (once there is a quarter of a second of them; until then the fixed
  floor);
* raised to ``above_noise_db`` over the noise level (the 10th percentile of all their frame levels)
  where that is higher, so a hum or a noisy line in the speaker's silences stays out;
* never above the fixed floor, so a recording at an ordinary level gets prosody's voicing
  unchanged, and never below ``LOWEST_DB``.

It is recomputed every 0.5 s of frames, in frame order, so files and live streams, however they
are chunked, get the same frames.
"""

from __future__ import annotations

import numpy as np

WINDOW_S = 30.0
"""The speech and noise levels are measured over this much recent audio."""
UPDATE_S = 0.5
"""The floor is recomputed every this much audio."""
MIN_PERIODIC_S = 0.25
"""The speech level needs this much periodic audio in the window (a syllable or two); with less,
the fixed floor holds."""
SPEECH_PERCENTILE = 95.0
NOISE_PERCENTILE = 10.0
LOWEST_DB = -75.0
"""The floor never goes below this: about 25 dB under the softest voice measured here (RAVDESS
actor 09 in the phone band peaks at -51 dBFS), so a channel of digital silence or a gated one
does not take in everything periodic."""


def relative_floor_db(
    levels_db: np.ndarray, periodic: np.ndarray, *, ceiling_db: float, below_speech_db: float, above_noise_db: float
) -> float:
    """The floor (dBFS) for a stretch of frame levels and their periodicity (see the module docstring)."""
    levels_db = np.asarray(levels_db, dtype=np.float64)
    speech = levels_db[np.asarray(periodic, dtype=bool)]
    if len(speech) == 0:
        return ceiling_db
    speech_db = float(np.percentile(speech, SPEECH_PERCENTILE))
    noise_db = float(np.percentile(levels_db, NOISE_PERCENTILE))
    return float(min(ceiling_db, max(speech_db - below_speech_db, noise_db + above_noise_db, LOWEST_DB)))


class RelativeFloor:
    """``relative_floor_db`` over the last ``WINDOW_S`` of a stream of frames, recomputed every
    ``UPDATE_S`` of frames: a frame is held to the floor as of the last update before it."""

    def __init__(self, *, hop_s: float, ceiling_db: float, below_speech_db: float, above_noise_db: float):
        self._args = dict(ceiling_db=ceiling_db, below_speech_db=below_speech_db, above_noise_db=above_noise_db)
        self._ceiling_db = ceiling_db
        self._every = max(1, int(round(UPDATE_S / hop_s)))
        self._min_periodic = int(round(MIN_PERIODIC_S / hop_s))
        n = max(self._every, int(round(WINDOW_S / hop_s)))
        self._levels = np.zeros(n)  # ring buffers of the recent frames
        self._periodic = np.zeros(n, bool)
        self._seen = 0
        self.floor_db = ceiling_db

    def above(self, levels_db: np.ndarray, periodic: np.ndarray) -> np.ndarray:
        """Which of the next frames are above the floor."""
        levels_db = np.asarray(levels_db, dtype=np.float64)
        periodic = np.asarray(periodic, dtype=bool)
        out = np.zeros(len(levels_db), bool)
        i = 0
        while i < len(levels_db):
            take = min(len(levels_db) - i, self._every - self._seen % self._every)
            part = levels_db[i : i + take]
            out[i : i + take] = part > self.floor_db
            slots = (self._seen + np.arange(take)) % len(self._levels)
            self._levels[slots] = part
            self._periodic[slots] = periodic[i : i + take]
            self._seen += take
            i += take
            if self._seen % self._every == 0:
                held = min(self._seen, len(self._levels))
                levels, voiced = self._levels[:held], self._periodic[:held]
                self.floor_db = (
                    relative_floor_db(levels, voiced, **self._args)
                    if voiced.sum() >= self._min_periodic
                    else self._ceiling_db
                )
        return out
