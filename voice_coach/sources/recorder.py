"""A crash-safe WAV recorder for live sessions.

A plain WAV writer puts the data size in the header only when it closes, so a killed process
leaves a file that claims to hold no audio. ``WavRecorder`` writes 16-bit PCM as it arrives and,
at least once per ``sync_s``, rewrites the RIFF and data sizes for what is on disk, flushes and
fsyncs. After ``kill -9`` the file is a valid WAV that soundfile and ffmpeg read, missing at most
the last ``sync_s`` seconds.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import numpy as np

from voice_coach.errors import DeviceError

_HEADER_BYTES = 44
_MAX_DATA_BYTES = 0xFFFFFFFF - 36  # RIFF sizes are 32-bit: ~37 h of 16 kHz mono


class WavRecorder:
    """16-bit PCM WAV written as audio arrives, readable at any moment (see the module docstring).

    ``write(audio)`` takes float32 in [-1, 1], shape (n, channels) or (n,) for mono; ``close()``
    finalizes (also on leaving a ``with`` block). I/O failures are DeviceError with one line.
    """

    def __init__(self, path: str | Path, *, samplerate: int = 16000, channels: int = 1, sync_s: float = 0.5):
        self.path = Path(path)
        self.samplerate = samplerate
        self.channels = channels
        self.sync_s = sync_s
        self.frames = 0
        try:
            self._fh = open(self.path, "wb")  # noqa: SIM115  (held open for the whole session; close() closes it)
        except OSError as exc:
            raise DeviceError(f"--record {self.path}: cannot write ({exc.strerror})") from None
        self._fh.write(self._header(0))
        self._sync()
        self._last_sync = time.monotonic()

    def _header(self, data_bytes: int) -> bytes:
        block_align = 2 * self.channels
        return b"".join(
            [
                b"RIFF",
                struct.pack("<I", 36 + data_bytes),
                b"WAVE",
                b"fmt ",
                struct.pack(
                    "<IHHIIHH", 16, 1, self.channels, self.samplerate, self.samplerate * block_align, block_align, 16
                ),
                b"data",
                struct.pack("<I", data_bytes),
            ]
        )

    def write(self, audio: np.ndarray) -> None:
        """Append float32 audio in [-1, 1], shape (n, channels) or (n,) for mono."""
        if self._fh.closed:
            raise DeviceError(f"--record {self.path}: the recording is already closed")
        data = np.asarray(audio, dtype=np.float32)
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2 or data.shape[1] != self.channels:
            raise ValueError(f"WavRecorder for {self.channels} channel(s) got audio of shape {data.shape}")
        if (self.frames + len(data)) * 2 * self.channels > _MAX_DATA_BYTES:
            raise DeviceError(f"--record {self.path}: a WAV file cannot hold more than 4 GiB; start a new recording")
        pcm = (np.clip(data, -1.0, 1.0) * 32767.0).round().astype("<i2")
        try:
            self._fh.write(pcm.tobytes())
            self.frames += len(pcm)
            if time.monotonic() - self._last_sync >= self.sync_s:
                self._sync()
        except OSError as exc:
            raise DeviceError(f"--record {self.path}: write failed ({exc.strerror})") from None

    def _sync(self) -> None:
        """Make the header describe the data written so far, and put both on disk."""
        data_bytes = self.frames * 2 * self.channels
        self._fh.flush()
        end = self._fh.tell()
        self._fh.seek(4)
        self._fh.write(struct.pack("<I", 36 + data_bytes))
        self._fh.seek(40)
        self._fh.write(struct.pack("<I", data_bytes))
        self._fh.seek(end)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._last_sync = time.monotonic()

    @property
    def duration_s(self) -> float:
        return self.frames / self.samplerate

    def close(self) -> None:
        if self._fh.closed:
            return
        self._sync()
        self._fh.close()

    def __enter__(self) -> WavRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
