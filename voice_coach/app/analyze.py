"""Running a recording through the engine: a file is a source of chunks that runs as fast as it can.

A mono recording (one channel, or two identical ones) of a call holds both voices. Unless told it holds one
(``speakers="1"``), it is decoded whole, split into voices (``voice_coach.voices.separate``) and, when two
voices are found, fed to the engine as a two-channel call: the agent's channel is the mix where the agent's
voice speaks, the customer's channel the mix where the other voice speaks, and speech attributed to neither
(overlap, unsure stretches) is silence on both. The channels are built chunk by chunk from the mix and the
stretches, so an hour of audio is held once (230 MB at 16 kHz float32), never three times.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.analysis.baseline import Baseline
from voice_coach.asr.model import load_model, model_label
from voice_coach.asr.transcribe import AsyncTranscriber, ChunkedTranscriber
from voice_coach.config import Config
from voice_coach.engine.core import ChannelMap, Engine
from voice_coach.errors import AudioError, ConfigError
from voice_coach.output.result import build_result, separation_section
from voice_coach.sources.decode import AudioInfo, is_dual_mono, iter_audio, parse_channel, probe

ProgressFn = Callable[[float, float | None, str], None]
"""Called with (seconds done so far, total seconds or None, stage: ``STAGE_SEPARATING`` or ``STAGE_ANALYZING``)."""
STAGE_SEPARATING = "separating voices"
STAGE_ANALYZING = "analyzing"
SPEAKERS = ("auto", "1", "2")


def parse_speakers(value: str | int) -> str:
    """``--speakers``: ``auto``, ``1`` or ``2``; anything else is a ``ConfigError``."""
    text = str(value).strip().lower()
    if text not in SPEAKERS:
        raise ConfigError(f"--speakers must be auto, 1 or 2, got {value!r}")
    return text


def file_transcriber_factory(model_name: str | None, config: Config):
    """A factory giving each voice a one-pass transcriber running in its own thread."""
    model = load_model(
        model_name,
        cpu_threads=int(os.environ.get("VOICE_COACH_CPU_THREADS", "0") or 0),
        device=config.transcription.device,
        compute_type=config.transcription.compute_type or None,
    )

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
    speakers: str = "auto",
    agent_voice: str | None = None,
) -> dict:
    """Analyze one recording and return its JSON result (see docs/CONTRACT.md).

    ``speakers`` (``auto``, ``1``, ``2``) and ``agent_voice`` (None, ``first``, ``second``: see
    ``voice_coach.voices.naming``) apply to mono recordings; a two-channel call already has its voices apart,
    so ``speakers="1"`` or an ``agent_voice`` with one is a ``ConfigError``. The agent's voice print, when the
    profile has one, names the agent's voice.

    Raises ``AudioError`` for unreadable input, ``ConfigError`` for options that do not fit the input and
    ``ModelError`` when the model cannot be loaded.
    """
    from voice_coach.voices.naming import parse_agent_voice

    path = Path(path)
    speakers = parse_speakers(speakers)
    rule = parse_agent_voice(agent_voice)
    info = probe(path)
    agent = parse_channel(agent_channel, channels=info.channels)
    # A mono call stored as two identical channels is a mono recording.
    mono = info.channels == 1 or is_dual_mono(path)
    if not mono:
        _check_two_channel_options(path, speakers, rule)
    separation = None
    if mono and speakers != "1":
        chunks, channels, separation = _separated(path, info, speakers, rule, profile, config, chunk_s, progress)
    else:
        channels = ChannelMap.for_input(1 if mono else info.channels, agent)
        chunks = iter_audio(path, chunk_s=chunk_s)
    # The model is loaded after the separation pass, whose working memory is then free again: the two peaks
    # do not add up (docs/benchmarks/mono_warnings.md).
    factory = file_transcriber_factory(model, config) if transcribe else None
    from voice_coach.analysis.phrases import load_phrasebook

    engine = Engine(
        config=config, channels=channels, profile=profile, transcriber=factory, phrasebook=load_phrasebook(phrasebook)
    )
    try:
        for chunk in chunks:
            events = engine.feed(chunk)
            if on_event:
                for e in events:
                    on_event(e)
            if progress:
                progress(engine.samples / SAMPLE_RATE, info.duration_s, STAGE_ANALYZING)
        events = engine.finish()
    finally:
        if not engine.finished:
            _abandon(engine)
    if on_event:
        for e in events:
            on_event(e)
    label = model_label(model) if transcribe else "none"
    return build_result(engine, source=str(path), model=label, separation=separation)


def _check_two_channel_options(path: Path, speakers: str, rule: str | None) -> None:
    """A two-channel call has its voices apart already: ``--speakers 1`` and ``--agent-voice`` make no sense."""
    if speakers == "1":
        raise ConfigError(
            f"{path}: --speakers 1 applies to mono recordings; this one has two channels (agent and customer), "
            "choose the agent's with --agent-channel"
        )
    if rule is not None:
        raise ConfigError(
            f"{path}: --agent-voice applies to mono recordings; this one has two channels, "
            "choose the agent's with --agent-channel"
        )


def _separated(
    path: Path,
    info: AudioInfo,
    speakers: str,
    rule: str | None,
    profile: Baseline | None,
    config: Config,
    chunk_s: float,
    progress: ProgressFn | None,
) -> tuple[Iterator[np.ndarray], ChannelMap, dict]:
    """Split a mono recording into voices: the chunks to feed the engine, its channel map and the result's
    ``separation`` section."""
    from voice_coach.voices.naming import name_agent
    from voice_coach.voices.separate import separate

    if progress:
        progress(0.0, info.duration_s, STAGE_SEPARATING)
    audio = read_mono(path, info)
    total = len(audio) / SAMPLE_RATE

    def report(fraction: float) -> None:
        if progress:
            progress(fraction * total, total, STAGE_SEPARATING)

    sep = separate(audio, sample_rate=SAMPLE_RATE, speakers=speakers, config=config.separation, progress=report)
    chunk_n = max(1, int(round(chunk_s * SAMPLE_RATE)))
    if sep.speakers < 2:
        return _mono_chunks(audio, chunk_n), ChannelMap(0, None), separation_section(sep, None)
    choice = name_agent(sep, voiceprint=profile.voiceprint if profile else None, rule=rule)
    chunks = masked_chunks(audio, sep, (choice.voice, choice.customer), chunk_n)
    return chunks, ChannelMap(0, 1), separation_section(sep, choice)


def read_mono(path: Path, info: AudioInfo | None = None) -> np.ndarray:
    """The whole recording as one float32 16 kHz array (the first channel of a dual-mono file).

    Filled into one buffer sized from the container's duration, so decoding never holds two copies."""
    expected = int(((info.duration_s if info else None) or 60.0) * SAMPLE_RATE) + SAMPLE_RATE
    buf = np.empty(expected, np.float32)
    n = 0
    for chunk in iter_audio(path, chunk_s=10.0):
        k = chunk.shape[1]
        if n + k > len(buf):  # the container understated its duration
            buf = np.resize(buf, max(n + k, 2 * len(buf)))
        buf[n : n + k] = chunk[0]
        n += k
    if n == 0:
        raise AudioError(f"{path}: contains no audio samples")
    return buf[:n]


