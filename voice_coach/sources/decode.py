"""Decoding audio files at the edge: anything PyAV reads, out as 16 kHz float32 chunks per channel.

Files are decoded as a stream, so a one-hour recording never sits in memory whole. Every problem
with an input becomes an ``AudioError`` whose message names the file and what is wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.errors import AudioError

log = logging.getLogger("voice_coach")


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
    _check_wav_length(path, size)
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


# A WAV file may hold this much less than its header declares before it counts as truncated.
WAV_TOLERANCE_S = 0.1
# A compressed stream's declared duration is approximate (encoder delay, padding): a shortfall counts
# as truncation when it is over the larger of these.
DURATION_TOLERANCE_S = 0.5
DURATION_TOLERANCE_FRACTION = 0.005
# A file may hold this much audio that will not decode (damaged frames, replaced by silence), the
# larger of the two, before it counts as damaged: a few bad frames are a glitch, more is a broken file.
DAMAGE_LIMIT_S = 1.0
DAMAGE_LIMIT_FRACTION = 0.01
_UNKNOWN_WAV_SIZE_FROM = 0x7FFF0000
"""A data size of 0, or of this or more, is a placeholder for "unknown length", not a claim: streaming
writers leave 0, 0xFFFFFFFF (and RF64, whose real size is in its ds64 chunk), or SoX's 0x7FFFF000
when it writes to a pipe. Nearly 2 GiB: no real call of this length fits a plain WAV anyway."""


def _check_wav_length(path: Path, size: int) -> None:
    """Raise ``AudioError`` when a RIFF/WAVE file's data chunk declares more bytes than the file holds.

    FFmpeg reads such a file up to where it ends and reports that as its duration, so the cut would
    go unnoticed. A data size of 0 or 0xFFFFFFFF means "unknown length" (a live stream, RF64), not
    truncation; a data chunk longer than declared (a recorder killed between header updates, see
    ``sources.recorder``) is not truncation either.
    """
    import struct

    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return
            byte_rate = 0
            offset = 12
            for _ in range(64):  # chunks before the data: fmt, fact, LIST, bext, ...
                fh.seek(offset)
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return  # no data chunk: FFmpeg says what is wrong
                chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if chunk_id == b"fmt ":
                    fmt = fh.read(12)
                    byte_rate = struct.unpack("<I", fmt[8:12])[0] if len(fmt) == 12 else 0
                elif chunk_id == b"data":
                    break
                offset += 8 + chunk_size + (chunk_size & 1)
            else:
                return
    except OSError as exc:
        raise AudioError(f"{path}: cannot read ({exc.strerror})") from None
    if chunk_size == 0 or chunk_size >= _UNKNOWN_WAV_SIZE_FROM:
        return
    held = max(0, size - offset - 8)
    if byte_rate <= 0:
        if chunk_size > held:
            raise AudioError(
                f"{path}: truncated: the header declares {chunk_size} bytes of audio, the file holds {held}"
            )
        return
    if (chunk_size - held) / byte_rate > WAV_TOLERANCE_S:
        raise AudioError(
            f"{path}: truncated: the header declares {chunk_size / byte_rate:.1f} s of audio, "
            f"the file holds {held / byte_rate:.1f} s"
        )


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
    the file cannot be decoded, holds no samples at all, holds NaN/Inf samples, or is truncated or
    damaged (found once the whole file is decoded: see ``_check_complete``).
    """
    import av

    path = Path(path)
    chunk_n = max(1, int(round(chunk_s * SAMPLE_RATE)))
    container = _open(path)
    total = 0
    state = _Decoding()
    try:
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels or len(stream.layout.channels) or 1
        resampler = av.AudioResampler(format="fltp", layout=_layout(channels), rate=SAMPLE_RATE)
        frames = _decoded(container, stream, resampler, path, state, channels)
        samples = (_samples(frame, channels, path) for frame in frames)
        for block in _rechunk(samples, chunk_n):
            total += block.shape[1]
            yield block
        declared = _declared_duration(container, stream, path, state.first_pos)
    finally:
        container.close()
    if total == 0:
        raise AudioError(f"{path}: contains no audio samples")
    _check_complete(path, declared, total / SAMPLE_RATE, state)


@dataclass
class _Decoding:
    """What ``_decoded`` saw: where the audio starts in the file, the damage it stepped over, and the
    error that stopped it."""

    first_pos: int | None = None  # byte offset of the first packet
    samples: int = 0  # decoded so far (silence for damaged packets included), at 16 kHz
    error: str | None = None  # the demuxer's or resampler's error that ended decoding early
    damaged_s: float = 0.0  # audio of packets that would not decode, replaced by silence
    damaged_places: int = 0
    first_damage_s: float = 0.0
    last_frame_s: float = 0.0  # the length of the latest decoded frame, for a packet that says none


