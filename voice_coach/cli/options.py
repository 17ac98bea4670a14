"""Options that several commands share, declared once (name, help text, defaults shown or not).

Each is an ``Annotated`` type for a command parameter; the default stays in the signature::

    def analyze(config: ConfigOpt = None, model: ModelOpt = None): ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

__all__ = [
    "AgentChannelOpt",
    "AgentVoiceOpt",
    "ConfigOpt",
    "EmbedAudioOpt",
    "ModelOpt",
    "PhrasesOpt",
    "ProfileOpt",
    "SpeakersOpt",
]

# typer reads these annotations at run time, where ``Path | None`` needs Python 3.10; Optional works everywhere.
AgentChannelOpt = Annotated[
    str,
    typer.Option(
        "--agent-channel",
        help="Channel of a stereo recording that is the agent: 0, 1, left or right. The other one is the customer.",
    ),
]
ConfigOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--config", help="TOML file of thresholds and windows (see docs/configuration.md).", show_default=False
    ),
]
ModelOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--model",
        help="faster-whisper model: a name such as small.en (downloaded when first asked for; needs a network) "
        "or a local CTranslate2 folder. Default: the bundled tiny.en.",
        show_default=False,
    ),
]
_ASR_DEVICE_HELP = (
    "Where Whisper runs: auto (a CUDA GPU when CTranslate2 sees one, else the CPU), cpu or cuda. "
    "Default: auto (or the device setting of the --config file)."
)
AsrDeviceOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--device", "--asr-device", help=_ASR_DEVICE_HELP, show_default=False),
]
LiveAsrDeviceOpt = Annotated[  # live's --device is the microphone
    Optional[str],  # noqa: UP045
    typer.Option("--asr-device", help=_ASR_DEVICE_HELP, show_default=False),
]
ComputeTypeOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--compute-type",
        help="CTranslate2 compute type: int8, int8_float32, int8_float16, int16, float16, bfloat16, float32. "
        "Default: int8 on the CPU, float16 on CUDA.",
        show_default=False,
    ),
]
ProfileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--profile",
        help="Calm-baseline profile from 'voice-coach calibrate'. "
        "Without it the baseline is learned from the early part of the call.",
        show_default=False,
    ),
]
PhrasesOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--phrases",
        help="TOML phrasebook that extends the built-in de-escalation phrases (see docs/phrases.md).",
        show_default=False,
    ),
]
EmbedAudioOpt = Annotated[
    bool,
    typer.Option("--embed-audio", help="Embed the audio in the HTML page instead of linking it by relative path."),
]
SpeakersOpt = Annotated[
    str,
    typer.Option(
        "--speakers",
        help="Voices in a mono recording: auto (decide, and say how sure), 2 (split into agent and customer, "
        "analyzed like the two channels of a stereo call) or 1 (the whole recording is the agent, no separation). "
        "A two-channel recording already has its voices apart.",
    ),
]
AgentVoiceOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--agent-voice",
        help="Which voice of a mono recording split in two is the agent: first or second to speak. "
        "Default: the voice nearer to the --profile's voice print, else the first (agents greet).",
        show_default=False,
    ),
]
