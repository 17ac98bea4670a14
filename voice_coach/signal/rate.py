"""Speaking rate from word timestamps: words per minute of talk time.

Talk time is the union of the words' spans, with gaps shorter than the pause threshold counted as
talk (the breath between two phrases belongs to speaking) and longer gaps left out (a pause, the
customer's turn, hold music). So a call that is half silence does not halve the rate.

The pause threshold follows the speaker's own pace (``pause_threshold_s``): a gap is a pause when
two of the speaker's median words would fit in it, within fixed bounds. A fixed threshold is not
neutral to pace: when a speaker talks faster every gap shrinks, pauses slip under a fixed
threshold and count as talk, and the rate reads too low (and too high when they slow down).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from voice_coach.config import RateConfig
from voice_coach.engine.events import Word
from voice_coach.signal.activity import merge_spans, talk_time_s

MIN_TIMING_WORDS = 5
"""Fewer words than this do not time a speaker: ``RateConfig.pause_default_s`` is used instead."""
LIVE_TIMING_WORDS = 500
"""Live metrics time the speaker by their last this-many words (bounded work per update)."""


def pause_threshold_s(words: Sequence[Word], config: RateConfig = RateConfig()) -> float:
    """The shortest gap between words that is a pause: ``pause_word_multiple`` times the median
    duration of ``words``, within ``[pause_min_s, pause_max_s]`` (``pause_default_s`` with fewer than
    ``MIN_TIMING_WORDS`` words)."""
    if len(words) < MIN_TIMING_WORDS:
        return config.pause_default_s
    median = float(np.median([w.end_s - w.start_s for w in words]))
    return min(config.pause_max_s, max(config.pause_min_s, config.pause_word_multiple * median))


def talk_spans(words: Sequence[Word], *, pause_s: float | None = None) -> list[tuple[float, float]]:
    """Merged spans of talk, in seconds, sorted: the words' spans with gaps under ``pause_s`` bridged
    (default: ``pause_threshold_s`` of these words)."""
    if pause_s is None:
        pause_s = pause_threshold_s(words)
    return merge_spans(((w.start_s, w.end_s) for w in words), min_gap=pause_s)


def words_per_minute(words: Sequence[Word], *, pause_s: float | None = None, min_talk_s: float = 1.0) -> float | None:
    """Words per minute of talk time, or None with less than ``min_talk_s`` of talk. Gaps of at
    least ``pause_s`` are pauses (default: ``pause_threshold_s`` of these words)."""
    talk = talk_time_s(talk_spans(words, pause_s=pause_s))
    if talk < min_talk_s:
        return None
    return 60.0 * len(words) / talk


def rolling_wpm(
    words: Sequence[Word],
    times_s: np.ndarray,
    *,
    window_s: float,
    pause_s: float | None = None,
    min_talk_s: float = 1.0,
) -> np.ndarray:
    """Words per minute of talk time in the window centred on each of ``times_s`` (NaN = unknown).

    A word belongs to a window when its midpoint does; the talk time is the part of the merged
    talk spans inside the window. The pause threshold ``pause_s`` (default: ``pause_threshold_s``
    of all the words) is the same for every window: a few words in a window do not time a speaker.
    """
    out = np.full(len(times_s), np.nan)
    if not len(words) or not len(times_s):
        return out
    words = sorted(words, key=lambda w: w.start_s)
    mids = np.array([(w.start_s + w.end_s) / 2 for w in words])
    spans = np.array(talk_spans(words, pause_s=pause_s))
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
