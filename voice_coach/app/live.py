"""Live coaching: a real-time source through the same engine, and the consumers of its events.

``run_live`` is the live entry point, of the same shape as ``analyze_file``: it opens the source (a
microphone, two devices, or a replayed recording), runs a ``LiveSession`` and writes the JSON result.
``LiveSession.run`` reads captured chunks, records them, feeds the engine, and hands every event to
the consumers (the rich view, the JSONL events file). It stops on Ctrl-C, after ``duration_s``, at the
end of a replayed file, when the device fails, or on any other error (the ASR worker's included), and
always finishes the engine so that the result of what was heard can be written.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.analysis.baseline import Baseline
from voice_coach.config import Config
from voice_coach.engine.core import ChannelMap, Engine, TranscriberFactory
from voice_coach.engine.events import VoiceFiltered, event_to_dict
from voice_coach.errors import DeviceError, VoiceCoachError
from voice_coach.sources.chunk import Chunk, LiveSource
from voice_coach.sources.dual import DualSource
from voice_coach.sources.replay import ReplaySource
from voice_coach.voices.gate import LEVEL_OFFSET_DB, VoiceGate

# Chunk, LiveSource, ReplaySource and DualSource live in voice_coach.sources; they are re-exported
# here because the live session is where they are used together.
__all__ = [
    "Chunk",
    "Clock",
    "DualSource",
    "EventsWriter",
    "LiveRun",
    "LiveSession",
    "LiveSource",
    "ReplaySource",
    "SessionEnd",
    "run_live",
]

log = logging.getLogger("voice_coach")


class EventsWriter:
    """The ``--events`` JSONL file: one object per line, flushed as written, with ``lag_s``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._fh = open(self.path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 (open for the session; closed by close())
        except OSError as exc:
            raise DeviceError(f"--events {self.path}: cannot write ({exc.strerror})") from None

    def handle(self, event, lag_s: float) -> None:
        data = event_to_dict(event)
        data["lag_s"] = round(lag_s, 3)
        self._fh.write(json.dumps(data, allow_nan=False) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


class Clock:
    """Maps stream time to the wall-clock (monotonic) moment that audio was captured."""

    def __init__(self):
        self.stream_end_s = 0.0
        self.capture_end = time.monotonic()

    def update(self, stream_end_s: float, capture_monotonic: float) -> None:
        self.stream_end_s, self.capture_end = stream_end_s, capture_monotonic

    def lag_s(self, t: float, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        captured = self.capture_end - (self.stream_end_s - t)
        return max(0.0, now - captured)


@dataclass
class SessionEnd:
    """Why a session stopped; ``error`` is the one-line message of a failure (None on a clean stop)."""

    reason: str
    error: str | None
    overflows: int


class _GuardedTranscriber:
    """Contains a transcriber's failure so that the engine can still finish.

    The first exception from ``insert_audio``, ``process`` or ``finish`` (an ``AsyncTranscriber``
    re-raises its worker thread's there) is kept in ``error`` and the transcriber is closed; from then
    on it takes no audio and gives no words. Everything else is forwarded to the wrapped transcriber.
    """

    def __init__(self, inner):
        self.inner = inner
        self.error: BaseException | None = None

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def _guard(self, call, *args):
        if self.error is not None:
            return []
        try:
            return call(*args)
        except Exception as exc:
            self.error = exc
            log.debug("transcriber failed; continuing without it", exc_info=True)
            close = getattr(self.inner, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.debug("closing the failed transcriber failed too", exc_info=True)
            return []

    def insert_audio(self, audio: np.ndarray) -> None:
        self._guard(self.inner.insert_audio, audio)

    def process(self) -> list:
        return self._guard(self.inner.process)

    def finish(self) -> list:
        return self._guard(self.inner.finish)

    def close(self) -> None:
        if self.error is None:
            close = getattr(self.inner, "close", None)
            if close is not None:
                close()


def _message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class LiveSession:
    """A live source through the engine, to the recorder and the consumers, until something stops it.

    Whatever stops it (the end of the source, ``duration_s``, Ctrl-C, a device error, a failed
    transcriber or any other exception), ``run`` finishes the engine and returns a ``SessionEnd``;
    the error, if any, is in it rather than raised, so the result of what was heard can be written.
    The engine's transcribers are wrapped so that an ASR failure cannot stop the engine finishing.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        source,
        consumers: Iterable,
        recorder=None,
        duration_s: float | None = None,
        channels_in: int = 1,
        on_tick: Callable[[], None] | None = None,
        gate: VoiceGate | None = None,
    ):
        self.engine = engine
        self.gate = gate
        self.silenced: list[VoiceFiltered] = []
        """Every stretch of speech the gate silenced (also emitted as ``voice_filtered`` events)."""
        self.stream_s = 0.0  # seconds of audio read from the source (the engine lags by what the gate holds)
        self.source = source
        self.consumers = list(consumers)
        self.recorder = recorder
        self.duration_s = duration_s
        self.channels_in = channels_in
        self.clock = Clock()
        self.on_tick = on_tick
        self._stop = False
        for speaker, transcriber in list(engine.transcribers.items()):
            engine.transcribers[speaker] = _GuardedTranscriber(transcriber)

    def stop(self) -> None:
        self._stop = True

    def _emit(self, events) -> None:
        now = time.monotonic()
        for e in events:
            lag = self.clock.lag_s(e.t, now)
            for c in self.consumers:
                c.handle(e, lag)

    def _emit_silenced(self, *, final: bool = False) -> None:
        """The gate's finished stretches of silenced speech, as ``voice_filtered`` events stamped with the
        stream time the gate has released up to."""
        assert self.gate is not None
        now = self.stream_s - self.gate.held_s
        events = [VoiceFiltered(now, a, b, sim) for a, b, sim in self.gate.take_silenced(final=final)]
        self.silenced.extend(events)
        self._emit(events)

    def _asr_failure(self) -> str | None:
        for speaker, t in self.engine.transcribers.items():
            error = getattr(t, "error", None)
            if error is not None:
                return f"transcription failed ({speaker}): {_message(error)}"
        return None

    def _step(self) -> str | None:
        """One read-record-feed step; returns a stop reason, or None to go on."""
        if self.duration_s is not None and self.stream_s >= self.duration_s - 1e-9:
            return f"duration {self.duration_s:g} s reached"
        chunk = self.source.read(timeout=0.1)
        if chunk is None:
            if getattr(self.source, "finished", False):
                return "end of replayed file"
            self._emit(self.engine.feed(np.zeros((self.engine_channels(), 0), np.float32)))
        else:
            audio = np.asarray(chunk.audio, dtype=np.float32)
            if self.duration_s is not None:
                room = int(round((self.duration_s - self.stream_s) * SAMPLE_RATE))
                audio = audio[: max(0, room)]
            if self.recorder is not None:
                self.recorder.write(audio)
            self.stream_s += audio.shape[0] / SAMPLE_RATE
            self.clock.update(self.stream_s, chunk.capture_monotonic)
            if self.gate is not None:  # one channel: what the gate has decided on, other voices silenced
                self._emit(self.engine.feed(self.gate.feed(audio[:, 0])[None, :]))
                self._emit_silenced()
            else:
                self._emit(self.engine.feed(audio.T))
        if self.on_tick:
            self.on_tick()
        return None

    def run(self) -> SessionEnd:
        reason, error = "stopped", None
        try:
            self._emit(self.engine.start())
            while not self._stop:
                stop = self._step()
                failure = self._asr_failure()
                if failure is not None:
                    reason, error = "transcription error", failure
                    break
                if stop is not None:
                    reason = stop
                    break
        except KeyboardInterrupt:
            reason = "interrupted (Ctrl-C)"
        except DeviceError as exc:
            reason, error = "device error", str(exc)
        except Exception as exc:
            log.debug("live session failed", exc_info=True)
            reason, error = "error", self._asr_failure() or _message(exc)
        # What a DualSource padded in for a stalled device goes into the result's diagnostics.
        self.engine.padded_s = float(getattr(self.source, "padded_s", 0.0))
        try:
            if self.gate is not None:
                self._emit(self.engine.feed(self.gate.flush()[None, :]))
                self._emit_silenced(final=True)
            self._emit(self.engine.finish(reason))
        except Exception as exc:
            log.debug("finishing the live session failed", exc_info=True)
            error = error or _message(exc)
        return SessionEnd(reason, error, int(getattr(self.source, "overflow_count", 0)))

    def engine_channels(self) -> int:
        return self.channels_in


@dataclass
class LiveRun:
    """What ``run_live`` did: the JSON result it wrote to ``json_path`` and why the session ended."""

    result: dict
    end: SessionEnd
    json_path: Path


def live_transcriber_factory(model_name: str | None, config: Config) -> TranscriberFactory:
    """A factory giving each voice a streaming (LocalAgreement-2) transcriber in its own thread, that
    skips ahead when it falls ``transcription.live_max_backlog_s`` behind real time."""
    from voice_coach.asr.model import load_model
    from voice_coach.asr.streaming import OnlineTranscriber
    from voice_coach.asr.transcribe import AsyncTranscriber

    t = config.transcription
    asr_model = load_model(model_name, device=t.device, compute_type=t.compute_type or None)

    def make(_speaker):
        inner = OnlineTranscriber(
            asr_model, language=config.transcription.language, beam_size=config.transcription.live_beam_size
        )
        return AsyncTranscriber(inner, max_backlog_s=config.transcription.live_max_backlog_s)

    return make


class _Callback:
    def __init__(self, on_event: Callable[[object], None]):
        self.on_event = on_event

    def handle(self, event, lag_s: float) -> None:
        self.on_event(event)

    def close(self) -> None:
        pass


def _check_outputs(**targets: Path | None) -> None:
    for flag, target in targets.items():
        if target is not None and not target.parent.exists():
            raise VoiceCoachError(f"--{flag} {target}: folder {target.parent} does not exist")


def _open_source(*, replay, replay_speed, device, channels, customer_device, agent):
    if replay is not None:
        return ReplaySource(replay, speed=replay_speed)
    from voice_coach.sources.microphone import MicrophoneSource, resolve_device

    mic = MicrophoneSource(resolve_device(device), channels=channels)
    if customer_device is None:
        return mic
    return DualSource(mic, MicrophoneSource(resolve_device(customer_device), channels=1), agent_channel=agent)


def _close_all(consumers: list, recorder) -> None:
    for c in consumers:
        try:
            c.close()
        except Exception:
            log.debug("closing a live consumer failed", exc_info=True)
    consumers.clear()
    if recorder is not None:
        try:
            recorder.close()
        except Exception:
            log.debug("closing the recording failed", exc_info=True)


def _abandon(engine: Engine) -> None:
    """Stop the transcriber threads of an engine that never ran."""
    for t in engine.transcribers.values():
        close = getattr(t, "close", None)
        if close is not None:
            close()


def run_live(
    *,
    device: str | int | None = None,
    channels: int = 1,
    agent_channel: str | int = 0,
    customer_channel: str | int | None = None,
    customer_device: str | int | None = None,
    replay: str | Path | None = None,
    replay_speed: float = 1.0,
    config: Config = Config(),
    profile: Baseline | None = None,
    model: str | None = None,
    transcribe: bool = True,
    transcriber: TranscriberFactory | None = None,
    phrasebook: str | Path | None = None,
    record: str | Path | None = None,
    events: str | Path | None = None,
    json_path: str | Path | None = None,
    duration_s: float | None = None,
    on_event: Callable[[object], None] | None = None,
    view: Callable[[object], object] | None = None,
    voice_filter: bool = True,
) -> LiveRun:
    """Coach live: a microphone (or two devices, or a replayed recording) through the engine until
    Ctrl-C, ``duration_s`` or the end of the replay; then write the JSON result to ``json_path``.

    ``device`` and ``customer_device`` are an index or part of a device name; ``customer_device``
    (a loopback or monitor) and ``customer_channel`` (a channel of ``device``) are two ways to hear
    the customer. ``record`` is a crash-safe WAV of what was captured, ``events`` a JSONL file of
    every event. ``transcriber`` replaces the streaming ASR (a factory as for ``Engine``); with
    ``transcribe=False`` there is none. ``view(source)`` makes a consumer that sees the source (the
    rich live view); ``on_event`` is called with every event. ``voice_filter``: with one input channel
    and a profile holding a voice print, silence speech that is clearly not the agent's before it is
    analyzed (``voices.gate.VoiceGate``; the result's ``live.voice_filter`` says what it did).

    The result is written whatever stops the session, a failure included: then ``end.error`` says
    what went wrong. Raises ``VoiceCoachError`` only for problems found before any audio was heard
    (bad options, a missing model or device).
    """
    to_path = lambda p: Path(p) if p is not None else None
    record, events, replay = to_path(record), to_path(events), to_path(replay)
    _check_outputs(record=record, events=events, json=to_path(json_path))
    from voice_coach.analysis.phrases import load_phrasebook
    from voice_coach.sources.decode import parse_channel, probe

    if replay is not None:
        channels = probe(replay).channels
    agent = parse_channel(agent_channel, channels=channels)
    customer = (
        parse_channel(customer_channel, channels=channels, what="--customer-channel")
        if customer_channel is not None
        else None
    )
    if customer is not None and customer == agent:
        raise VoiceCoachError("--customer-channel must differ from --agent-channel")
    if customer_device is not None and customer_channel is not None:
        raise VoiceCoachError("give either --customer-device or --customer-channel, not both")
    book = load_phrasebook(phrasebook)
    result_path = to_path(json_path) or (
        record.with_suffix(".json") if record else Path(time.strftime("voice-coach-live-%Y%m%d-%H%M%S.json"))
    )
    if transcriber is None and transcribe:
        transcriber = live_transcriber_factory(model, config)
    two_devices = customer_device is not None
    # DualSource delivers (agent, customer)
    channel_map = ChannelMap(0, 1) if two_devices else ChannelMap(agent, customer)
    n_in = 2 if two_devices else channels
    gate, filter_note = _voice_gate(profile, channels=n_in, wanted=voice_filter)
    engine = Engine(
        config=config,
        channels=channel_map,
        profile=profile,
        transcriber=transcriber if transcribe else None,
        phrasebook=book,
    )
    consumers: list = []
    recorder = None
    end: SessionEnd | None = None
    try:
        source_cm = _open_source(
            replay=replay,
            replay_speed=replay_speed,
            device=device,
            channels=channels,
            customer_device=customer_device,
            agent=agent,
        )
        with source_cm as source:
            if events is not None:
                consumers.append(EventsWriter(events))
            if record is not None:
                from voice_coach.sources.recorder import WavRecorder

                recorder = WavRecorder(record, samplerate=SAMPLE_RATE, channels=n_in)
            if view is not None:
                consumers.append(view(source))
            if on_event is not None:
                consumers.append(_Callback(on_event))
            session = LiveSession(
                engine=engine,
                source=source,
                consumers=consumers,
                recorder=recorder,
                duration_s=duration_s,
                channels_in=n_in,
                gate=gate,
            )
            end = session.run()
    except Exception:
        if end is None:  # nothing was heard: no result to write
            _close_all(consumers, recorder)
            _abandon(engine)
            raise
        log.debug("closing the live source failed", exc_info=True)
    finally:
        _close_all(consumers, recorder)
    assert end is not None
    return LiveRun(
        _write_result(
            engine,
            end,
            result_path,
            record=record,
            replay=replay,
            device=device,
            model=model,
            voice_filter=voice_filter_summary(gate, filter_note, session.silenced),
        ),
        end,
        result_path,
    )


def _voice_gate(profile: Baseline | None, *, channels: int, wanted: bool) -> tuple[VoiceGate | None, str]:
    """The voice filter of a live session, or None, and why (for the result)."""
    if not wanted:
        return None, "off: --no-voice-filter"
    if channels != 1:
        return None, "off: more than one input channel (the customer has their own)"
    if profile is None:
        return None, "off: no --profile"
    if profile.voiceprint is None or profile.loudness_median_db is None:
        return None, "off: the profile has no voice print"
    gate = VoiceGate(
        profile.voiceprint,
        level_db=profile.loudness_median_db + LEVEL_OFFSET_DB,
        loud_db=profile.loudness_median_db,
    )
    return gate, "on: the profile's voice print"


def voice_filter_summary(gate: VoiceGate | None, note: str, silenced: Iterable[VoiceFiltered] = ()) -> dict:
    """The result's ``live.voice_filter``: whether the filter ran, why, and what it did (with the
    stretches of speech it silenced)."""
    out: dict = {"on": gate is not None, "why": note}
    if gate is not None:
        out["threshold"] = gate.threshold
        out.update(gate.stats.to_dict())
        out["silenced"] = [
            {
                "start": round(e.start_s, 3),
                "end": round(e.end_s, 3),
                "similarity": None if e.similarity is None else round(e.similarity, 4),
            }
            for e in silenced
        ]
    return out


def _write_result(
    engine: Engine, end: SessionEnd, path: Path, *, record, replay, device, model, voice_filter: dict | None = None
) -> dict:
    from voice_coach.asr.model import model_label
    from voice_coach.output.result import build_result, write_json

    if not engine.finished:
        raise VoiceCoachError(f"{end.error or end.reason}; the session could not be finished, no result written")
    result = build_result(
        engine,
        source=str(record) if record else ("replay:" + str(replay) if replay else f"live:{device or 'default'}"),
        model=model_label(model) if engine.transcribers else "none",
    )
    result["live"] = {"overflows": end.overflows, "stop_reason": end.reason, "record": str(record) if record else None}
    if voice_filter is not None:
        result["live"]["voice_filter"] = voice_filter
    write_json(result, path)
    return result
