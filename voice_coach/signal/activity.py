"""Speech activity as spans: one implementation of "which stretches are talk, and how long".

Every part of the package that turns activity into spans uses these functions: phonation (voiced
frames with stop closures bridged), conversation segments (voice activity with short pauses bridged
and clicks dropped), and talk spans from word timestamps (the speaking rate's denominator).

A *span* is a ``(start, end)`` pair, ``start <= end``; ``end`` is exclusive (for frames, one past the
last active frame). Spans are in frames or in seconds; the functions do not care which, as long as
the gap thresholds are in the same unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["active_runs", "bridge_gaps", "merge_spans", "spans_from_mask", "talk_time_s"]

Span = tuple[float, float]


def active_runs(active: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True in a per-frame mask, as ``(first_frame, one_past_last_frame)``, sorted."""
    a = np.asarray(active, dtype=bool).ravel()
    if not a.any():
        return []
    edges = np.diff(np.concatenate(([0], a.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def merge_spans(spans: Iterable[Span], *, min_gap: float) -> list[Span]:
    """Spans sorted by start, with every gap shorter than ``min_gap`` bridged (overlaps merged too).

    A gap is ``next.start - previous.end``; ``min_gap`` is in the spans' unit (frames or seconds).
    ``min_gap <= 0`` merges only overlapping spans.
    """
    merged: list = []
    for start, end in sorted(spans, key=lambda span: span[0]):
        end = max(end, start)
        if merged and start - merged[-1][1] < min_gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def spans_from_mask(
    active: np.ndarray, *, hop_s: float, bridge_gap_s: float = 0.0, min_span_s: float = 0.0
) -> list[Span]:
    """Speech spans in seconds from a per-frame activity mask (frame ``i`` covers ``[i*hop_s, (i+1)*hop_s)``).

    Pauses shorter than ``bridge_gap_s`` are bridged, then spans shorter than ``min_span_s`` dropped.
    Both thresholds are rounded to whole frames, so the result does not depend on float error.
    """
    bridge, min_len = round(bridge_gap_s / hop_s), round(min_span_s / hop_s)
    runs = merge_spans(active_runs(active), min_gap=bridge)
    return [(s * hop_s, e * hop_s) for s, e in runs if e - s >= min_len]


def bridge_gaps(active: np.ndarray, *, max_gap: int) -> np.ndarray:
    """``active`` with every inactive run of at most ``max_gap`` frames between two active frames
    filled in. Used so that stop closures and short breaths count as phonation, pauses do not."""
    out = np.asarray(active, dtype=bool).copy()
    if max_gap <= 0:
        return out
    for start, end in merge_spans(active_runs(out), min_gap=max_gap + 1):
        out[start:end] = True
    return out


def talk_time_s(spans: Sequence[Span]) -> float:
    """Talk time in seconds: the total length of sorted, non-overlapping speech spans in seconds.

    This is the one meaning of talk time in the package: time inside speech spans, where the spans
    come from ``spans_from_mask`` or ``merge_spans`` with pauses shorter than a threshold bridged (a
    breath between two phrases belongs to speaking; a longer pause, the other speaker's turn or hold
    music does not). The threshold is the caller's: ``rate.pause_threshold_s`` (two of the speaker's
    median words) for a speaker's talk time and speaking rate, ``DynamicsConfig`` bridging for
    conversation segments.
    """
    return float(sum(end - start for start, end in spans))
