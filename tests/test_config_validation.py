"""Settings are checked when they are built: one line naming the table, key, value and allowed range."""

from __future__ import annotations

import dataclasses
import math

import pytest
from typer.testing import CliRunner

from voice_coach.cli.main import app
from voice_coach.config import Config
from voice_coach.errors import ConfigError

# (table, settings, the message after the file's path)
BAD = [
    ("prosody", {"fmin_hz": 0}, "[prosody] fmin_hz = 0: must be > 0 Hz"),
    ("prosody", {"fmin_hz": -50.0}, "[prosody] fmin_hz = -50: must be > 0 Hz"),
    ("prosody", {"fmin_hz": 600.0}, "[prosody] fmin_hz = 600: must be below fmax_hz = 500 Hz"),
    ("prosody", {"fmax_hz": 50.0}, "[prosody] fmax_hz = 50: must be above fmin_hz = 65 Hz"),
    ("prosody", {"fmax_hz": 8000.0}, "[prosody] fmax_hz = 8000: must be < 8000 Hz, the Nyquist frequency"),
    ("prosody", {"hop_ms": 0}, "[prosody] hop_ms = 0: must be > 0 ms"),
    ("prosody", {"hop_ms": 30.0}, "[prosody] hop_ms = 30: must be at most window_ms = 25 ms"),
    ("prosody", {"window_ms": 5.0}, "[prosody] window_ms = 5: must be at least hop_ms = 10 ms"),
    ("prosody", {"fmin_hz": math.nan}, "[prosody] fmin_hz = nan: must be a finite number"),
    ("prosody", {"yin_threshold": 1.5}, "[prosody] yin_threshold = 1.5: must be in [0, 1]"),
    ("prosody", {"silence_floor_db": 3.0}, "[prosody] silence_floor_db = 3: must be <= 0 dBFS"),
    ("prosody", {"octave_cost": -0.1}, "[prosody] octave_cost = -0.1: must be >= 0"),
    ("rate", {"window_s": 0}, "[rate] window_s = 0: must be > 0 s"),
    ("rate", {"pause_min_s": -1}, "[rate] pause_min_s = -1: must be >= 0 s"),
    ("baseline", {"quantile": 2.0}, "[baseline] quantile = 2: must be in [0, 1]"),
    ("baseline", {"quantile": -0.1}, "[baseline] quantile = -0.1: must be in [0, 1]"),
    ("baseline", {"block_s": 0}, "[baseline] block_s = 0: must be > 0 s"),
    ("baseline", {"calibration_speech_s": 2.0}, "[baseline] calibration_speech_s = 2: must be at least min_speech_s"),
    (
        "agitation",
        {"loudness_full_db": 3.0},
        "[agitation] loudness_full_db = 3: must be above loudness_start_db = 4 dB",
    ),
    ("agitation", {"pitch_start_st": 6.0}, "[agitation] pitch_start_st = 6: must be below pitch_full_st = 6 semitones"),
    ("agitation", {"rate_full_ratio": 1.0}, "[agitation] rate_full_ratio = 1: must be above rate_start_ratio = 1.15"),
    ("agitation", {"rate_norm_full_sps": 5.0}, "[agitation] rate_norm_full_sps = 5: must be above rate_norm_start_sps"),
    ("agitation", {"min_voiced_s": 2.0}, "[agitation] min_voiced_s = 2: must be at most window_s = 1 s"),
    ("agitation", {"max_weight": 1.5}, "[agitation] max_weight = 1.5: must be in [0, 1]"),
    ("agitation", {"speaking_lookback_s": 0}, "[agitation] speaking_lookback_s = 0: must be > 0 s"),
    ("warnings", {"off_loud": 0.6}, "[warnings] off_loud = 0.6: must be below on_loud = 0.5 (hysteresis"),
    ("warnings", {"on_agitated": 0.3}, "[warnings] on_agitated = 0.3: must be above off_agitated = 0.35"),
    ("warnings", {"on_fast": 1.5}, "[warnings] on_fast = 1.5: must be in (0, 1]"),
    ("warnings", {"off_mirroring": -0.1}, "[warnings] off_mirroring = -0.1: must be in [0, 1]"),
    ("warnings", {"sustain_s": 3.0}, "[warnings] sustain_s = 3: must be at most evidence_window_s = 2 s"),
    ("warnings", {"sustain_s": 0}, "[warnings] sustain_s = 0: must be > 0 s"),
    ("warnings", {"cooldown_s": -1}, "[warnings] cooldown_s = -1: must be >= 0 s"),
    ("warnings", {"agitated_min_cues": 4}, "[warnings] agitated_min_cues = 4: must be 1, 2 or 3"),
    ("warnings", {"agitated_cue_level": 2.0}, "[warnings] agitated_cue_level = 2: must be in [0, 1]"),
    ("deescalation", {"tighten_factor": 0}, "[deescalation] tighten_factor = 0: must be in (0, 1]"),
    ("deescalation", {"upset_hold_s": -5}, "[deescalation] upset_hold_s = -5: must be >= 0 s"),
    ("dynamics", {"dead_air_min_s": -1}, "[dynamics] dead_air_min_s = -1: must be >= 0 s"),
    ("dynamics", {"hop_s": 0}, "[dynamics] hop_s = 0: must be > 0 s"),
    ("transcription", {"beam_size": 0}, "[transcription] beam_size = 0: must be >= 1"),
    ("transcription", {"file_chunk_s": 0}, "[transcription] file_chunk_s = 0: must be >= 1 s"),
    ("transcription", {"min_word_probability": 1.5}, "[transcription] min_word_probability = 1.5: must be in [0, 1]"),
    ("transcription", {"live_max_backlog_s": 0}, "[transcription] live_max_backlog_s = 0: must be > 0 s"),
    ("transcription", {"language": " "}, "[transcription] language = ' ': must be a language code"),
]


