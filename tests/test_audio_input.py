import subprocess

import numpy as np
import pytest
from conftest import need, write_wav
from signals import SR, tone

from voice_coach.errors import AudioError
from voice_coach.sources.decode import is_dual_mono, iter_audio, load_audio, parse_channel, probe


def _encode(src, dst, *args):
    need("ffmpeg")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), *args, str(dst)], check=True)
    return dst


@pytest.mark.parametrize(
    "suffix, args",
    [
        (".flac", []),
        (".mp3", []),
        (".ogg", ["-c:a", "libvorbis"]),
        (".m4a", ["-c:a", "aac"]),
        ("_ulaw.wav", ["-ar", "8000", "-c:a", "pcm_mulaw"]),
    ],
)
def test_formats_decode_to_16k_float32(tmp_path, suffix, args):
    src = write_wav(tmp_path / "src.wav", tone(440, 2.0, level_db=-12), sr=44100)
    # A 44.1 kHz source: check the resampling as well as the codec.
    import soundfile as sf

    y44 = np.sin(2 * np.pi * 440 * np.arange(88200) / 44100).astype(np.float32) * 0.35
    sf.write(str(src), y44, 44100)
    dst = _encode(src, tmp_path / f"out{suffix}", *args)
    audio = load_audio(dst)
    assert audio.dtype == np.float32 and audio.shape[0] == 1
    assert audio.shape[1] == pytest.approx(2 * SR, abs=0.06 * SR)  # codec padding
    spectrum = np.abs(np.fft.rfft(audio[0][:SR]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)  # 1 Hz bins


def test_stereo_channels_are_kept_and_selected(tmp_path):
    left, right = tone(200, 1.0), tone(300, 1.0)
    path = write_wav(tmp_path / "st.wav", np.stack([left, right]))
    audio = load_audio(path)
    assert audio.shape[0] == 2
    assert probe(path).channels == 2
    assert (
        parse_channel("left", channels=2) == 0
        and parse_channel("right", channels=2) == 1
        and parse_channel("1", channels=2) == 1
    )
    with pytest.raises(AudioError, match="has 1 channel"):
        parse_channel(1, channels=1)
    with pytest.raises(AudioError, match="must be 0, 1, left or right"):
        parse_channel("middle")
    assert not is_dual_mono(path)
    same = write_wav(tmp_path / "dual.wav", np.stack([left, left]))
    assert is_dual_mono(same)


def test_chunks_have_the_requested_size(tmp_path):
    path = write_wav(tmp_path / "a.wav", tone(200, 2.55))
    chunks = list(iter_audio(path, chunk_s=1.0))
    assert [c.shape[1] for c in chunks] == [SR, SR, int(0.55 * SR)]


def _header_only(tmp_path):
    full = write_wav(tmp_path / "full.wav", tone(200, 1.0))
    data = full.read_bytes()
    return data[:30]


BAD = {
    "missing": (None, "no such file"),
    "directory": ("dir", "is a directory"),
    "zero-byte": (b"", "empty file"),
    "text named .wav": (b"hello, this is not audio\n" * 20, "not a readable audio file"),
    "random bytes": (
        bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
        "not a readable audio file",
    ),
    "truncated header": ("truncated", "not a readable audio file"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_inputs_raise_one_clear_error(tmp_path, case):
    content, fragment = BAD[case]
    path = tmp_path / "input.wav"
    if content == "dir":
        path.mkdir()
    elif content == "truncated":
        path.write_bytes(_header_only(tmp_path))
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError) as info:
        load_audio(path)
    message = str(info.value)
    assert str(path) in message and fragment in message and "\n" not in message


def test_header_with_no_samples_is_an_error(tmp_path):
    path = write_wav(tmp_path / "empty.wav", np.zeros(0, np.float32))
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(path)


def test_nan_audio_is_a_clean_error(tmp_path):
    y = tone(200, 1.0)
    y[1000:2000] = np.nan
    path = write_wav(tmp_path / "nan.wav", y, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        load_audio(path)
