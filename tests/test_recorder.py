"""WavRecorder: a WAV that stays readable while it is written, and after the writer is killed."""

import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import soundfile as sf

from voice_coach.errors import DeviceError
from voice_coach.sources.recorder import WavRecorder

SR = 16000


def _header_sizes(path):
    raw = path.read_bytes()[:44]
    return struct.unpack("<I", raw[4:8])[0], struct.unpack("<I", raw[40:44])[0]


def test_header_matches_the_data_after_close(tmp_path):
    path = tmp_path / "r.wav"
    with WavRecorder(path) as rec:
        rec.write(np.zeros(1000, np.float32))
        rec.write(np.zeros((600, 1), np.float32))
        rec.write(np.zeros(0, np.float32))
    riff, data = _header_sizes(path)
    assert data == 1600 * 2 and riff == 36 + data
    assert path.stat().st_size == 44 + data
    assert sf.info(str(path)).frames == 1600


def test_values_are_clipped_and_rounded_to_16_bit(tmp_path):
    path = tmp_path / "clip.wav"
    with WavRecorder(path, channels=2) as rec:
        rec.write(np.array([[2.0, -2.0], [0.5, -0.5], [1e-6, 0.0]], np.float32))
    data, _ = sf.read(str(path), dtype="int16")
    np.testing.assert_array_equal(data, [[32767, -32767], [16384, -16384], [0, 0]])


def test_readable_while_being_written(tmp_path):
    """Another program can read what was written up to the last sync, before close()."""
    path = tmp_path / "open.wav"
    rec = WavRecorder(path, sync_s=0.0)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)).astype(np.float32)
    rec.write(tone)
    data, sr = sf.read(str(path), dtype="float32")
    assert sr == SR and len(data) == SR
    np.testing.assert_allclose(data, tone, atol=1e-4)
    rec.close()
    rec.close()  # twice is fine


def test_misuse_is_reported(tmp_path):
    rec = WavRecorder(tmp_path / "m.wav", channels=2)
    with pytest.raises(ValueError, match="2 channel"):
        rec.write(np.zeros((10, 1), np.float32))
    rec.close()
    with pytest.raises(DeviceError, match="already closed"):
        rec.write(np.zeros((10, 2), np.float32))
    with pytest.raises(DeviceError, match="cannot write"):
        WavRecorder(tmp_path / "no-such-folder" / "x.wav")


def test_kill_9_leaves_a_file_soundfile_and_ffmpeg_read(tmp_path):
    """SIGKILL after ~3 s of real-time writing: the file holds at least all but the last second."""
    path = tmp_path / "killed.wav"
    script = textwrap.dedent(
        f"""
        import time, numpy as np
        from voice_coach.sources.recorder import WavRecorder
        rec = WavRecorder({str(path)!r}, channels=2)
        n = 0
        t0 = time.monotonic()
        while True:
            t = (n + np.arange(800)) / {SR}
            block = 0.25 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
            rec.write(np.stack([block, -block], axis=1))  # 50 ms
            n += 800
            print(n, flush=True)
            time.sleep(max(0.0, t0 + n / {SR} - time.monotonic()))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    written = 0
    deadline = time.monotonic() + 30
    while written < 3 * SR and time.monotonic() < deadline:
        written = int(proc.stdout.readline() or 0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert written >= 3 * SR

    data, sr = sf.read(str(path), dtype="float32")
    assert sr == SR and data.shape[1] == 2
    assert written - SR <= len(data) <= written
    t = np.arange(len(data)) / SR
    np.testing.assert_allclose(data[:, 0], 0.25 * np.sin(2 * np.pi * 440 * t), atol=1e-3)
    # and the analysis reads it whole: not taken for a truncated file (its header was kept up to date)
    from voice_coach.sources.decode import load_audio

    assert load_audio(path).shape == (2, len(data))

    if shutil.which("ffprobe") is None or shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")
    probe = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=sample_rate,channels:format=duration",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"sample_rate": "16000"' in probe.stdout and '"channels": 2' in probe.stdout
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-"], capture_output=True, check=True
    ).stdout
    assert len(decoded) == len(data) * 2 * 2
