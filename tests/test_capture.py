"""Microphone capture: device choice, the consumer's bookkeeping on a scripted PortAudio, and one
end-to-end capture through a real PulseAudio server (tests/pulse.py)."""

from __future__ import annotations

import builtins
import shutil
import subprocess
import time
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from pulse import pulse_vmic, virtual_mic  # noqa: F401  (fixtures)

from voice_coach.errors import DeviceError
from voice_coach.sources import microphone as capture
from voice_coach.sources.microphone import MicrophoneSource, list_input_devices, resolve_device

SR = 16000
DEVICES = [
    {"index": 0, "name": "pulse", "max_input_channels": 32, "default_samplerate": 44100.0, "is_default": False},
    {"index": 1, "name": "default", "max_input_channels": 32, "default_samplerate": 44100.0, "is_default": True},
    {"index": 3, "name": "Mic", "max_input_channels": 1, "default_samplerate": 48000.0, "is_default": False},
    {
        "index": 4,
        "name": "USB Headset Mic",
        "max_input_channels": 1,
        "default_samplerate": 48000.0,
        "is_default": False,
    },
    {
        "index": 5,
        "name": "USB Headset Monitor",
        "max_input_channels": 2,
        "default_samplerate": 48000.0,
        "is_default": False,
    },
]


# --- choosing a device --------------------------------------------------------------------------
@pytest.fixture
def fake_devices(monkeypatch):
    monkeypatch.setattr(capture, "list_input_devices", lambda: DEVICES)


@pytest.mark.parametrize(
    "spec, index",
    [
        (None, None),
        ("", None),
        ("default", None),
        (4, 4),
        ("4", 4),
        (" 5 ", 5),
        ("PULSE", 0),
        ("headset mic", 4),
        ("monitor", 5),
        ("mic", 3),
    ],  # "mic": the exact name wins over substrings
)
def test_resolve_device(fake_devices, spec, index):
    assert resolve_device(spec) == index


@pytest.mark.parametrize(
    "spec, message",
    [
        ("usb headset", r"'usb headset' matches several input devices \(4: USB Headset Mic, 5: USB Headset Monitor\)"),
        ("bluetooth", r"no input device named like 'bluetooth'; inputs: 0: pulse, 1: default, 3: Mic"),
        (9, r"no input device with index 9; inputs: 0: pulse"),
        ("2", r"no input device with index 2"),
    ],
)
def test_resolve_device_errors_name_the_choices(fake_devices, spec, message):
    with pytest.raises(DeviceError, match=message):
        resolve_device(spec)


def test_resolve_device_with_an_explicit_list():
    assert resolve_device("usb headset monitor", DEVICES) == 5


# --- a scripted PortAudio -----------------------------------------------------------------------
class FakePortAudioError(Exception):
    pass


class FakeStream:
    def __init__(self, sd, **kwargs):
        if sd.fail_open:
            raise FakePortAudioError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")
        self.kwargs = kwargs
        self.callback = kwargs["callback"]
        self.active = False
        sd.streams.append(self)

    def start(self):
        self.active = True

    def abort(self):
        self.active = False

    def close(self):
        pass

    def push(self, block, *, overflow=False, now=1000.0, adc_lag_s=0.02):
        """What PortAudio does on its audio thread: call the callback with one block."""
        info = SimpleNamespace(currentTime=now, inputBufferAdcTime=now - adc_lag_s)
        self.callback(block, len(block), info, SimpleNamespace(input_overflow=overflow))


class FakeSoundDevice:
    PortAudioError = FakePortAudioError

    def __init__(self, rate=44100.0, channels=2):
        self.device = {"name": "Fake Mic", "index": 7, "max_input_channels": channels, "default_samplerate": rate}
        self.default = SimpleNamespace(device=[7, -1])
        self.streams: list[FakeStream] = []
        self.fail_open = False

    def query_devices(self, device=None, kind=None):
        if device is None and kind is None:
            return [
                {"name": "Speakers", "index": 6, "max_input_channels": 0, "default_samplerate": 48000.0},
                self.device,
            ]
        return self.device

    def InputStream(self, **kwargs):
        return FakeStream(self, **kwargs)


