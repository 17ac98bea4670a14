"""End to end through a real audio server: a recording played into a PulseAudio null sink is
captured by `voice-coach live --device pulse` (sounddevice → ALSA pulse plugin → the sink's monitor)."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf
from conftest import SAMPLES
from pulse import virtual_mic  # noqa: F401  (the fixture)


@pytest.fixture(scope="module")
def calm_then_rushed_clip(tmp_path_factory):
    """14 s of the calm part (three sentences: the baseline), then 8 s of the rushed part of the sample;
    returns (path, seconds, where the rushed part starts)."""
    y, sr = sf.read(str(SAMPLES / "calm_then_rushed.wav"), dtype="float32")
    calm_s = 14
    clip = np.concatenate([y[: calm_s * sr], y[int(38.4 * sr) : int(46.5 * sr)]])
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(str(path), clip, sr)
    return path, len(clip) / sr, calm_s


@pytest.mark.slow
def test_live_on_a_virtual_microphone(virtual_mic, calm_then_rushed_clip, tmp_path):  # noqa: F811
    clip, seconds, calm_s = calm_then_rushed_clip
    events, record, result = tmp_path / "ev.jsonl", tmp_path / "rec.wav", tmp_path / "rec.json"
    stream_s = seconds + 2  # the clip, once the session has started, and a margin
    cmd = [
        sys.executable,
        "-m",
        "voice_coach.cli.main",
        "live",
        "--device",
        "pulse",
        "--events",
        str(events),
        "--record",
        str(record),
        "--duration",
        str(stream_s),
        "--quiet",
    ]
    live = subprocess.Popen(cmd, env=virtual_mic.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The audio starts once the model is loaded and the stream open: the session's first event
    # ("started") is written then. A fixed wait lost the first words on a busy machine.
    deadline = time.monotonic() + 60
    while not (events.exists() and events.read_text().strip()) and live.poll() is None:
        assert time.monotonic() < deadline, "the live session did not start within 60 s"
        time.sleep(0.05)
    time.sleep(0.3)
    player = virtual_mic.play(clip)
    out, err = live.communicate(timeout=seconds + 90)
    player.wait(timeout=10)
    assert live.returncode == 0, err
    assert "Traceback" not in err

    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert lines[0]["type"] == "started" and lines[-1]["type"] == "stopped"
    words = [w["text"].lower().strip(".,?!") for e in lines if e["type"] == "words" for w in e["words"]]
    assert {"thank", "calling"} <= set(words), words[:20]
    warnings = [e for e in lines if e["type"] == "warning"]
    assert warnings and warnings[0]["kind"] in ("agitated", "loud", "high_pitch", "fast")
    # The rushed part starts calm_s into the clip, a little later into the stream.
    assert warnings[0]["t"] > calm_s
    metrics = [e for e in lines if e["type"] == "metrics"]
    assert len(metrics) >= 2 * seconds
    assert np.median([m["lag_s"] for m in metrics]) < 0.5

    info = sf.info(str(record))
    assert info.samplerate == 16000 and info.duration == pytest.approx(stream_s, abs=1.0)
    ffprobe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(record)],
        capture_output=True,
        text=True,
    )
    if ffprobe.returncode == 0 and ffprobe.stdout.strip():
        assert float(ffprobe.stdout) == pytest.approx(info.duration, abs=0.1)
    r = json.loads(result.read_text())
    assert r["schema_version"] == 1 and r["warnings"]


@pytest.mark.slow
def test_audio_server_going_away_ends_the_session_cleanly(tmp_path):
    """The device disappears mid-session: one-line error, non-zero exit, recording and result kept."""
    from pulse import start_virtual_mic, stop_virtual_mic

    mic, why = start_virtual_mic()
    if mic is None:
        pytest.skip(f"no audio server: {why}")
    try:
        record, result = tmp_path / "rec.wav", tmp_path / "rec.json"
        cmd = [
            sys.executable,
            "-m",
            "voice_coach.cli.main",
            "live",
            "--device",
            "pulse",
            "--record",
            str(record),
            "--quiet",
        ]
        live = subprocess.Popen(cmd, env=mic.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4.0)
        mic.play(SAMPLES / "jfk.flac")
        time.sleep(4.0)
        subprocess.run(["pulseaudio", "--kill"], env=mic.env, timeout=10)
        _, err = live.communicate(timeout=60)
    finally:
        stop_virtual_mic(mic)
    assert live.returncode == 1
    ours = [line for line in err.splitlines() if line.startswith("voice-coach: error")]
    assert len(ours) == 1 and "stopped delivering audio" in ours[0]
    assert "Traceback" not in err
    assert sf.info(str(record)).duration > 2.0
    assert json.loads(result.read_text())["live"]["stop_reason"] == "device error"
