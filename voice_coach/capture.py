"""Microphone input with sounddevice, at the edge of the package.

The PortAudio callback only copies the block into a queue with its capture time and notes the
status flags; every other step (resampling to 16 kHz, analysis, writing) happens in the consumer,
so the audio thread never waits. Input overflows are counted and reported, never fatal. A device
that fails to open, or stops delivering audio (unplugged, server gone), becomes one
``DeviceError`` line.
"""

from __future__ import annotations

import queue
import time
from typing import Optional

import numpy as np

from . import SAMPLE_RATE
from .errors import DeviceError
from .live import Chunk


def _sd():
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio library missing
        raise DeviceError(f"cannot use audio devices: {exc}. On Debian/Ubuntu: apt-get install libportaudio2") from None
    return sd


def list_input_devices() -> list[dict]:
    """Input devices: index, name, max_input_channels, default_samplerate, is_default."""
    sd = _sd()
    try:
        devices = sd.query_devices()
        default_in = sd.default.device[0] if sd.default.device is not None else None
    except Exception as exc:  # PortAudioError and friends
        raise DeviceError(f"cannot list audio devices: {exc}") from None
    out = []
    for index, d in enumerate(devices):
        if d.get("max_input_channels", 0) > 0:
            out.append(
                {
                    "index": index,
                    "name": d["name"],
                    "max_input_channels": int(d["max_input_channels"]),
                    "default_samplerate": float(d["default_samplerate"]),
                    "is_default": index == default_in,
                }
            )
    return out


def resolve_device(spec: str | int | None, devices: list[dict] | None = None) -> int | None:
    """An input device index from an index or a case-insensitive part of its name.

    None means the system default. Unknown or ambiguous names are a ``DeviceError`` listing the
    choices.
    """
    if spec is None or spec == "":
        return None
    devices = list_input_devices() if devices is None else devices
    text = str(spec).strip()
    if text.isdigit():
        index = int(text)
        if any(d["index"] == index for d in devices):
            return index
        raise DeviceError(f"no input device with index {index}; inputs: {_choices(devices)}")
    exact = [d for d in devices if d["name"].lower() == text.lower()]
    if len(exact) == 1:
        return exact[0]["index"]
    found = [d for d in devices if text.lower() in d["name"].lower()]
    if len(found) == 1:
        return found[0]["index"]
    if not found:
        raise DeviceError(f"no input device named like '{text}'; inputs: {_choices(devices)}")
    raise DeviceError(f"'{text}' matches several input devices ({_choices(found)}); give the index")


def _choices(devices: list[dict]) -> str:
    return ", ".join(f"{d['index']}: {d['name']}" for d in devices) or "none found"


class MicrophoneSource:
    """Captures from an input device; ``read`` gives 16 kHz float32 chunks, shape (n, channels).

    Use as a context manager. ``overflow_count`` counts the blocks PortAudio flagged as overflowed
    (audio the device dropped because the consumer fell behind).
    """

    def __init__(self, device: int | None = None, *, channels: int = 1, samplerate: float | None = None, blocksize_s: float = 0.05, stall_timeout_s: float = 3.0):
        self.device = device
        self.channels = channels
        self.samplerate = samplerate
        self.blocksize_s = blocksize_s
        self.stall_timeout_s = stall_timeout_s
        self.overflow_count = 0
        self._queue: queue.Queue = queue.Queue()
        self._stream = None
        self._resampler = None
        self._last_audio = time.monotonic()
        self._name = "default input" if device is None else f"input device {device}"

    # The PortAudio callback: copy and note, nothing else.
    def _callback(self, indata, frames, time_info, status) -> None:
        overflowed = bool(status and status.input_overflow)
        if overflowed:
            self.overflow_count += 1
        self._queue.put_nowait((indata.copy(), time.monotonic(), overflowed))

    def __enter__(self) -> "MicrophoneSource":
        sd = _sd()
        try:
            info = sd.query_devices(self.device, "input")
            self._name = f"input device {info['name']!r}"
            rate = float(self.samplerate or info["default_samplerate"] or SAMPLE_RATE)
            if self.channels > int(info["max_input_channels"]):
                raise DeviceError(f"{self._name} has {int(info['max_input_channels'])} input channel(s); --channels {self.channels} is too many")
            self._stream = sd.InputStream(
                device=self.device,
                channels=self.channels,
                samplerate=rate,
                dtype="float32",
                blocksize=max(1, int(rate * self.blocksize_s)),
                callback=self._callback,
            )
            self._stream.start()
        except DeviceError:
            raise
        except Exception as exc:  # PortAudioError, ValueError for bad devices/settings
            raise DeviceError(f"cannot open {self._name}: {exc}") from None
        self.rate = rate
        if int(round(rate)) != SAMPLE_RATE:
            import soxr

            self._resampler = soxr.ResampleStream(rate, SAMPLE_RATE, self.channels, dtype="float32")
        self._last_audio = time.monotonic()
        return self

    def __exit__(self, *exc) -> bool:
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:
                pass
            self._stream = None
        return False

    def read(self, timeout: float) -> Optional[Chunk]:
        """The audio captured since the last call (None if none within ``timeout`` seconds).

        Raises ``DeviceError`` when the device has stopped delivering audio for
        ``stall_timeout_s``."""
        blocks = []
        try:
            blocks.append(self._queue.get(timeout=timeout))
            while True:
                blocks.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        now = time.monotonic()
        if not blocks:
            stream = self._stream
            if stream is not None and (not stream.active or now - self._last_audio > self.stall_timeout_s):
                raise DeviceError(f"{self._name} stopped delivering audio (unplugged, or the audio server went away)")
            return None
        self._last_audio = now
        audio = np.concatenate([b[0] for b in blocks]).astype(np.float32, copy=False)
        if self._resampler is not None:
            audio = self._resampler.resample_chunk(audio)
            if audio.ndim == 1:
                audio = audio[:, None]
        return Chunk(audio, blocks[-1][1], any(b[2] for b in blocks))