@pytest.fixture
def fake_sd(monkeypatch):
    sd = FakeSoundDevice()
    monkeypatch.setattr(capture, "_sounddevice", lambda: sd)
    return sd


def test_list_input_devices(fake_sd):
    assert list_input_devices() == [
        {"index": 7, "name": "Fake Mic", "max_input_channels": 2, "default_samplerate": 44100.0, "is_default": True}
    ]


def test_missing_portaudio_is_one_line_with_the_fix(monkeypatch):
    real_import = builtins.__import__

    def no_portaudio(name, *args, **kwargs):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    with pytest.raises(DeviceError, match="apt-get install libportaudio2"):
        list_input_devices()


def _sine(rate, seconds, f_hz=440.0, channels=1):
    t = np.arange(int(rate * seconds)) / rate
    y = (0.5 * np.sin(2 * np.pi * f_hz * t)).astype(np.float32)
    return np.repeat(y[:, None], channels, axis=1)


def test_resampling_across_blocks_is_seamless(fake_sd):
    """Blocks at 44.1 kHz, read in uneven groups: the same as resampling the whole signal at once."""
    import soxr

    signal = _sine(44100, 2.0, channels=2)
    with MicrophoneSource(7, channels=2) as mic:
        stream = fake_sd.streams[0]
        assert mic.rate == 44100 and stream.kwargs["samplerate"] == 44100 and stream.kwargs["blocksize"] == 2205
        chunks, pos = [], 0
        for group in [1, 3, 2, 5, 1, 8, 20]:
            for _ in range(group):
                stream.push(signal[pos : pos + 2205])
                pos += 2205
            chunks.append(mic.read(timeout=0.1))
    assert [c.start_sample for c in chunks] == list(np.cumsum([0] + [len(c.audio) for c in chunks[:-1]]))
    got = np.concatenate([c.audio for c in chunks])
    assert got.dtype == np.float32 and got.shape[1] == 2
    whole = soxr.resample(signal[:pos], 44100, SR)
    assert abs(len(got) - len(whole)) < 0.01 * SR  # only the resampler's delay is still inside
    np.testing.assert_allclose(got, whole[: len(got)], atol=2e-3)
    # no clicks: the sample-to-sample step never exceeds the sine's own (2*pi*440/16000*0.5 = 0.086)
    assert np.max(np.abs(np.diff(got[:, 0]))) < 0.09
    assert not any(c.overflowed for c in chunks) and mic.overflow_count == 0


def test_capture_time_is_the_adc_time_of_the_last_sample(fake_sd):
    fake_sd.device["default_samplerate"] = 16000.0
    with MicrophoneSource(7) as mic:
        fake_sd.streams[0].push(np.zeros((800, 1), np.float32), now=5000.0, adc_lag_s=0.3)
        before = time.monotonic()
        chunk = mic.read(timeout=0.1)
    assert mic.rate == 16000 and chunk.audio.shape == (800, 1)
    # the block's first sample hit the converter 0.3 s before the callback; its last 799 samples later
    assert chunk.capture_monotonic == pytest.approx(before - 0.3 + 799 / SR, abs=0.05)
    assert chunk.start_s == 0.0 and chunk.end_s == pytest.approx(0.05)


def test_overflows_are_counted_and_dropped_blocks_become_silence(fake_sd):
    fake_sd.device["default_samplerate"] = 16000.0
    with MicrophoneSource(7, max_queue_s=0.1) as mic:  # room for 2 blocks of 50 ms
        stream = fake_sd.streams[0]
        stream.push(np.full((800, 1), 0.1, np.float32), overflow=True)
        first = mic.read(timeout=0.1)
        assert first.overflowed and mic.overflow_count == 1
        for _ in range(5):  # the consumer is late: 3 of these find the queue full
            stream.push(np.full((800, 1), 0.2, np.float32))
        late = mic.read(timeout=0.1)
        assert late.overflowed and mic.overflow_count == 2
        assert late.start_sample == 800 and late.audio.shape == (5 * 800, 1)  # the clock stays true
        assert np.all(late.audio[: 3 * 800] == 0) and np.allclose(late.audio[3 * 800 :], 0.2)
        assert mic.samples_read == 6 * 800


