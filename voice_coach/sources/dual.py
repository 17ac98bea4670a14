"""Two input devices as one two-channel source: the agent's microphone and the customer's loopback."""

from __future__ import annotations

import logging

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.sources.chunk import Chunk

log = logging.getLogger("voice_coach")

__all__ = ["DualSource"]


class DualSource:
    """Two mono-or-more sources (the agent's microphone, the customer's loopback/monitor) as one
    two-channel source: channel 0 the agent, channel 1 the customer.

    Each side's audio is queued as it arrives and handed on only as far as both sides have audio,
    so the channels stay sample-aligned even though the two devices deliver blocks at their own
    pace. ``max_skew_s`` bounds the wait for a side that stalls: past it, the stalled side is padded
    with silence (and the padding is counted in ``padded_s``), so the agent's cues never wait for
    the loopback.
    """

    def __init__(self, agent, customer, *, agent_channel: int = 0, customer_channel: int = 0, max_skew_s: float = 0.5):
        self.sides = (agent, customer)
        self.picks = (agent_channel, customer_channel)
        self.buffers: list[list[np.ndarray]] = [[], []]
        self.max_skew = int(max_skew_s * SAMPLE_RATE)
        self.padded_s = 0.0
        self._capture = [0.0, 0.0]

    def __enter__(self):
        for side in self.sides:
            side.__enter__()
        return self

    def __exit__(self, *exc):
        for side in self.sides:
            side.__exit__(*exc)
        return False

    @property
    def overflow_count(self) -> int:
        return sum(int(getattr(s, "overflow_count", 0)) for s in self.sides)

    @property
    def finished(self) -> bool:
        return all(getattr(s, "finished", False) for s in self.sides)

    def _have(self, i: int) -> int:
        return sum(len(b) for b in self.buffers[i])

    def _take(self, i: int, n: int) -> np.ndarray:
        data = np.concatenate(self.buffers[i]) if self.buffers[i] else np.zeros(0, np.float32)
        out = np.zeros(n, np.float32)
        out[: min(n, len(data))] = data[:n]
        self.buffers[i] = [data[n:]] if len(data) > n else []
        return out

    def read(self, timeout: float) -> Chunk | None:
        for i, side in enumerate(self.sides):
            chunk = side.read(timeout / 2)
            if chunk is not None:
                audio = np.asarray(chunk.audio, dtype=np.float32)
                self.buffers[i].append(audio[:, min(self.picks[i], audio.shape[1] - 1)])
                self._capture[i] = chunk.capture_monotonic
        have = [self._have(0), self._have(1)]
        n = min(have)
        if max(have) - n > self.max_skew:  # one side stalled: pad it rather than hold the other
            pad_s = (max(have) - n) / SAMPLE_RATE
            self.padded_s += pad_s
            log.debug(
                "%s device stalled: padded %.2f s of silence (%.2f s in all)",
                "agent" if have[0] == n else "customer",
                pad_s,
                self.padded_s,
            )
            n = max(have)
        if n == 0:
            return None
        audio = np.stack([self._take(0, n), self._take(1, n)], axis=1)
        return Chunk(audio, max(self._capture))
