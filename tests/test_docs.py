import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_configuration_doc_is_up_to_date():
    spec = importlib.util.spec_from_file_location("gen_config_doc", ROOT / "tools" / "gen_config_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8") == mod.render(), (
        "run: python tools/gen_config_doc.py"
    )


def test_readme_has_the_two_setup_commands_that_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "voice-coach analyze samples/" in readme and "python -m pytest" in readme
    assert "voice-coach analyze samples/calm_then_rushed.wav" in ci and "python -m pytest" in ci
