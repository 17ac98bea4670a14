import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def validate_result(result: dict) -> None:
    """Fail with the first few errors when ``result`` does not follow the published JSON Schema."""
    import jsonschema

    try:
        json.dumps(result, allow_nan=False)  # JSON Schema numbers cannot say "no NaN or Infinity"
    except ValueError as exc:
        raise jsonschema.ValidationError(f"result is not valid JSON: {exc}") from None
    errors = sorted(_RESULT_VALIDATOR.iter_errors(result), key=lambda e: list(e.path))
    if errors:
        lines = [f"  at /{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in errors[:5]]
        raise jsonschema.ValidationError("result does not follow result.schema.json:\n" + "\n".join(lines))


def _validate_every_result() -> None:
    """Every result the suite produces is checked against the published schema: ``build_result``
    and ``write_json`` are wrapped before any test module (or the package's own lazy imports) binds
    them; worker processes of ``voice-coach batch`` are forked from here and inherit the wrappers."""
    from voice_coach.output import result as result_module

    build, write = result_module.build_result, result_module.write_json

    def build_result(*args, **kwargs):
        out = build(*args, **kwargs)
        validate_result(out)
        return out

    def write_json(result, path):
        validate_result(result)
        return write(result, path)

    build_result.__wrapped__ = build  # type: ignore[attr-defined]
    write_json.__wrapped__ = write  # type: ignore[attr-defined]
    result_module.build_result, result_module.write_json = build_result, write_json


def _result_validator():
    import jsonschema

    from voice_coach.output.result import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


_RESULT_VALIDATOR = _result_validator()
_validate_every_result()


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def analyzed_sample(tmp_path_factory):
    """``analyzed_sample(name, *options)``: ``voice-coach analyze samples/<name> --json r.json --csv r.csv
    [options]`` through the CLI, run once per session for each (name, options) (a sample call is
    transcribed in 15-20 s, and several test modules check the same analysis). Returns (the folder
    holding r.json and r.csv, the result freshly parsed from r.json): each caller gets its own copy
    of the result; the files are shared, so read them, never change them."""
    from typer.testing import CliRunner

    from voice_coach.cli.main import app

    folders: dict[tuple[str, tuple[str, ...]], Path] = {}

    def analyze(name: str, *options: str) -> tuple[Path, dict]:
        key = (name, options)
        if key not in folders:
            out = tmp_path_factory.mktemp(Path(name).stem)
            args = ["analyze", str(SAMPLES / name), "--json", str(out / "r.json"), "--csv", str(out / "r.csv")]
            res = CliRunner().invoke(app, [*args, *options])
            assert res.exit_code == 0, res.output
            folders[key] = out
        return folders[key], json.loads((folders[key] / "r.json").read_text(encoding="utf-8"))

    return analyze


def sample_speech(start_s: float, end_s: float) -> np.ndarray:
    """Real speech cut from samples/calm_then_rushed.wav (16 kHz mono float32; its sentences and
    their times are in calm_then_rushed.truth.json). For tests that go through transcription without
    checking the words: whisper reads a sentence in one short pass, while a synthetic voice
    (signals.voice) often sends it into a decoding loop of hundreds of tokens, seconds per file."""
    import soundfile as sf

    y, sr = sf.read(str(SAMPLES / "calm_then_rushed.wav"), dtype="float32")
    assert sr == 16000 and y.ndim == 1
    return y[int(start_s * sr) : int(end_s * sr)]


def write_wav(path: Path, audio: np.ndarray, sr: int = 16000, subtype: str = "PCM_16") -> Path:
    import soundfile as sf

    data = audio.T if audio.ndim == 2 else audio
    sf.write(str(path), data, sr, subtype=subtype)
    return path


@pytest.fixture
def wav_writer(tmp_path):
    def make(name: str, audio: np.ndarray, sr: int = 16000, subtype: str = "PCM_16") -> Path:
        return write_wav(tmp_path / name, audio, sr, subtype)

    return make


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install {tool})")


# --- CI: a skip is a failure ------------------------------------------------------------------
# On a developer machine, tests that need PulseAudio, Chromium or espeak-ng skip with the reason
# (pytest -rs lists them). .ci/run installs every tool and sets VOICE_COACH_REQUIRE_ALL_TESTS=1, so
# there a skip means a check silently did not run: it fails the run instead.
REQUIRE_ALL_TESTS = os.environ.get("VOICE_COACH_REQUIRE_ALL_TESTS", "") not in ("", "0")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def _fail_skip(report) -> None:
    if REQUIRE_ALL_TESTS and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but VOICE_COACH_REQUIRE_ALL_TESTS is set: {_skip_reason(report)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_skip(outcome.get_result())
