"""Options of the HTML report (calm bands drawn on the timeline, decimation, transcript marks)."""

from __future__ import annotations

from dataclasses import dataclass

from voice_coach.config import AgitationConfig

__all__ = ["ReportOptions"]


@dataclass(frozen=True)
class ReportOptions:
    """How the timeline is drawn. The calm bands are shading only; warnings come from the result."""

    pitch_band_st: float = 2.0
    """Calm pitch band: within this many semitones of the baseline."""
    loudness_band_db: float = 3.0
    """Calm loudness band: within this many dB of the baseline."""
    pace_band_wpm: tuple[float, float] = (AgitationConfig.comfortable_wpm_min, AgitationConfig.comfortable_wpm_max)
    """Calm speaking rate, words per minute (``AgitationConfig``'s comfortable band)."""
    max_points_per_trace: int = 2000
    """Timelines longer than this are min/max-decimated (peaks kept); zooming in re-decimates the
    visible window from the full-resolution data embedded in the page."""
    low_probability: float = 0.5
    """Words the recogniser was less sure of than this are underlined as uncertain."""
