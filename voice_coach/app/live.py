"""Live coaching: a real-time source through the same engine, and the consumers of its events.

``LiveSession.run`` reads captured chunks, records them, feeds the engine, and hands every event to
the consumers (the rich view, the JSONL events file). It stops on Ctrl-C, after ``duration_s``, at the
end of a replayed file, or when the device fails, and always finishes the engine so that the result
of what was heard can be written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.engine.core import Engine
from voice_coach.engine.events import event_to_dict
from voice_coach.errors import DeviceError


@dataclass
class Chunk:
    """Captured audio: ``audio`` shape (n, channels) at 16 kHz; ``capture_monotonic`` is the
    ``time.monotonic()`` at which its last sample was captured."""

    audio: np.ndarray
    capture_monotonic: float
    overflowed: bool = False


class LiveSource(Protocol):
    overflow_count: int

    def read(self, timeout: float) -> object | None: ...


class ReplaySource:
    """A recording played as if it were a microphone, in real time (``speed`` 1) or faster.

    For demos, tests and benchmarks of the live path without an audio device.
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


class DualSource:
    """Two mono-or-more sources (the agent's microphone, the customer's loopback/monitor) as one
    two-channel source: channel 0 the agent, channel 1 the customer.

    Each side's audio is queued as it arrives and handed on only as far as both sides have audio,
    so the channels stay sample-aligned even though the two devices deliver blocks at their own
    pace. ``max_skew_s`` bounds the wait for a side that stalls: past it, the stalled side is padded
    with silence (and the padding is counted), so the agent's cues never wait for the loopback.
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
            self.padded_s += (max(have) - n) / SAMPLE_RATE
            n = max(have)
        if n == 0:
            return None
        audio = np.stack([self._take(0, n), self._take(1, n)], axis=1)
        return Chunk(audio, max(self._capture))


class EventsWriter:
    """The ``--events`` JSONL file: one object per line, flushed as written, with ``lag_s``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._fh = open(self.path, "w", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise DeviceError(f"--events {self.path}: cannot write ({exc.strerror})") from None

    def handle(self, event, lag_s: float) -> None:
        data = event_to_dict(event)
        data["lag_s"] = round(lag_s, 3)
        self._fh.write(json.dumps(data, allow_nan=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


class Clock:
    """Maps stream time to the wall-clock (monotonic) moment that audio was captured."""

    def __init__(self):
        self.stream_end_s = 0.0
        self.capture_end = time.monotonic()

    def update(self, stream_end_s: float, capture_monotonic: float) -> None:
        self.stream_end_s, self.capture_end = stream_end_s, capture_monotonic

    def lag_s(self, t: float, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        captured = self.capture_end - (self.stream_end_s - t)
        return max(0.0, now - captured)


@dataclass
class SessionEnd:
    reason: str
    error: str | None
    overflows: int


class LiveSession:
    def __init__(
        self,
        *,
        engine: Engine,
        source,
        consumers: Iterable,
        recorder=None,
        duration_s: float | None = None,
        channels_in: int = 1,
        on_tick: Callable[[], None] | None = None,
    ):
        self.engine = engine
        self.source = source
        self.consumers = list(consumers)
        self.recorder = recorder
        self.duration_s = duration_s
        self.channels_in = channels_in
        self.clock = Clock()
        self.on_tick = on_tick
        self._stop = False

    def stop(self) -> None:
        self._stop = True

    def _emit(self, events) -> None:
        now = time.monotonic()
        for e in events:
            lag = self.clock.lag_s(e.t, now)
            for c in self.consumers:
                c.handle(e, lag)

    def run(self) -> SessionEnd:
        reason, error = "stopped", None
        self._emit(self.engine.start())
        try:
            while not self._stop:
                if self.duration_s is not None and self.engine.t >= self.duration_s:
                    reason = f"duration {self.duration_s:g} s reached"
                    break
                chunk = self.source.read(timeout=0.1)
                if chunk is None:
                    if getattr(self.source, "finished", False):
                        reason = "end of replayed file"
                        break
                    self._emit(self.engine.feed(np.zeros((self.engine_channels(), 0), np.float32)))
                    if self.on_tick:
                        self.on_tick()
                    continue
                audio = np.asarray(chunk.audio, dtype=np.float32)
                if self.duration_s is not None:
                    room = int(round((self.duration_s - self.engine.t) * SAMPLE_RATE))
                    audio = audio[: max(0, room)]
                if self.recorder is not None:
                    self.recorder.write(audio)
                self.clock.update(self.engine.t + audio.shape[0] / SAMPLE_RATE, chunk.capture_monotonic)
                self._emit(self.engine.feed(audio.T))
                if self.on_tick:
                    self.on_tick()
        except KeyboardInterrupt:
            reason = "interrupted (Ctrl-C)"
        except DeviceError as exc:
            reason, error = "device error", str(exc)
        self._emit(self.engine.finish(reason))
        return SessionEnd(reason, error, int(getattr(self.source, "overflow_count", 0)))

    def engine_channels(self) -> int:
        return self.channels_in
