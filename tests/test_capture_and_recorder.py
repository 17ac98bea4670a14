import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import soundfile as sf

from voice_coach.errors import DeviceError
from voice_coach.sources.microphone import resolve_device
from voice_coach.sources.recorder import WavRecorder

DEVICES = [
    {"index": 0, "name": "pulse", "max_input_channels": 32, "default_samplerate": 44100.0, "is_default": False},
    {"index": 1, "name": "default", "max_input_channels": 32, "default_samplerate": 44100.0, "is_default": True},
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


def test_resolve_device_by_index_and_name():
    assert resolve_device(None, DEVICES) is None
    assert resolve_device("4", DEVICES) == 4
    assert resolve_device("pulse", DEVICES) == 0
    assert resolve_device("headset mic", DEVICES) == 4
    with pytest.raises(DeviceError, match="several input devices"):
        resolve_device("usb headset", DEVICES)
    with pytest.raises(DeviceError, match="no input device named like 'bluetooth'"):
        resolve_device("bluetooth", DEVICES)
    with pytest.raises(DeviceError, match="no input device with index 9"):
        resolve_device(9, DEVICES)


def test_recorder_writes_a_readable_wav(tmp_path):
    path = tmp_path / "r.wav"
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)).astype(np.float32)
    with WavRecorder(path, channels=2) as rec:
        for _ in range(3):
            rec.write(np.stack([tone, -tone], axis=1))
    data, sr = sf.read(str(path), dtype="float32")
    assert sr == 16000 and data.shape == (48000, 2)
    np.testing.assert_allclose(data[:16000, 0], tone, atol=1e-4)


def test_recorder_survives_kill_9(tmp_path):
    """A process killed mid-recording leaves a WAV that soundfile reads, losing at most ~1 s."""
    path = tmp_path / "killed.wav"
    script = textwrap.dedent(
        f"""
        import time, numpy as np
        from voice_coach.sources.recorder import WavRecorder
        rec = WavRecorder({str(path)!r})
        block = np.full(800, 0.25, np.float32)  # 50 ms
        t0 = time.monotonic()
        while True:
            rec.write(block)
            print(round(rec.duration_s, 2), flush=True)
            time.sleep(max(0.0, t0 + rec.duration_s - time.monotonic()))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    written = 0.0
    deadline = time.monotonic() + 30
    while written < 3.0 and time.monotonic() < deadline:
        written = float(proc.stdout.readline() or 0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    info = sf.info(str(path))
    assert info.samplerate == 16000
    assert written - 1.0 <= info.duration <= written + 0.1
    data, _ = sf.read(str(path), dtype="float32")
    assert np.allclose(data, 0.25, atol=1e-3)
