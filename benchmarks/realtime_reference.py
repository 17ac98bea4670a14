"""The live-ASR reference: a streaming transcriber fed on a virtual clock, with word lag and CPU.

Benchmark harness code, not part of the package: ``bench_live.py`` compares the live path through
a real audio server against it in the same run, and ``tests/test_streaming_asr.py`` checks the
algorithm's latency with it. It needs no audio device and no threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.asr.streaming import OnlineTranscriber
from voice_coach.engine.events import Word

__all__ = ["RealtimeRun", "simulate_realtime"]


@dataclass
class RealtimeRun:
    """What :func:`simulate_realtime` measured. Lags are seconds, CPU is CPU-s per audio s."""

    words: list[Word]
    committed_at_s: list[float]  # audio time (s) that had arrived when each word was committed
    at_finish: int  # words committed only by finish()
    duration_s: float
    cpu_s: float
    wall_s: float
    calls: int
    lags_s: list[float] = field(default_factory=list)

    @property
    def cpu_per_audio_s(self) -> float:
        return self.cpu_s / self.duration_s if self.duration_s else 0.0

    def lag_percentile_s(self, q: float) -> float | None:
        return float(np.percentile(self.lags_s, q)) if self.lags_s else None


def simulate_realtime(
    model, audio: np.ndarray, *, block_s: float = 0.05, call_s: float | None = None, **options
) -> RealtimeRun:
    """Run a transcriber on ``audio`` as if it arrived live, and measure word lag and CPU.

    A virtual clock stands for wall time since the stream began: audio up to the clock has
    "arrived" (in ``block_s`` blocks, like a microphone); each ``process()`` call advances the clock
    by the wall time it really took; waiting for audio advances it without sleeping. A word's lag is
    the clock when it was committed minus its end time. Words committed only by ``finish()`` are
    counted in ``at_finish`` and left out of the lags (pad the audio with silence to avoid them).
    CPU is ``time.process_time`` (all threads of this process), so on a busy machine wall time and
    thus lag grow, CPU does not. ``call_s`` makes the result independent of the machine's load:
    each whisper call then advances the clock by exactly ``call_s`` seconds (measure one call on
    an idle machine first), and the rest of the transcriber's work by nothing.
    """
    tr = OnlineTranscriber(model, **options)
    n = len(audio)
    block = max(1, int(round(block_s * SAMPLE_RATE)))
    clock_s = 0.0
    fed = 0
    words: list[Word] = []
    at: list[float] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while fed < n:
        arrived = min(n, (int(clock_s * SAMPLE_RATE + 1e-6) // block) * block)
        if arrived <= fed:
            clock_s = (fed + block) / SAMPLE_RATE  # idle until the next block arrives
            continue
        tr.insert_audio(audio[fed:arrived])
        fed = arrived
        t0, calls0 = time.perf_counter(), tr.calls
        got = tr.process()
        if call_s is None:
            clock_s += time.perf_counter() - t0
        else:
            clock_s += call_s * (tr.calls - calls0)
        words += got
        at += [clock_s] * len(got)
    tail = tr.finish()
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    lags = [c - w.end_s for w, c in zip(words, at, strict=True)]
    return RealtimeRun(
        words=words + tail,
        committed_at_s=at + [clock_s] * len(tail),
        at_finish=len(tail),
        duration_s=n / SAMPLE_RATE,
        cpu_s=cpu_s,
        wall_s=wall_s,
        calls=tr.calls,
        lags_s=lags,
    )