def _mono_chunks(audio: np.ndarray, chunk_n: int) -> Iterator[np.ndarray]:
    for a in range(0, len(audio), chunk_n):
        yield audio[None, a : a + chunk_n]


def stretch_spans(sep, voice: int, *, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Sample spans ``[starts[i], ends[i])`` of the stretches attributed to ``voice``, time-ordered."""
    spans = [(s.start_s, s.end_s) for s in sep.stretches if s.voice == voice]
    times = np.asarray(spans, dtype=np.float64).reshape(-1, 2)
    edges = np.round(times * sample_rate).astype(np.int64)
    return edges[:, 0], edges[:, 1]


def masked_chunks(
    audio: np.ndarray, sep, voices: tuple[int, int], chunk_n: int, *, sample_rate: int = SAMPLE_RATE
) -> Iterator[np.ndarray]:
    """Chunks ``(2, n)`` of a two-channel call built from the mono mix: row ``i`` is the mix where voice
    ``voices[i]`` speaks and silence elsewhere (so speech attributed to neither voice is on neither row).
    Gains are built per chunk from the stretches; row ``i`` equals ``audio * voice_masks(sep, ...)[voices[i]]``.
    """
    spans = [stretch_spans(sep, v, sample_rate=sample_rate) for v in voices]
    for a in range(0, len(audio), chunk_n):
        mix = audio[a : a + chunk_n]
        out = np.zeros((2, len(mix)), np.float32)
        b = a + len(mix)
        for row, (starts, ends) in enumerate(spans):
            first = int(np.searchsorted(ends, a, side="right"))
            last = int(np.searchsorted(starts, b, side="left"))
            for start, end in zip(starts[first:last], ends[first:last], strict=True):
                lo, hi = max(int(start), a) - a, min(int(end), b) - a
                out[row, lo:hi] = mix[lo:hi]
        yield out


def _abandon(engine: Engine) -> None:
    """Stop the transcriber threads of an engine that failed half-way."""
    for t in engine.transcribers.values():
        close = getattr(t, "close", None)
        if close is not None:
            close()
