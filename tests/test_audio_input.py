import re
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


# --- truncated and damaged files: an error, never a silently shorter call ---------------------------


def _cut(path, fraction, dst=None):
    data = path.read_bytes()
    dst = dst or path.with_name(f"cut_{path.name}")
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def _wav_data_size(path, value):
    """``path`` with the data chunk size of its (44-byte, soundfile-written) header set to ``value``."""
    import struct

    data = bytearray(path.read_bytes())
    assert data[36:40] == b"data"
    data[40:44] = struct.pack("<I", value)
    path.write_bytes(bytes(data))
    return path


def test_truncated_wav_is_an_error_before_any_decoding(tmp_path):
    full = write_wav(tmp_path / "call.wav", np.stack([tone(200, 4.0), tone(300, 4.0)]))
    cut = _cut(full, 0.25)
    for read in (probe, load_audio):
        with pytest.raises(AudioError) as info:
            read(cut)
        assert str(info.value) == f"{cut}: truncated: the header declares 4.0 s of audio, the file holds 1.0 s"
    tiny = _cut(full, 5000 / full.stat().st_size, tmp_path / "tiny.wav")  # `head -c 5000`: 0.08 s
    with pytest.raises(AudioError, match="declares 4.0 s of audio, the file holds 0.1 s"):
        load_audio(tiny)


def test_wav_of_unknown_or_longer_length_is_not_truncated(tmp_path):
    """Streaming writers put 0, 0xFFFFFFFF or (SoX to a pipe) 0x7FFFF000 in the data size ("unknown"):
    read to the end. A data chunk longer than declared (a recorder killed between header updates) is
    not a truncation."""
    y = tone(200, 2.0)
    for size in (0, 0xFFFFFFFF, 0x7FFFF000, 0x7FFFFFFF):
        path = _wav_data_size(write_wav(tmp_path / f"live_{size}.wav", y), size)
        assert load_audio(path).shape[1] == 2 * SR
    longer = _wav_data_size(write_wav(tmp_path / "longer.wav", y), SR * 2)  # declares 1 s of the 2 s
    assert load_audio(longer).shape[1] == SR
    slightly = _cut(write_wav(tmp_path / "slightly.wav", y), 1 - 0.05 / 2.0)  # 0.05 s short: within tolerance
    assert load_audio(slightly).shape[1] == pytest.approx(1.95 * SR, abs=2)


def test_truncated_flac_is_an_error(tmp_path):
    """FLAC declares its length (STREAMINFO): decoding fewer samples is a truncation."""
    path = write_wav(tmp_path / "call.flac", tone(200, 4.0) + 0.01 * np.random.default_rng(0).standard_normal(4 * SR))
    cut = _cut(path, 0.5)
    with pytest.raises(
        AudioError, match=r"cut_call.flac: truncated or damaged: the header declares 4.0 s of audio, the file holds"
    ):
        load_audio(cut)
    assert load_audio(path).shape[1] == 4 * SR


def test_truncated_file_analysis_fails_with_no_result(tmp_path):
    from voice_coach.app.analyze import analyze_file

    path = write_wav(tmp_path / "call.flac", tone(200, 4.0) + 0.01 * np.random.default_rng(0).standard_normal(4 * SR))
    with pytest.raises(AudioError, match="truncated"):
        analyze_file(_cut(path, 0.5), transcribe=False)


def _encoded_tone(tmp_path, name, *args):
    """6 s: 1 s of silence, then a tone in noise (a variable bit rate runs low, then high)."""
    y = tone(300, 6.0) + 0.05 * np.random.default_rng(1).standard_normal(6 * SR).astype(np.float32)
    y[:SR] = 0.0
    src = write_wav(tmp_path / "src.wav", y)
    return _encode(src, tmp_path / name, *args)


def test_truncated_mp3_with_a_length_header_is_an_error(tmp_path):
    path = _encoded_tone(tmp_path, "call.mp3", "-c:a", "libmp3lame", "-q:a", "5")  # VBR with a Xing header
    assert load_audio(path).shape[1] == pytest.approx(6 * SR, abs=0.06 * SR)
    with pytest.raises(
        AudioError, match=r"truncated or damaged: the header declares 6.0 s of audio, the file holds 1\.\d s"
    ):
        load_audio(_cut(path, 0.25))


def test_mp3_without_a_length_header_is_not_judged_by_an_estimate(tmp_path):
    """Without a Xing header FFmpeg estimates the length from the size and the first frame's bit rate,
    far off for a variable bit rate: that estimate must not make a complete file 'truncated'."""
    path = _encoded_tone(tmp_path, "vbr.mp3", "-c:a", "libmp3lame", "-q:a", "5", "-write_xing", "0")
    assert load_audio(path).shape[1] == pytest.approx(6 * SR, abs=0.1 * SR)  # no gapless info: padding stays


def _damage(path, places, size, seed=1):
    """``places`` runs of ``size`` random bytes from a third of the file on, 5000 bytes apart."""
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    for k in range(places):
        start = len(data) // 3 + k * 5000
        data[start : start + size] = bytes(rng.integers(0, 256, size, dtype=np.uint8))
    path.write_bytes(bytes(data))
    return path


def test_a_few_damaged_frames_become_silence_and_a_warning(tmp_path, caplog):
    """Frames that will not decode are stepped over as media players do, with their length of
    silence, so that the rest keeps its time; a warning line says how much and where."""
    import logging

    path = _damage(_encoded_tone(tmp_path, "call.m4a", "-c:a", "aac", "-movflags", "+faststart"), 3, 300)
    with caplog.at_level(logging.WARNING, logger="voice_coach"):
        audio = load_audio(path)
    assert audio.shape[1] == pytest.approx(6 * SR, abs=0.05 * SR)  # the whole length, not cut short
    (line,) = [r.getMessage() for r in caplog.records if "damaged audio" in r.getMessage()]
    assert re.search(r"call.m4a: 0\.\d\d s of damaged audio in \d place\(s\), the first at \d\.\d s", line)


def test_a_damaged_middle_is_an_error(tmp_path):
    """More audio that will not decode than a glitch (over 1 s here) is a broken file, not a call."""
    path = _damage(_encoded_tone(tmp_path, "call.m4a", "-c:a", "aac", "-movflags", "+faststart"), 8, 4000)
    with pytest.raises(AudioError, match=r"call.m4a: damaged: \d\.\d s of its audio will not decode, from \d\.\d s on"):
        load_audio(path)
