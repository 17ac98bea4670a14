"""Speaking rate from word timestamps: words per minute of talk time.

Talk time is the union of the words' spans, with gaps shorter than ``pause_min_s`` counted as
talk (the breath between two phrases belongs to speaking) and longer gaps left out (a pause, the
customer's turn, hold music). So a call that is half silence does not halve the rate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voice_coach.engine.events import Word
from voice_coach.signal.activity import merge_spans, talk_time_s


def talk_spans(words: Sequence[Word], *, pause_min_s: float = 0.5) -> list[tuple[float, float]]:
    """Merged spans of talk, in seconds, sorted: the words' spans with gaps under ``pause_min_s`` bridged."""
    return merge_spans(((w.start_s, w.end_s) for w in words), min_gap=pause_min_s)


def words_per_minute(words: Sequence[Word], *, pause_min_s: float = 0.5, min_talk_s: float = 1.0) -> float | None:
    """Words per minute of talk time, or None with less than ``min_talk_s`` of talk."""
    talk = talk_time_s(talk_spans(words, pause_min_s=pause_min_s))
    if talk < min_talk_s:
        return None
    return 60.0 * len(words) / talk


def rolling_wpm(
    words: Sequence[Word], times_s: np.ndarray, *, window_s: float, pause_min_s: float = 0.5, min_talk_s: float = 1.0
) -> np.ndarray:
    """Words per minute of talk time in the window centred on each of ``times_s`` (NaN = unknown).

    A word belongs to a window when its midpoint does; the talk time is the part of the merged
    talk spans inside the window.
    """
    out = np.full(len(times_s), np.nan)
    if not len(words) or not len(times_s):
        return out
    words = sorted(words, key=lambda w: w.start_s)
    mids = np.array([(w.start_s + w.end_s) / 2 for w in words])
    spans = np.array(talk_spans(words, pause_min_s=pause_min_s))
    # Cumulative talk time up to x, as a piecewise-linear function (fast window sums).
    edges = spans.reshape(-1)
    cum_at_edges = np.concatenate(
        [[0.0], np.cumsum(np.repeat(spans[:, 1] - spans[:, 0], 2) * np.tile([1, 0], len(spans)))]
    )[:-1]

    def cum(x: np.ndarray) -> np.ndarray:
        return np.interp(x, edges, cum_at_edges, left=0.0, right=cum_at_edges[-1])

    lo, hi = times_s - window_s / 2, times_s + window_s / 2
    talk = cum(hi) - cum(lo)
    count = np.searchsorted(mids, hi, side="right") - np.searchsorted(mids, lo, side="left")
    ok = talk >= min_talk_s
    out[ok] = 60.0 * count[ok] / talk[ok]
    return out
