"""Agitation: how far a speaker is above their calm baseline, as cues in [0, 1] and one score.

Each cue ramps linearly from 0 at its ``*_start`` to 1 at its ``*_full`` (``AgitationConfig``):

* ``loud``: loudness above baseline, in dB;
* ``high_pitch``: median F0 above baseline, in semitones;
* ``fast``: articulation rate relative to baseline (never taken below the population norm
  ``rate_baseline_floor_sps``), or above the absolute norm for calm phone speech, whichever is
  higher.

The score is ``w * max(cues) + (1 - w) * mean(cues)``: one cue at full strength already reads as
agitation (0.73 with the default w = 0.6), and all three together read as 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from voice_coach.config import AgitationConfig


def ramp(value: float | None, start: float, full: float) -> float | None:
    """0 at ``start``, 1 at ``full``, linear between, clipped; None stays None."""
    if value is None or not math.isfinite(value):
        return None
    if full == start:
        return 1.0 if value >= full else 0.0
    return min(1.0, max(0.0, (value - start) / (full - start)))


def semitones(f_hz: float | None, ref_hz: float | None) -> float | None:
    """Interval from ``ref_hz`` to ``f_hz`` in semitones (positive = higher)."""
    if f_hz is None or ref_hz is None or f_hz <= 0 or ref_hz <= 0:
        return None
    return 12.0 * math.log2(f_hz / ref_hz)


@dataclass(frozen=True)
class Cues:
    loud: float | None
    high_pitch: float | None
    fast: float | None

    def known(self) -> list[float]:
        return [c for c in (self.loud, self.high_pitch, self.fast) if c is not None]


def cues(
    *,
    loudness_rel_db: float | None,
    pitch_st: float | None,
    rate_sps: float | None,
    baseline_rate_sps: float | None,
    config: AgitationConfig = AgitationConfig(),
    graded: bool = False,
) -> Cues:
    """The three cues from deviations against the baseline (None when a value is unknown).

    By default each ramps from its ``*_start`` (the edge of normal calm variation) to its
    ``*_full``: these are the cues that raise warnings. ``graded=True`` ramps from the baseline
    itself (0 dB, 0 st, x1.0) to the same ``*_full``, so that every rise above the calm reference
    counts a little: that is what the agitation score of the timeline and summary is made of, so
    that it orders speech that stays under the warning thresholds too.
    """
    loud_start = 0.0 if graded else config.loudness_start_db
    pitch_start = 0.0 if graded else config.pitch_start_st
    ratio_start = 1.0 if graded else config.rate_start_ratio
    rate_cues = []
    if rate_sps is not None and baseline_rate_sps:
        reference = max(baseline_rate_sps, config.rate_baseline_floor_sps)
        rate_cues.append(ramp(rate_sps / reference, ratio_start, config.rate_full_ratio))
    if rate_sps is not None:
        rate_cues.append(ramp(rate_sps, config.rate_norm_start_sps, config.rate_norm_full_sps))
    known_rate = [c for c in rate_cues if c is not None]
    return Cues(
        loud=ramp(loudness_rel_db, loud_start, config.loudness_full_db),
        high_pitch=ramp(pitch_st, pitch_start, config.pitch_full_st),
        fast=max(known_rate) if known_rate else None,
    )


def agitation_score(c: Cues, config: AgitationConfig = AgitationConfig()) -> float | None:
    """One score in [0, 1] from the known cues; None when none is known."""
    known = c.known()
    if not known:
        return None
    w = config.max_weight
    return w * max(known) + (1.0 - w) * (sum(known) / len(known))


def calm_score(agitation_values: list[float]) -> float | None:
    """0-100 for a call: 100 minus the mean agitation of its speech, in percent, with the share of
    clearly agitated moments (score >= 0.5) weighing as much again. None without speech."""
    if not agitation_values:
        return None
    mean = sum(agitation_values) / len(agitation_values)
    share = sum(1 for a in agitation_values if a >= 0.5) / len(agitation_values)
    return round(max(0.0, 100.0 * (1.0 - 0.5 * mean - 0.5 * share)), 1)
