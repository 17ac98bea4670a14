"""What a live source hands to the session: a block of captured audio and when it was captured."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["Chunk", "LiveSource"]


@dataclass
class Chunk:
    """Captured audio: ``audio`` shape (n, channels) at 16 kHz; ``capture_monotonic`` is the
    ``time.monotonic()`` at which its last sample was captured."""

    audio: np.ndarray
    capture_monotonic: float
    overflowed: bool = False


class LiveSource(Protocol):
    """A real-time source: ``read`` returns the next chunk (anything with ``audio`` (n, channels) and
    ``capture_monotonic``), or None when nothing arrived within ``timeout`` seconds."""

    overflow_count: int

    def read(self, timeout: float) -> object | None: ...
