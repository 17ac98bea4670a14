"""A silence floor that follows the recording's level: which periodic frames a soft voice still owns.

Prosody's voicing uses a fixed floor (``ProsodyConfig.silence_floor_db``, -55 dBFS): frames quieter
than that are never voiced, so hum and line noise are not speech, and the pitch and loudness
statistics rest on frames strong enough to trust. A soft voice or a low phone line loses most of
its voicing to it (RAVDESS actor 05, calm, peaks at -46 dBFS: a fifth of his frames clear -55), and
the syllable count and phonation time then fall apart into fragments. The syllable picker, which
keeps only peaks within 25 dB of the loudest recent speech anyway, uses this floor instead:

* never closer than ``below_speech_db`` to the speech level (the 95th percentile of the frame
  levels over the last 30 s), so the loud part of anyone's speech counts;
* at least ``above_noise_db`` over the noise level (their 10th percentile), so a hum or a noisy line
  in the speaker's silences stays under it;
* never above the fixed floor: a recording at an ordinary level gets exactly the fixed floor.

The floor is recomputed every 0.5 s of frames, in frame order, so files and live streams, however
they are chunked, get the same frames.
"""

from __future__ import annotations

import numpy as np

from voice_coach.config import ProsodyConfig, RateConfig
from voice_coach.signal.prosody import Frames

WINDOW_S = 30.0
"""The speech and noise levels are measured over this much recent audio."""
UPDATE_S = 0.5
"""The floor is recomputed every this much audio."""
SPEECH_PERCENTILE = 95.0
NOISE_PERCENTILE = 10.0


def relative_floor_db(
    levels_db: np.ndarray, *, ceiling_db: float, below_speech_db: float, above_noise_db: float
) -> float:
    """The floor (dBFS) for a stretch of frame levels; ``ceiling_db`` when there are none."""
    if len(levels_db) == 0:
        return ceiling_db
    speech, noise = np.percentile(levels_db, [SPEECH_PERCENTILE, NOISE_PERCENTILE])
    return float(min(ceiling_db, max(speech - below_speech_db, noise + above_noise_db)))


class RelativeFloor:
    """``relative_floor_db`` over the last ``WINDOW_S`` of a stream of frames, updated every
    ``UPDATE_S``: each frame is held to the floor measured on the frames before it."""

    def __init__(self, *, hop_s: float, ceiling_db: float, below_speech_db: float, above_noise_db: float):
        self._args = dict(ceiling_db=ceiling_db, below_speech_db=below_speech_db, above_noise_db=above_noise_db)
        self._every = max(1, int(round(UPDATE_S / hop_s)))
        self._levels = np.full(max(self._every, int(round(WINDOW_S / hop_s))), np.nan)  # ring buffer
        self._seen = 0
        self.floor_db = ceiling_db

    def above(self, levels_db: np.ndarray) -> np.ndarray:
        """Which of the next frames are above the floor."""
        levels_db = np.asarray(levels_db, dtype=np.float64)
        out = np.zeros(len(levels_db), bool)
        i = 0
        while i < len(levels_db):
            take = min(len(levels_db) - i, self._every - self._seen % self._every)
            part = levels_db[i : i + take]
            out[i : i + take] = part > self.floor_db
            self._levels[(self._seen + np.arange(take)) % len(self._levels)] = part
            self._seen += take
            i += take
            if self._seen % self._every == 0:
                recent = self._levels[: min(self._seen, len(self._levels))]
                self.floor_db = relative_floor_db(recent, **self._args)
        return out


class SyllableVoicing:
    """The voicing the syllable picker counts on: prosody's voicing (above the fixed floor), plus
    the periodic frames under the fixed floor that clear the relative one. A recording at an
    ordinary level gets prosody's voicing unchanged."""

    def __init__(self, *, hop_s: float, prosody: ProsodyConfig, rate: RateConfig):
        self._fixed_db = prosody.silence_floor_db
        self._max_aperiodicity = prosody.voicing_max_aperiodicity
        self._floor = RelativeFloor(
            hop_s=hop_s,
            ceiling_db=prosody.silence_floor_db,
            below_speech_db=rate.syllable_floor_below_speech_db,
            above_noise_db=rate.syllable_floor_above_noise_db,
        )

    def __call__(self, frames: Frames) -> np.ndarray:
        level = np.asarray(frames.loudness_db, dtype=np.float64)
        soft = (frames.aperiodicity < self._max_aperiodicity) & (level <= self._fixed_db)
        return np.asarray(frames.voiced, bool) | (soft & self._floor.above(level))
