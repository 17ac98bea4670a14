"""voice-coach: an offline voice de-escalation analyzer.

Listens to the agent's side of a call and checks that they talk slowly and calmly, in a low tone,
relative to their own calm baseline. The two entry points are ``analyze_file`` (a recording) and
``run_live`` (a microphone, two devices or a replayed recording), both returning the JSON result.
They are imported on first use (module ``__getattr__``), and heavy dependencies (faster-whisper, PyAV)
only by the modules that need them, so ``import voice_coach`` and ``voice-coach --help`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

SAMPLE_RATE = 16000
"""The one sample rate used inside the package (Hz). Everything is resampled to it at the edge."""

__all__ = ["SAMPLE_RATE", "__version__", "analyze_file", "run_live"]

_LAZY = {"analyze_file": "voice_coach.app.analyze", "run_live": "voice_coach.app.live"}

if TYPE_CHECKING:
    from voice_coach.app.analyze import analyze_file
    from voice_coach.app.live import run_live


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'voice_coach' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
