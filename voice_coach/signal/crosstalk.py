"""Telling the agent's voice from the customer's voice leaking into the agent's microphone.

On a headset call the caller is played into the agent's ear, and some of it reaches the agent's
microphone (acoustic echo, or electrical crosstalk in a cheap adapter). Loudness and voicing alone
would take that leak for the agent talking. The customer channel tells it apart: a leaked frame
carries the *same voice at the same moment*, so its F0 matches the customer channel's F0 in that
frame, and it is weaker than on the customer channel. Two different people almost never have the
same F0 at the same instant for long, so matching F0 is a strong, cheap test (no echo canceller, no
delay estimation: the leak path delay is far below one 10 ms frame's tolerance of F0 change).
"""

from __future__ import annotations

import numpy as np

from voice_coach.signal.prosody import Frames


def leak_mask(agent: Frames, customer: Frames, *, max_pitch_diff_st: float = 0.7) -> np.ndarray:
    """Frames of the agent channel that are the customer's voice leaking in (bool per frame).

    A frame is leak when both channels are voiced, their F0 are within ``max_pitch_diff_st``
    semitones, and the agent channel is quieter than the customer channel in that frame; or when
    the agent's frame is voiced only against the relative floor (too soft for a pitch) and quieter
    than the customer's voiced frame.
    """
    n = min(len(agent), len(customer))
    out = np.zeros(len(agent), bool)
    if n == 0:
        return out
    both = agent.voiced[:n] & customer.voiced[:n]
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.abs(12.0 * np.log2(agent.f0_hz[:n] / customer.f0_hz[:n]))
    quieter = agent.loudness_db[:n] < customer.loudness_db[:n]
    out[:n] = both & (diff <= max_pitch_diff_st) & quieter
    # Frames voiced only against the relative floor (signal/floor.py) are too soft for a pitch to
    # compare: quieter than the customer's voiced frame at the same moment, they are leak.
    soft = agent.voiced_relative[:n] & ~agent.voiced[:n]
    out[:n] |= soft & customer.voiced[:n] & quieter
    return out


def without_leak(agent: Frames, mask: np.ndarray) -> Frames:
    """The agent's frames with leaked frames made unvoiced (they are the customer, not the agent)."""
    if not mask.any():
        return agent
    voiced = agent.voiced & ~mask
    f0 = np.where(voiced, agent.f0_hz, np.nan).astype(np.float32)
    return Frames(f0, agent.aperiodicity, voiced, agent.loudness_db, agent.voiced_relative & ~mask)