def _toml(table: str, settings: dict) -> str:
    def value(v):
        if isinstance(v, str):
            return repr(v).replace("'", '"')
        return "nan" if isinstance(v, float) and math.isnan(v) else repr(v)

    return f"[{table}]\n" + "".join(f"{k} = {value(v)}\n" for k, v in settings.items())


@pytest.mark.parametrize("table, settings, message", BAD, ids=[m.split(":")[0] for _, _, m in BAD])
def test_a_bad_value_is_one_line_naming_file_table_key_value_and_range(tmp_path, table, settings, message):
    path = tmp_path / "config.toml"
    path.write_text(_toml(table, settings))
    with pytest.raises(ConfigError) as info:
        Config.from_toml(path)
    text = str(info.value)
    assert text.startswith(f"{path} {message}"), text
    assert "\n" not in text


@pytest.mark.parametrize("table, settings, message", BAD, ids=[m.split(":")[0] for _, _, m in BAD])
def test_the_dataclass_checks_itself_when_built_in_code(table, settings, message):
    section = getattr(Config(), table)
    values = {k: float(v) if isinstance(getattr(section, k), float) else v for k, v in settings.items()}
    with pytest.raises(ConfigError) as info:
        dataclasses.replace(section, **values)
    assert str(info.value).startswith(message)


def test_the_defaults_and_good_edges_pass():
    cfg = Config()
    assert cfg.to_dict() == Config.from_dict(cfg.to_dict()).to_dict()
    Config.from_dict(
        {
            "baseline": {"quantile": 0.0},
            "warnings": {"sustain_s": 2.0, "off_loud": 0.0, "on_loud": 1.0, "agitated_min_cues": 1},
            "prosody": {"hop_ms": 25.0, "fmax_hz": 7999.0},
        }
    )


def test_the_settings_that_used_to_live_outside_config_keep_their_values():
    cfg = Config()
    assert cfg.warnings.agitated_min_cues == 2 and cfg.warnings.agitated_cue_level == 0.35
    assert cfg.agitation.speaking_lookback_s == 0.3
    assert cfg.transcription.live_max_backlog_s == 6.0


def test_cli_turns_a_bad_config_into_one_line_and_a_non_zero_exit(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text("[prosody]\nfmin_hz = 0\n")
    wav = tmp_path / "never_read.wav"
    wav.write_bytes(b"")
    res = CliRunner().invoke(app, ["analyze", str(wav), "--config", str(cfg)])
    assert res.exit_code != 0
    assert "Traceback" not in res.output and not isinstance(res.exception, ZeroDivisionError)
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert lines == [f"voice-coach: error: {cfg} [prosody] fmin_hz = 0: must be > 0 Hz"], res.output