class _Silence:
    """Stands for the audio of a packet that would not decode: zeros, so that what follows keeps its time."""

    def __init__(self, channels: int, n: int):
        self.samples, self._shape = n, (channels, n)

    def to_ndarray(self) -> np.ndarray:
        return np.zeros(self._shape, np.float32)


def _decoded(container, stream, resampler, path: Path, state: _Decoding, channels: int) -> Iterator:
    """The resampled frames of ``stream``. A decoding error before the first frame means the file
    is not audio. After it, a packet that will not decode (a damaged frame) is replaced by its length
    of silence and decoding goes on, as media players do, unless the damage passes
    ``DAMAGE_LIMIT_S`` or ``DAMAGE_LIMIT_FRACTION`` of the audio (then the file is damaged: an
    error). An error of the demuxer stops decoding where it happens (a cut tail)."""
    import av

    try:
        for packet in container.demux(stream):
            if state.first_pos is None and packet.pos is not None and packet.pos >= 0:
                state.first_pos = packet.pos
            try:
                frames = packet.decode()
            except av.error.EOFError:
                raise
            except av.error.FFmpegError as exc:
                yield from _step_over(packet, exc, path, state, channels)
                continue
            for frame in frames:
                if frame.sample_rate:
                    state.last_frame_s = frame.samples / frame.sample_rate
                for out in resampler.resample(frame):
                    state.samples += out.samples
                    yield out
        for out in resampler.resample(None):
            state.samples += out.samples
            yield out
    except av.error.EOFError:
        return
    except av.error.FFmpegError as exc:  # the demuxer or the resampler
        if not state.samples:
            raise AudioError(f"{path}: not a readable audio file ({_reason(exc)})") from None
        state.error = _reason(exc)


def _step_over(packet, exc: Exception, path: Path, state: _Decoding, channels: int) -> Iterator[_Silence]:
    """Silence for a packet that would not decode, or ``AudioError``: before any audio (not an audio
    file), or once the damage is too much."""
    if not state.samples:
        raise AudioError(f"{path}: not a readable audio file ({_reason(exc)})") from None
    seconds = state.last_frame_s
    if packet.duration and packet.time_base:
        seconds = float(packet.duration * packet.time_base)
    if not state.damaged_places:
        state.first_damage_s = state.samples / SAMPLE_RATE
    state.damaged_places += 1
    state.damaged_s += seconds
    if state.damaged_s > max(DAMAGE_LIMIT_S, DAMAGE_LIMIT_FRACTION * state.samples / SAMPLE_RATE):
        raise AudioError(
            f"{path}: damaged: {state.damaged_s:.1f} s of its audio will not decode, from "
            f"{state.first_damage_s:.1f} s on ({_reason(exc)})"
        )
    n = int(round(seconds * SAMPLE_RATE))
    if n > 0:
        state.samples += n
        yield _Silence(channels, n)


def _declared_duration(container, stream, path: Path, first_pos: int | None) -> float | None:
    """The duration the file's header declares, in seconds; None when unknown or only an estimate.

    Where a format declares no length (an MP3 without a Xing header, raw AAC), FFmpeg estimates it
    from the file's size and bit rate: an estimate made from what the file holds, which says nothing
    about a cut and is off for variable bit rates. A duration that equals that estimate is ignored.
    """
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration:
        duration = container.duration / 1_000_000
    if duration is None or not duration > 0:
        return None
    bit_rate = stream.bit_rate or 0
    if bit_rate > 0:
        size = path.stat().st_size
        for payload in (size, size - (first_pos or 0)):
            if abs(payload * 8 / bit_rate - duration) <= 0.02 * duration:
                return None
    return duration


def _check_complete(path: Path, declared_s: float | None, decoded_s: float, state: _Decoding) -> None:
    """Raise ``AudioError`` when the file decoded to less than its header declares (beyond what
    encoder delay and padding explain); say on a warning line how much damaged audio was stepped over."""
    if state.damaged_places:
        log.warning(
            "%s: %.2f s of damaged audio in %d place(s), the first at %.1f s, replaced by silence",
            path,
            state.damaged_s,
            state.damaged_places,
            state.first_damage_s,
        )
    if declared_s is not None:
        tolerance = max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_FRACTION * declared_s)
        if declared_s - decoded_s > tolerance:
            raise AudioError(
                f"{path}: truncated or damaged: the header declares {declared_s:.1f} s of audio, "
                f"the file holds {decoded_s:.1f} s"
            )


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
