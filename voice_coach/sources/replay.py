"""A recording played as if it were a microphone: the live path without an audio device."""

from __future__ import annotations

import time
from pathlib import Path

from voice_coach import SAMPLE_RATE
from voice_coach.sources.chunk import Chunk

__all__ = ["ReplaySource"]


class ReplaySource:
    """A recording played as if it were a microphone, in real time (``speed`` 1) or faster.

    For demos, tests and benchmarks of the live path without an audio device. ``finished`` turns
    true once the last block has been read.
    """

    def __init__(self, path: str | Path, *, speed: float = 1.0, block_s: float = 0.05):
        from voice_coach.sources.decode import load_audio

        self.audio = load_audio(path)  # (channels, n)
        self.speed = speed
        self.block = int(block_s * SAMPLE_RATE)
        self.pos = 0
        self.overflow_count = 0
        self.finished = False
        self._t0: float | None = None

    def __enter__(self):
        self._t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        return False

    def read(self, timeout: float) -> Chunk | None:
        if self.pos >= self.audio.shape[1]:
            self.finished = True
            return None
        if self._t0 is None:  # read without ``with``: the clock starts at the first read
            self._t0 = time.monotonic()
        end = min(self.pos + self.block, self.audio.shape[1])
        due = self._t0 + end / SAMPLE_RATE / self.speed
        wait = due - time.monotonic()
        if wait > timeout:
            time.sleep(timeout)
            return None
        if wait > 0:
            time.sleep(wait)
        chunk = Chunk(self.audio[:, self.pos : end].T, time.monotonic())
        self.pos = end
        return chunk
