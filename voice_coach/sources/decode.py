"""Decoding audio files at the edge: anything PyAV reads, out as 16 kHz float32 chunks per channel.

Files are decoded as a stream, so a one-hour recording never sits in memory whole. Every problem
with an input becomes an ``AudioError`` whose message names the file and what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.errors import AudioError


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    channels: int
    source_rate_hz: int
    duration_s: float | None  # from the container; None when unknown
    codec: str


def _open(path: Path):
    import av

    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioError(f"{path}: cannot read ({exc.strerror})") from None
    if size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise AudioError(f"{path}: not a readable audio file ({_reason(exc)})") from None
    except (OSError, ValueError) as exc:
        raise AudioError(f"{path}: cannot open ({exc})") from None
    if not container.streams.audio:
        container.close()
        raise AudioError(f"{path}: contains no audio stream")
    return container


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[-1].strip() or type(exc).__name__


def probe(path: str | Path) -> AudioInfo:
    """Channels, source rate and duration of a file, without decoding it."""
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.audio[0]
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        channels = stream.codec_context.channels or len(stream.layout.channels)
        return AudioInfo(path, int(channels), int(stream.rate or 0), duration, stream.codec_context.name)
    finally:
        container.close()


def iter_audio(path: str | Path, *, chunk_s: float = 1.0) -> Iterator[np.ndarray]:
    """Decode ``path`` as a stream of chunks, shape ``(channels, n)``, float32 at 16 kHz.

    Every chunk but the last holds ``round(chunk_s * 16000)`` samples. Raises ``AudioError`` when
    the file cannot be decoded, holds no samples at all, or holds NaN/Inf samples.
    """
    import av

    path = Path(path)
    chunk_n = max(1, int(round(chunk_s * SAMPLE_RATE)))
    container = _open(path)
    total = 0
    try:
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels or len(stream.layout.channels) or 1
        resampler = av.AudioResampler(format="fltp", layout=_layout(channels), rate=SAMPLE_RATE)
        samples = (_samples(frame, channels, path) for frame in _decoded(container, stream, resampler, path))
        for block in _rechunk(samples, chunk_n):
            total += block.shape[1]
            yield block
    finally:
        container.close()
    if total == 0:
        raise AudioError(f"{path}: contains no audio samples")


def _decoded(container, stream, resampler, path: Path) -> Iterator:
    """The resampled frames of ``stream``. A decoding error before the first frame means the file
    is not audio; after it, a truncated tail: what decoded is kept, as every media player does."""
    import av

    started = False
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                for out in resampler.resample(frame):
                    started = True
                    yield out
        yield from resampler.resample(None)
    except av.error.EOFError:
        return
    except av.error.FFmpegError as exc:
        if not started:
            raise AudioError(f"{path}: not a readable audio file ({_reason(exc)})") from None


def _samples(frame, channels: int, path: Path) -> np.ndarray:
    """One decoded frame as ``(channels, n)`` float32; NaN or infinite samples are an error."""
    data = frame.to_ndarray()
    if data.ndim == 1:
        data = data[None, :]
    data = np.ascontiguousarray(data[:channels], dtype=np.float32)
    if not np.isfinite(data).all():
        raise AudioError(f"{path}: contains NaN or infinite samples; it is not valid audio")
    return data


def _rechunk(blocks: Iterator[np.ndarray], chunk_n: int) -> Iterator[np.ndarray]:
    """``blocks`` of any length as chunks of ``chunk_n`` samples (the last one shorter)."""
    pending: list[np.ndarray] = []
    pending_n = 0
    for data in blocks:
        pending.append(data)
        pending_n += data.shape[1]
        while pending_n >= chunk_n:
            block = np.concatenate(pending, axis=1)
            yield block[:, :chunk_n]
            rest = block[:, chunk_n:]
            pending, pending_n = ([rest] if rest.shape[1] else []), rest.shape[1]
    if pending_n:
        yield np.concatenate(pending, axis=1)


def _layout(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


def load_audio(path: str | Path) -> np.ndarray:
    """The whole file, shape ``(channels, n)``, float32 at 16 kHz. For tests and short clips."""
    chunks = list(iter_audio(path, chunk_s=30.0))
    return np.concatenate(chunks, axis=1)


def is_dual_mono(path: str | Path, *, probe_s: float = 30.0, max_difference_db: float = -30.0) -> bool:
    """True when every channel of a multi-channel file carries the same signal: the energy of each
    channel's difference from the first is at least ``-max_difference_db`` dB below the first's,
    over the first ``probe_s`` seconds. Such a file is a mono recording stored as stereo."""
    for chunk in iter_audio(path, chunk_s=probe_s):
        if chunk.shape[0] < 2:
            return False
        ref = float(np.sum(np.square(chunk[0], dtype=np.float64)))
        diff = float(np.max(np.sum(np.square(chunk[1:] - chunk[:1], dtype=np.float64), axis=1)))
        if ref == 0.0:
            return diff == 0.0
        return diff <= ref * 10 ** (max_difference_db / 10)
    return False


def parse_channel(value: str | int, *, channels: int | None = None, what: str = "--agent-channel") -> int:
    """``0|1|left|right`` (or any index) to a channel index, checked against ``channels``."""
    names = {"left": 0, "l": 0, "right": 1, "r": 1}
    text = str(value).strip().lower()
    if text in names:
        index = names[text]
    else:
        try:
            index = int(text)
        except ValueError:
            raise AudioError(f"{what} must be 0, 1, left or right, got {value!r}") from None
    if index < 0:
        raise AudioError(f"{what} must not be negative, got {value!r}")
    if channels is not None and index >= channels:
        raise AudioError(f"{what} {value!r} does not exist: the input has {channels} channel(s)")
    return index
