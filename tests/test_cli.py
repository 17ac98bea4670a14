import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import SAMPLES, sample_speech, write_wav
from signals import voice
from typer.testing import CliRunner

from voice_coach.cli.main import app
from voice_coach.config import Config

runner = CliRunner()
SAMPLE = SAMPLES / "calm_then_rushed.wav"


@pytest.fixture
def sample_outputs(analyzed_sample):
    """The sample analyzed by `voice-coach analyze SAMPLE --json r.json --csv r.csv` (once per session)."""
    return analyzed_sample(SAMPLE.name)


def test_help_is_fast_and_explains():
    proc = subprocess.run([sys.executable, "-m", "voice_coach.cli.main", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "analyze" in proc.stdout and "calibrate" in proc.stdout
    # Not a timing test: it guards against importing faster-whisper/librosa at start-up.
    heavy = "('faster_whisper', 'librosa', 'ctranslate2', 'av')"
    code = f"import sys, voice_coach.cli.main; print(any(m in sys.modules for m in {heavy}))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_sample_result_follows_the_contract(sample_outputs):
    _, r = sample_outputs
    assert r["schema_version"] == 1 and r["source"].endswith("calm_then_rushed.wav")
    assert r["model"] == "bundled:tiny.en" and r["duration_s"] == pytest.approx(67.35, abs=0.1)
    assert r["config"]["warnings"]["sustain_s"] == Config().warnings.sustain_s  # the configuration is echoed
    agent = r["agent"]
    assert set(agent) >= {"words", "timeline", "summary", "baseline"}
    assert set(agent["summary"]) >= {
        "talk_time_s",
        "speaking_rate_wpm",
        "articulation_rate_sps",
        "pitch_median_hz",
        "pitch_spread_st",
        "loudness_median_db",
        "agitation_mean",
        "calm_score",
    }
    assert r["customer"] is None
    words = agent["words"]
    text = " ".join(w["text"] for w in words).lower()
    assert "thank you for calling" in text
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and all(w["end"] >= w["start"] for w in words)


def test_sample_warnings_are_in_the_rushed_part_only(sample_outputs):
    _, r = sample_outputs
    truth = json.loads((SAMPLES / "calm_then_rushed.truth.json").read_text())
    warnings = r["warnings"]
    rushed = truth["rushed"]  # where the synthesised speech turns rushed, loud and high
    # One rushed episode, one warning: raised within 2.5 s of the rushed part's start (the cue a
    # live agent would see), and held to its end, since the speech never calms down again.
    assert len(warnings) == 1, warnings
    w = warnings[0]
    assert rushed["start"] - 1.0 <= w["start"] <= w["raised_at"] <= rushed["start"] + 2.5, w
    assert w["end"] >= rushed["end"] - 1.0, w


def test_csv_has_a_row_per_step(sample_outputs):
    out, r = sample_outputs
    rows = list(csv.DictReader((out / "r.csv").open()))
    assert len(rows) == len(r["agent"]["timeline"])
    assert float(rows[1]["t"]) - float(rows[0]["t"]) == pytest.approx(0.1)
    flagged = [row for row in rows if row["warning"]]
    assert flagged and all(float(row["t"]) > 37 for row in flagged)


def test_terminal_summary_shows_warnings_with_words(tmp_path):
    # Without an output file, analyze prints the summary. 14 s of the sample's calm part (a
    # baseline), then 8 s of its rushed part, which raise a warning: a third of the sample to
    # transcribe, and the same summary checks.
    import soundfile as sf

    y, sr = sf.read(str(SAMPLE), dtype="float32")
    clip = write_wav(tmp_path / "clip.wav", np.concatenate([y[: 14 * sr], y[int(38.4 * sr) : int(46.5 * sr)]]), sr)
    res = runner.invoke(app, ["analyze", str(clip)], env={"COLUMNS": "160"})
    assert res.exit_code == 0
    assert "Calm score" in res.output and "Warnings" in res.output
    assert "refund" in res.output  # the words spoken during the warning


def _bad_files(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "zero.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("not audio\n" * 10)
    (tmp_path / "random.wav").write_bytes(bytes(range(256)) * 8)
    full = write_wav(tmp_path / "full.wav", voice(3)).read_bytes()
    (tmp_path / "truncated.wav").write_bytes(full[: len(full) // 3])  # `head -c`: the header declares 3 s
    return {
        "missing": tmp_path / "missing.wav",
        "dir": tmp_path / "dir",
        "zero": tmp_path / "zero.wav",
        "text": tmp_path / "text.wav",
        "random": tmp_path / "random.wav",
        "truncated": tmp_path / "truncated.wav",
    }


@pytest.mark.parametrize("case", ["missing", "dir", "zero", "text", "random", "truncated"])
def test_bad_input_is_one_line_non_zero_and_leaves_no_output(tmp_path, case):
    path = _bad_files(tmp_path)[case]
    out = tmp_path / "out.json"
    res = runner.invoke(app, ["analyze", str(path), "--json", str(out)])
    assert res.exit_code != 0
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and str(path.name) in lines[0] and "error" in lines[0]
    assert "Traceback" not in res.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.json")]


def test_several_files_one_bad_does_not_stop_the_rest(tmp_path):
    good = write_wav(tmp_path / "good.wav", sample_speech(0.3, 5.3))
    bad = tmp_path / "bad.wav"
    bad.write_text("nope")
    out = tmp_path / "results"
    res = runner.invoke(app, ["analyze", str(bad), str(good), "--json", str(out), "--csv", str(out)])
    assert res.exit_code == 1
    assert (out / "good.json").exists() and (out / "good.csv").exists()
    assert not (out / "bad.json").exists()
    assert "bad.wav" in res.output and "1 of 2 recordings failed" in res.output


def test_silence_succeeds_with_no_words_and_no_warnings(tmp_path):
    path = write_wav(tmp_path / "silence.wav", np.zeros(16000 * 5, np.float32))
    out = tmp_path / "s.json"
    res = runner.invoke(app, ["analyze", str(path), "--json", str(out)])
    assert res.exit_code == 0, res.output
    r = json.loads(out.read_text())
    assert r["agent"]["words"] == [] and r["warnings"] == []


def test_noise_invents_no_words(tmp_path):
    noise = np.random.default_rng(3).normal(0, 0.05, 16000 * 8).astype(np.float32)
    path = write_wav(tmp_path / "noise.wav", noise)
    out = tmp_path / "n.json"
    assert runner.invoke(app, ["analyze", str(path), "--json", str(out)]).exit_code == 0
    r = json.loads(out.read_text())
    assert r["agent"]["words"] == [] and r["warnings"] == []


def test_calibrate_then_analyze_with_profile(tmp_path):
    calm = write_wav(tmp_path / "calm.wav", voice(20, f0_hz=115, level_db=-32))
    prof = tmp_path / "agent.json"
    res = runner.invoke(app, ["calibrate", str(calm), "--out", str(prof)])
    assert res.exit_code == 0, res.output
    p = json.loads(prof.read_text())
    assert p["pitch_median_hz"] == pytest.approx(115, rel=0.03)
    loud = write_wav(tmp_path / "loud.wav", voice(8, f0_hz=115, level_db=-20))
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["analyze", str(loud), "--profile", str(prof), "--json", str(out)])
    assert res.exit_code == 0, res.output
    r = json.loads(out.read_text())
    assert r["agent"]["baseline"]["source"] == "profile"
    assert [w["kind"] for w in r["warnings"]] == ["loud"]


def test_calibrate_from_four_short_sentences_counts_speech_across_files(tmp_path):
    # Four "sentences" of 1.3 s of voice each (about 0.8 s voiced): no file holds a whole
    # calibration block of speech, together they are enough. Each file ends in a partial block.
    files = []
    for i in range(4):
        y = np.concatenate(
            [np.zeros(4000, np.float32), voice(1.3, f0_hz=118, level_db=-31, seed=i), np.zeros(4000, np.float32)]
        )
        files.append(str(write_wav(tmp_path / f"s{i}.wav", y)))
    prof = tmp_path / "agent.json"
    res = runner.invoke(app, ["calibrate", *files, "--out", str(prof)])
    assert res.exit_code == 0, res.output
    p = json.loads(prof.read_text())
    assert p["pitch_median_hz"] == pytest.approx(118, rel=0.03)
    assert 2.0 <= p["speech_s"] <= 4.0
    # One of them alone is not enough, and the message says how much voiced speech it heard.
    res = runner.invoke(app, ["calibrate", files[0], "--out", str(tmp_path / "one.json")])
    assert res.exit_code != 0 and "s of voiced speech" in res.output
    assert not (tmp_path / "one.json").exists()


def test_a_short_recording_still_gets_a_score(tmp_path):
    # 1.5 s of speech ("Thank you for"), far from the 5 s of voiced speech a baseline needs
    path = write_wav(tmp_path / "short.wav", np.concatenate([sample_speech(0.3, 1.8), np.zeros(8000, np.float32)]))
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["analyze", str(path), "--json", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads(out.read_text())["agent"]["summary"]
    assert summary["agitation_mean"] is not None and summary["calm_score"] is not None


def test_calibrate_needs_speech(tmp_path):
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(16000, np.float32))
    res = runner.invoke(app, ["calibrate", str(quiet), "--out", str(tmp_path / "p.json")])
    assert res.exit_code != 0 and "voiced speech" in res.output
    assert not (tmp_path / "p.json").exists()


def test_bad_config_and_model_are_one_line_errors(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[warnings]\nbogus = 1\n")
    path = write_wav(tmp_path / "v.wav", voice(3))
    res = runner.invoke(app, ["analyze", str(path), "--config", str(cfg)])
    assert res.exit_code != 0 and "bogus" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["analyze", str(path), "--model", str(tmp_path / "no_such_model_dir")])
    assert res.exit_code != 0 and "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if ln.strip()]) == 1


def test_report_command_from_a_saved_result(sample_outputs, tmp_path):
    out, r = sample_outputs
    html = tmp_path / "report.html"
    res = runner.invoke(app, ["report", str(out / "r.json"), "--html", str(html), "--audio", str(SAMPLE)])
    assert res.exit_code == 0, res.output
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "http://" not in page.split("<script")[0]
    assert "calm_then_rushed.wav" in page


@pytest.mark.parametrize(
    "content, fragment", [(None, "no such file"), ("{", "invalid JSON"), ('{"a": 1}', "not a voice-coach result")]
)
def test_report_command_bad_input(tmp_path, content, fragment):
    src = tmp_path / "r.json"
    if content is not None:
        src.write_text(content)
    res = runner.invoke(app, ["report", str(src), "--html", str(tmp_path / "o.html")])
    assert res.exit_code != 0 and fragment in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o.html").exists()


def _help_texts(command):
    """(name, help) of a click command's options and arguments, as the user should read them."""
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            yield param.name, text.replace("\\[", "[")  # an escaped bracket is shown as a bracket


@pytest.mark.parametrize("name", ["analyze", "calibrate", "live", "report", "devices"])
def test_help_shows_every_option_text_whole(name):
    """Rich markup must not eat a bracketed word of a help text (``pip install 'voice-coach[ray]'``)."""
    import typer

    command = typer.main.get_command(app).commands[name]
    res = runner.invoke(app, [name, "--help"], env={"COLUMNS": "120", "TERMINAL_WIDTH": "120"})
    assert res.exit_code == 0
    shown = " ".join(res.output.replace("│", " ").split())
    for option, text in _help_texts(command):
        assert " ".join(text.split()) in shown, f"--help of {name} garbles the help of {option}: {text!r}"
    if name == "analyze":
        assert "pip install 'voice-coach[ray]'" in shown


def test_stderr_that_is_not_a_terminal_gets_no_progress_bar_residue(tmp_path):
    """Into a file or a pipe, stderr holds the real messages only (no blank line the bar leaves)."""
    cli = [sys.executable, "-m", "voice_coach.cli.main", "analyze"]
    missing = tmp_path / "nonexist.wav"
    proc = subprocess.run([*cli, str(missing)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stderr == f"voice-coach: error: {missing}: no such file\n"
    silence = write_wav(tmp_path / "silence.wav", np.zeros(16000 * 2, np.float32))
    proc = subprocess.run(
        [*cli, str(silence), "-q", "--summary", str(tmp_path / "s.csv")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s.csv").exists()
    assert proc.stderr == "" and proc.stdout == ""


def _one_error_line(res):
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert res.exit_code == 2 and len(lines) == 1 and "Traceback" not in res.output, res.output
    return lines[0]


def test_bad_asr_flags_are_named_by_the_flag(tmp_path, monkeypatch):
    """A bad --device, --asr-device or --compute-type value names the flag, not the [transcription]
    setting it overrides; a value from a --config file keeps the setting's name."""
    from voice_coach.asr import model

    monkeypatch.setattr(model, "cuda_device_count", lambda: 0)
    path = write_wav(tmp_path / "v.wav", voice(1))
    cases = [
        (["analyze", str(path), "--compute-type", "bogus"], "--compute-type 'bogus': must be one of int8, "),
        (["analyze", str(path), "--device", "gpu"], "--device 'gpu': must be one of auto, cpu, cuda"),
        (["analyze", str(path), "--device", "cuda"], "--device cuda: CTranslate2 sees no CUDA GPU"),
        (["live", "--replay", str(path), "--asr-device", "gpu"], "--asr-device 'gpu': must be one of auto, cpu, cuda"),
        (["live", "--replay", str(path), "--asr-device", "cuda"], "--asr-device cuda: CTranslate2 sees no CUDA GPU"),
        (["live", "--replay", str(path), "--compute-type", "bogus"], "--compute-type 'bogus': must be one of"),
    ]
    for args, message in cases:
        line = _one_error_line(runner.invoke(app, args))
        assert message in line and "[transcription]" not in line, (args, line)
    for setting, message in [
        ('device = "gpu"', "[transcription] device = 'gpu': must be one of auto, cpu, cuda"),
        ('device = "cuda"', "[transcription] device = cuda: CTranslate2 sees no CUDA GPU"),
        ('compute_type = "bogus"', "[transcription] compute_type = 'bogus': must be"),
    ]:
        cfg = tmp_path / "c.toml"
        cfg.write_text(f"[transcription]\n{setting}\n")
        line = _one_error_line(runner.invoke(app, ["analyze", str(path), "--config", str(cfg)]))
        assert message in line and "--device" not in line and "--compute-type" not in line, (setting, line)