def test_no_audio_within_timeout_is_none_then_a_stall_is_an_error(fake_sd):
    fake_sd.device["default_samplerate"] = 16000.0
    with MicrophoneSource(7, stall_timeout_s=0.2) as mic:
        fake_sd.streams[0].push(np.zeros((800, 1), np.float32))
        assert mic.read(timeout=0.05) is not None
        assert mic.read(timeout=0.05) is None
        time.sleep(0.2)
        with pytest.raises(DeviceError, match="'Fake Mic' stopped delivering audio for 0.2 s"):
            mic.read(timeout=0.05)


def test_a_stream_that_stops_is_an_error(fake_sd):
    with MicrophoneSource(7) as mic:
        fake_sd.streams[0].active = False  # PortAudio stopped it: device unplugged
        with pytest.raises(DeviceError, match="stopped delivering audio"):
            mic.read(timeout=0.01)


def test_opening_failures_are_one_line(fake_sd):
    with pytest.raises(DeviceError, match="has 2 input channel\\(s\\); 3 were asked for"):
        MicrophoneSource(7, channels=3).open()
    fake_sd.fail_open = True
    with (
        pytest.raises(DeviceError, match="cannot open input device 'Fake Mic': .*Device unavailable"),
        MicrophoneSource(7),
    ):
        pass


# --- a real audio server ------------------------------------------------------------------------
def _test_wav(path):
    """3 s of a 440 Hz tone, then espeak-ng speech when available, at 44.1 kHz."""
    rate = 44100
    parts = [_sine(rate, 3.0)[:, 0] * 0.6]
    if shutil.which("espeak-ng"):
        import io

        import soxr

        wav = subprocess.run(
            ["espeak-ng", "--stdout", "Thank you for calling, how can I help?"], capture_output=True, check=True
        ).stdout
        speech, sr = sf.read(io.BytesIO(wav), dtype="float32")
        parts.append(soxr.resample(speech, sr, rate).astype(np.float32))
    sf.write(str(path), np.concatenate(parts), rate)
    return path


def _dominant_hz(y):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.fft.rfftfreq(len(y), 1 / SR)[np.argmax(spectrum)]


@pytest.mark.slow
def test_captures_what_is_played_into_the_virtual_microphone(pulse_vmic, tmp_path):  # noqa: F811
    wav = _test_wav(tmp_path / "tone_then_speech.wav")
    seconds = sf.info(str(wav)).duration

    chunks = []
    with MicrophoneSource("pulse") as mic:
        first = mic.read(timeout=5.0)
        assert first is not None  # the stream runs before anything plays
        player = pulse_vmic.play(wav)
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds + 1.0:
            chunk = mic.read(timeout=0.5)
            if chunk is not None:
                chunks.append(chunk)
                assert chunk.capture_monotonic <= time.monotonic()
        overflows = mic.overflow_count
    assert player.wait(timeout=10) == 0, player.stderr.read()

    audio = np.concatenate([c.audio for c in chunks])[:, 0]
    starts = [c.start_sample for c in chunks]
    assert starts == list(np.cumsum([starts[0]] + [len(c.audio) for c in chunks[:-1]]))
    assert len(audio) == pytest.approx((seconds + 1.0) * SR, rel=0.15)  # real time, at 16 kHz
    # Every overflow counted is flagged on the chunk it hit, and no chunk is flagged without one.
    flagged = sum(c.overflowed for c in [first, *chunks])
    assert flagged <= overflows and (flagged == 0) == (overflows == 0), (flagged, overflows)

    rms = np.sqrt(np.convolve(audio**2, np.ones(SR // 10) / (SR // 10), mode="same"))
    loud = np.flatnonzero(rms > 0.1)
    assert loud.size, "nothing was captured"
    tone = audio[loud[0] + SR // 4 : loud[0] + SR // 4 + 2 * SR]  # 2 s inside the 3 s tone
    assert _dominant_hz(tone) == pytest.approx(440.0, abs=5.0)
    if shutil.which("espeak-ng"):
        after = audio[loud[0] + int(3.3 * SR) :]
        assert np.sqrt(np.mean(after**2)) > 0.01  # the speech came through too
        assert abs(_dominant_hz(after) - 440.0) > 5.0
