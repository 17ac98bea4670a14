"""Numbers and times as outputs show them: one place for every output module (JSON, terminal, report).

* ``clean`` makes a number JSON-safe (None for NaN/Inf, rounded);
* ``num`` reads a number back from a result that may have been hand-edited;
* ``clock`` writes seconds as ``m:ss`` (``h:mm:ss`` past an hour), optionally with tenths;
* ``pace_band_wpm`` is the comfortable speaking-rate band, from ``AgitationConfig``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from voice_coach.config import AgitationConfig

__all__ = ["DASH", "clean", "clock", "num", "pace_band_wpm"]

DASH = "—"
"""What reports show for a missing value."""


def clean(x: Any, nd: int = 3) -> float | bool | None:
    """A JSON-safe number: None for NaN/Inf/None, booleans kept, floats rounded to ``nd`` digits."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    x = float(x)
    return round(x, nd) if math.isfinite(x) else None


def num(value: Any) -> float | None:
    """A finite float, or None for null / NaN / non-numbers (results may be hand-edited)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def clock(t_s: float | None, *, tenths: bool = False, missing: str = DASH) -> str:
    """Seconds as m:ss (h:mm:ss past an hour), optionally with tenths (``1:05.3``); ``missing`` for None.

    Negative times read as 0; tenths are rounded with the carry into the seconds (59.96 s is ``1:00.0``).
    """
    if t_s is None:
        return missing
    t_s = max(0.0, float(t_s))
    if tenths:
        whole = int(t_s)
        frac = int(round((t_s - whole) * 10))
        if frac == 10:
            whole, frac = whole + 1, 0
    else:
        whole, frac = int(round(t_s)), None
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    out = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    return out + (f".{frac}" if frac is not None else "")


def pace_band_wpm(agitation: Mapping[str, Any] | None = None) -> tuple[float, float]:
    """The comfortable speaking-rate band in words per minute of talk time.

    From a result's echoed ``config.agitation`` when given (keys ``comfortable_wpm_min`` and
    ``comfortable_wpm_max``), else ``AgitationConfig``'s defaults.
    """
    agitation = agitation or {}
    lo = num(agitation.get("comfortable_wpm_min"))
    hi = num(agitation.get("comfortable_wpm_max"))
    return (
        AgitationConfig.comfortable_wpm_min if lo is None else lo,
        AgitationConfig.comfortable_wpm_max if hi is None else hi,
    )
