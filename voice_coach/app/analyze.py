"""Running a recording through the engine: a file is a source of chunks that runs as fast as it can."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from voice_coach import SAMPLE_RATE
from voice_coach.analysis.baseline import Baseline
from voice_coach.asr.model import load_model, model_label
from voice_coach.asr.transcribe import AsyncTranscriber, ChunkedTranscriber
from voice_coach.config import Config
from voice_coach.engine.core import ChannelMap, Engine
from voice_coach.output.result import build_result
from voice_coach.sources.decode import is_dual_mono, iter_audio, parse_channel, probe

ProgressFn = Callable[[float, float | None], None]
"""Called with (seconds analysed so far, total seconds or None)."""


def file_transcriber_factory(model_name: str | None, config: Config):
    """A factory giving each voice a one-pass transcriber running in its own thread."""
    model = load_model(model_name, cpu_threads=int(os.environ.get("VOICE_COACH_CPU_THREADS", "0") or 0))

    def make(_speaker):
        return AsyncTranscriber(ChunkedTranscriber(model, config.transcription))

    return make


def analyze_file(
    path: str | Path,
    *,
    config: Config = Config(),
    agent_channel: str | int = 0,
    profile: Baseline | None = None,
    model: str | None = None,
    transcribe: bool = True,
    progress: ProgressFn | None = None,
    on_event: Callable[[object], None] | None = None,
    chunk_s: float = 1.0,
    phrasebook: str | Path | None = None,
) -> dict:
    """Analyze one recording and return its JSON result (see docs/CONTRACT.md).

    Raises ``AudioError`` for unreadable input and ``ModelError`` when the model cannot be loaded.
    """
    path = Path(path)
    info = probe(path)
    agent = parse_channel(agent_channel, channels=info.channels)
    # A mono call stored as two identical channels has no customer channel.
    n_voices = 1 if info.channels > 1 and is_dual_mono(path) else info.channels
    channels = ChannelMap.for_input(n_voices, agent)
    factory = file_transcriber_factory(model, config) if transcribe else None
    from voice_coach.analysis.phrases import load_phrasebook

    engine = Engine(
        config=config, channels=channels, profile=profile, transcriber=factory, phrasebook=load_phrasebook(phrasebook)
    )
    try:
        for chunk in iter_audio(path, chunk_s=chunk_s):
            events = engine.feed(chunk)
            if on_event:
                for e in events:
                    on_event(e)
            if progress:
                progress(engine.samples / SAMPLE_RATE, info.duration_s)
        events = engine.finish()
    finally:
        if not engine.finished:
            _abandon(engine)
    if on_event:
        for e in events:
            on_event(e)
    label = model_label(model) if transcribe else "none"
    return build_result(engine, source=str(path), model=label)


def _abandon(engine: Engine) -> None:
    """Stop the transcriber threads of an engine that failed half-way."""
    for t in engine.transcribers.values():
        close = getattr(t, "close", None)
        if close is not None:
            close()
