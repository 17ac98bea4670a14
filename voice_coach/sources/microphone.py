"""Microphone capture: PortAudio (via sounddevice) to 16 kHz float32 chunks.

The audio callback runs on PortAudio's real-time thread, so it only copies ``indata`` into a queue
with the callback's timing and status flags, and returns. Everything else (overflow counting,
resampling to 16 kHz, timestamps, error detection) happens in the consumer, :meth:`MicrophoneSource.read`.

The device is opened at its default (native) rate and the consumer resamples to 16 kHz with
``soxr.ResampleStream``: one resampler for the whole stream, so that chunk boundaries are invisible
(no clicks, no lost or repeated samples), unlike resampling each chunk on its own.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.errors import DeviceError

__all__ = ["CapturedChunk", "MicrophoneSource", "list_input_devices", "resolve_device"]


def _sounddevice():
    """Import sounddevice, turning a missing PortAudio into a one-line fix."""
    try:
        import sounddevice
    except OSError as exc:  # raised at import when libportaudio is not installed
        raise DeviceError(
            "the PortAudio library is missing, so no microphone can be opened; "
            "install it: apt-get install libportaudio2 (Debian/Ubuntu) or brew install portaudio (macOS)"
        ) from exc
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise DeviceError("the sounddevice package is missing; run: pip install sounddevice") from exc
    return sounddevice


def list_input_devices() -> list[dict]:
    """The audio input devices PortAudio sees.

    Returns
    -------
    list of dict
        ``index``, ``name``, ``max_input_channels``, ``default_samplerate`` (Hz) and ``is_default``,
        one per device with at least one input channel.
    """
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default_in = sd.default.device[0]
    except sd.PortAudioError as exc:
        raise DeviceError(f"could not list audio devices: {exc}") from exc
    if default_in is None or default_in < 0:
        try:
            default_in = sd.query_devices(kind="input")["index"]
        except (sd.PortAudioError, ValueError, KeyError):
            default_in = -1
    return [
        {
            "index": int(d["index"]),
            "name": str(d["name"]),
            "max_input_channels": int(d["max_input_channels"]),
            "default_samplerate": float(d["default_samplerate"]),
            "is_default": int(d["index"]) == default_in,
        }
        for d in devices
        if d["max_input_channels"] > 0
    ]


def _describe(devices: list[dict]) -> str:
    return ", ".join(f"{d['index']}: {d['name']}" for d in devices) or "none found"


def resolve_device(spec: str | int | None, devices: list[dict] | None = None) -> int | None:
    """The PortAudio index of an input device given by index or by name.

    ``None`` (or ``""``/``"default"``) means the system default input and returns None. An int or a
    string of digits is an index. Any other string matches device names case-insensitively: an
    exact name wins, else the one name that contains it. ``devices`` defaults to
    :func:`list_input_devices`. Raises DeviceError naming the choices when nothing or more than one
    device matches.
    """
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "default")):
        return None
    devices = list_input_devices() if devices is None else devices
    text = str(spec).strip()
    if isinstance(spec, int) or text.isdigit():
        index = int(text)
        if any(d["index"] == index for d in devices):
            return index
        raise DeviceError(f"no input device with index {index}; inputs: {_describe(devices)}")
    wanted = text.lower()
    exact = [d for d in devices if d["name"].lower() == wanted]
    if len(exact) == 1:
        return exact[0]["index"]
    matches = exact or [d for d in devices if wanted in d["name"].lower()]
    if len(matches) == 1:
        return matches[0]["index"]
    if not matches:
        raise DeviceError(f"no input device named like '{text}'; inputs: {_describe(devices)}")
    raise DeviceError(f"'{text}' matches several input devices ({_describe(matches)}); give the index")


@dataclass(frozen=True)
class CapturedChunk:
    """Audio captured from a microphone, already at 16 kHz.

    ``audio`` is float32 of shape (n, channels). ``start_sample`` is the index of its first sample
    in the 16 kHz stream (the stream's clock: chunks are contiguous, and blocks the consumer was
    too slow to take are filled with silence so that this clock stays true to time).
    ``capture_monotonic`` is the ``time.monotonic()`` at which the last sample reached the
    converter (ADC time where PortAudio knows it, else the callback time). ``overflowed`` says
    that input was lost just before or inside this chunk.
    """

    audio: np.ndarray
    start_sample: int
    capture_monotonic: float
    overflowed: bool = False

    @property
    def start_s(self) -> float:
        return self.start_sample / SAMPLE_RATE

    @property
    def end_s(self) -> float:
        return (self.start_sample + self.audio.shape[0]) / SAMPLE_RATE


class MicrophoneSource:
    """A live input device as a source of :class:`CapturedChunk`.

    Parameters
    ----------
    device : int, str or None
        PortAudio index, (part of a) name (see :func:`resolve_device`), or None for the default input.
    channels : int
        Channels to capture (1 = mono; 2 for a stereo adaptor carrying both sides of a call).
    samplerate : float or None
        Device rate (Hz) to open at. None: the device's default rate, resampled to 16 kHz here.
        (Asking the ALSA ``pulse`` device for 16 kHz directly made its first block come 2 s late,
        with 0.6 s between the converter and the callback; at its default 44.1 kHz, 0.09 s and 0.05 s.)
    blocksize_s : float
        Callback block length (s).
    stall_timeout_s : float or None
        If no audio arrives for this long (s), the device is taken as gone and :meth:`read` raises
        DeviceError (the first block gets at least 5 s: some devices start slowly). None disables it.
    max_queue_s : float
        Audio (s) the callback may queue for a consumer that falls behind; beyond that blocks are
        dropped, counted as overflows and replaced by silence, so the stream clock stays true.

    Use as a context manager and call :meth:`read` in a loop. A device that fails or goes away
    raises DeviceError with one line from :meth:`read`; what was read before is unaffected.
    """

    def __init__(
        self,
        device: str | int | None = None,
        *,
        channels: int = 1,
        samplerate: float | None = None,
        blocksize_s: float = 0.05,
        stall_timeout_s: float | None = 3.0,
        max_queue_s: float = 60.0,
    ) -> None:
        if channels < 1:
            raise DeviceError(f"channels must be >= 1, got {channels}")
        if blocksize_s <= 0:
            raise DeviceError(f"blocksize_s must be > 0 s, got {blocksize_s}")
        self.device = device
        self.channels = int(channels)
        self.requested_samplerate = samplerate
        self.blocksize_s = float(blocksize_s)
        self.stall_timeout_s = stall_timeout_s
        self.max_queue_s = float(max_queue_s)

        self.device_index: int | None = None
        self.device_name = "default input" if device is None else f"input device {device}"
        self.rate: float = 0.0  # the rate the device stream runs at (Hz)
        self._stream = None
        self._queue: queue.Queue = queue.Queue()
        self._dropped_frames = 0  # written by the callback when the queue is full
        self._dropped_seen = 0
        self._finished = False  # set by PortAudio's finished callback
        self._resampler = None
        self._out_samples = 0
        self._overflows = 0
        self._got_audio = False
        self._last_audio = 0.0

    # --- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> MicrophoneSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Open and start the input stream. Raises DeviceError with one line on failure."""
        sd = _sounddevice()
        index = self.device if isinstance(self.device, int) or self.device is None else resolve_device(self.device)
        self.device_index = index
        try:
            info = sd.query_devices(index, kind="input")
            self.device_name = f"input device '{info['name']}'"
            if self.channels > int(info["max_input_channels"]):
                raise DeviceError(
                    f"{self.device_name} has {int(info['max_input_channels'])} input channel(s); "
                    f"{self.channels} were asked for"
                )
            self.rate = float(self.requested_samplerate or info["default_samplerate"] or SAMPLE_RATE)
            self._queue = queue.Queue(maxsize=max(1, int(self.max_queue_s / self.blocksize_s)))
            self._stream = stream = sd.InputStream(
                device=index,
                channels=self.channels,
                samplerate=self.rate,
                blocksize=max(1, int(round(self.blocksize_s * self.rate))),
                dtype="float32",
                callback=self._callback,
                finished_callback=self._on_finished,
            )
            stream.start()
        except DeviceError:
            raise
        except Exception as exc:  # PortAudioError, ValueError for unknown devices or settings
            self._stream = None
            raise DeviceError(f"cannot open {self.device_name}: {exc}") from None
        if int(round(self.rate)) != SAMPLE_RATE:
            try:
                import soxr
            except ImportError:  # pragma: no cover - a librosa dependency
                self.close()
                raise DeviceError("resampling the microphone needs soxr; run: pip install soxr") from None
            # one resampler for the whole stream: chunk boundaries leave no trace
            self._resampler = soxr.ResampleStream(self.rate, SAMPLE_RATE, self.channels, dtype="float32")
        self._last_audio = time.monotonic()

    def close(self) -> None:
        """Stop and close the stream; safe to call twice. Audio still queued is discarded."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception:  # a device that vanished may fail to close; nothing is left to save
                pass

    # --- the real-time side: copy, note, leave ------------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:
        try:
            self._queue.put_nowait(
                (
                    indata.copy(),
                    time.monotonic(),
                    time_info.currentTime,
                    time_info.inputBufferAdcTime,
                    bool(status.input_overflow),
                )
            )
        except queue.Full:
            self._dropped_frames += frames

    def _on_finished(self) -> None:
        self._finished = True

    # --- the consumer -----------------------------------------------------------------------
    @property
    def overflow_count(self) -> int:
        """Input overflows so far: blocks PortAudio flagged, plus drops for a slow consumer."""
        return self._overflows

    @property
    def samples_read(self) -> int:
        """16 kHz samples delivered by :meth:`read` so far (the stream clock)."""
        return self._out_samples

    def _check_alive(self) -> None:
        stream = self._stream
        if stream is None:
            raise DeviceError(f"{self.device_name} is not open")
        gone = f"{self.device_name} stopped delivering audio"
        if self._finished or not stream.active:
            raise DeviceError(f"{gone} (unplugged, or the audio server went away)")
        if self.stall_timeout_s is not None:
            limit = self.stall_timeout_s if self._got_audio else max(self.stall_timeout_s, 5.0)
            if time.monotonic() - self._last_audio > limit:
                raise DeviceError(f"{gone} for {limit:g} s (unplugged, suspended, or the audio server went away)")

    def read(self, timeout: float | None = 0.5) -> CapturedChunk | None:
        """The audio captured since the last call, at 16 kHz; None if none came within ``timeout`` s.

        Waits up to ``timeout`` for the first block, then takes every block already queued.
        Raises DeviceError if the device failed, vanished or stalled.
        """
        try:
            first = self._queue.get(timeout=timeout) if timeout else self._queue.get_nowait()
        except queue.Empty:
            self._check_alive()
            return None
        items = [first]
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        self._got_audio = True
        self._last_audio = time.monotonic()

        flagged = sum(1 for item in items if item[4])
        self._overflows += flagged
        overflowed = flagged > 0
        parts = [item[0] for item in items]
        dropped = self._dropped_frames - self._dropped_seen
        if dropped:
            # blocks the queue could not take become silence, so that sample count stays time
            self._dropped_seen += dropped
            self._overflows += 1
            overflowed = True
            parts.insert(0, np.zeros((dropped, self.channels), dtype=np.float32))
        block = np.concatenate(parts) if len(parts) > 1 else parts[0]

        last, mono_at_callback, stream_now, adc_first, _ = items[-1]
        if adc_first > 0 and 0.0 <= stream_now - adc_first < 5.0:
            # the last frame's converter time, moved from PortAudio's stream clock to time.monotonic()
            captured = mono_at_callback - (stream_now - adc_first) + (last.shape[0] - 1) / self.rate
            captured = min(captured, mono_at_callback)  # host clocks jitter; never after delivery
        else:  # the host API does not report ADC times
            captured = mono_at_callback
        if self._resampler is not None:
            audio = self._resampler.resample_chunk(block)
            captured -= self._resampler.delay() / SAMPLE_RATE  # output trails input by the filter delay
        else:
            audio = block
        audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1, self.channels)
        chunk = CapturedChunk(audio, self._out_samples, captured, overflowed)
        self._out_samples += audio.shape[0]
        return chunk
