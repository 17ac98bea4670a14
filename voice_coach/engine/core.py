"""The streaming engine: one code path for recordings and for the microphone.

    source chunks (channels, n) ──► Engine.feed ──► per voice: SpeakerAnalyzer (prosody, cues)
                                         │                     └► Transcriber (words, own thread)
                                         └──► typed events ──► consumers (live view, JSONL, result)

A recording is a source that runs as fast as it can; the microphone one that runs in real time.
The engine does not know which: fed the same audio it emits the same prosody events and warnings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.analysis.baseline import Baseline
from voice_coach.analysis.dynamics import ConversationEvent, ConversationEventStarted, DynamicsTracker
from voice_coach.analysis.phrases import Phrasebook, PhraseMatch, PhraseSpotter, default_phrasebook
from voice_coach.analysis.speaker import SpeakerAnalyzer
from voice_coach.asr.transcribe import Transcriber
from voice_coach.config import Config
from voice_coach.engine.events import (
    AsrStatus,
    ConversationNotice,
    Event,
    PhraseSpotted,
    Speaker,
    Started,
    Stopped,
    Word,
    WordsCommitted,
)
from voice_coach.engine.outputs import ConversationOutput, Diagnostics, EngineOutputs
from voice_coach.signal.crosstalk import leak_mask, without_leak
from voice_coach.signal.prosody import Frames

log = logging.getLogger("voice_coach")

CONVERSATION_MESSAGES = {
    ("interruption", "agent"): "Let the customer finish",
    ("interruption", "customer"): "Customer talked over you: pause and listen",
    ("dead_air", "agent"): "Long silence: tell the customer what you are doing",
    ("monologue", "agent"): "You have talked a long time: check in with the customer",
}

TranscriberFactory = Callable[[Speaker], Transcriber | None]


@dataclass(frozen=True)
class ChannelMap:
    """Which input channel is which voice. ``customer`` None: only the agent is analyzed."""

    agent: int = 0
    customer: int | None = None

    @classmethod
    def for_input(cls, channels: int, agent_channel: int = 0) -> ChannelMap:
        """Mono: the whole signal is the agent. Stereo: the other channel is the customer."""
        if channels <= 1:
            return cls(0, None)
        return cls(agent_channel, 1 - agent_channel if agent_channel in (0, 1) else None)

    def voices(self) -> dict[Speaker, int]:
        out: dict[Speaker, int] = {"agent": self.agent}
        if self.customer is not None:
            out["customer"] = self.customer
        return out


class Engine:
    """Routes input channels to voices, analyzes and transcribes each, and emits typed events.

    ``start()``, ``feed(chunk)`` and ``finish()`` return the events they complete; ``outputs()``
    returns everything the engine produced (after ``finish``: complete), which the result is built
    from. ``calibrating``: speech known to be calm, for a profile: no warnings, no calm gate on the
    baseline. ``padded_s`` is audio the source
    padded in for a stalled second device; the live app sets it from ``DualSource.padded_s``.
    """

    def __init__(
        self,
        *,
        config: Config = Config(),
        channels: ChannelMap = ChannelMap(),
        profile: Baseline | None = None,
        transcriber: TranscriberFactory | None = None,
        metrics_interval_s: float = 0.25,
        phrasebook: Phrasebook | None = None,
        calibrating: bool = False,
    ) -> None:
        self.config = config
        self.channels = channels
        self.samples = 0
        self.analyzers: dict[Speaker, SpeakerAnalyzer] = {}
        self.transcribers: dict[Speaker, Transcriber] = {}
        self._asr_status_seen: dict[Speaker, int] = {}
        for speaker, _index in channels.voices().items():
            self.analyzers[speaker] = SpeakerAnalyzer(
                speaker,
                config=config,
                profile=profile if speaker == "agent" else None,
                metrics_interval_s=metrics_interval_s,
                warn=not calibrating,
                calm_gate=not calibrating,
            )
            t = transcriber(speaker) if transcriber else None
            if t is not None:
                self.transcribers[speaker] = t
                self._asr_status_seen[speaker] = 0
        if "customer" in self.analyzers:
            self.analyzers["agent"].partner = self.analyzers["customer"]
        self.leak_frames: list[np.ndarray] = []
        self._phrases: list[PhraseMatch] = []
        self._asr_skipped_s: dict[Speaker, float] = {}
        self.padded_s = 0.0
        self.dynamics = DynamicsTracker(config.dynamics) if "customer" in self.analyzers else None
        self.phrasebook = phrasebook if phrasebook is not None else default_phrasebook()
        self.spotter = PhraseSpotter(self.phrasebook, speaker="agent")
        self.dropped_leak_words = 0
        self._started = False
        self.finished = False

    @property
    def t(self) -> float:
        """Seconds of audio fed so far."""
        return self.samples / SAMPLE_RATE

    def start(self) -> list[Event]:
        self._started = True
        return [Started(0.0, SAMPLE_RATE, tuple(self.analyzers))]

    def feed(self, chunk: np.ndarray) -> list[Event]:
        """Feed the next chunk, shape ``(channels, n)`` (or ``(n,)`` for mono), 16 kHz float32."""
        events: list[Event] = [] if self._started else self.start()
        chunk = np.asarray(chunk, dtype=np.float32)
        if chunk.ndim == 1:
            chunk = chunk[None, :]
        self.samples += chunk.shape[1]
        frames: dict[Speaker, Frames] = {}
        for speaker, index in self.channels.voices().items():
            audio = chunk[index]
            transcriber = self.transcribers.get(speaker)
            if transcriber is not None:
                transcriber.insert_audio(audio)
            frames[speaker] = self.analyzers[speaker].frames.feed(audio)
        events.extend(self._analyze(frames, final=False))
        events.extend(self._collect_words(final=False))
        return events

    def _analyze(self, frames: dict[Speaker, Frames], *, final: bool) -> list[Event]:
        """Customer first, so that the agent's step k can look at the customer's step k."""
        events: list[Event] = []
        if "customer" in frames and self.config.deescalation.reject_leak:
            mask = leak_mask(
                frames["agent"], frames["customer"], max_pitch_diff_st=self.config.deescalation.leak_max_pitch_diff_st
            )
            self.leak_frames.append(mask)
            frames["agent"] = without_leak(frames["agent"], mask)
        for speaker in sorted(frames, key=lambda s: s != "customer"):
            a = self.analyzers[speaker]
            events.extend(a.finish(self.t, frames[speaker]) if final else a.consume(frames[speaker]))
        if self.dynamics is not None:
            found = self.dynamics.update(frames["agent"].voiced, frames["customer"].voiced)
            if final:
                found += self.dynamics.finish()
            events.extend(self._conversation_event(f) for f in found)
        return events

    def _conversation_event(self, found: ConversationEvent | ConversationEventStarted) -> ConversationNotice:
        end = getattr(found, "end_s", None)
        return ConversationNotice(
            self.t,
            found.kind,
            cast(Speaker, found.speaker),
            found.start_s,
            end,
            CONVERSATION_MESSAGES.get((found.kind, found.speaker), found.kind.replace("_", " ")),
        )

    def finish(self, reason: str = "end of input") -> list[Event]:
        events: list[Event] = [] if self._started else self.start()
        frames = {speaker: a.frames.finish() for speaker, a in self.analyzers.items()}
        events.extend(self._analyze(frames, final=True))
        events.extend(self._collect_words(final=True))
        events.append(Stopped(self.t, reason))
        self.finished = True
        return events

    def _drop_leaked_words(self, words: list[Word]) -> list[Word]:
        """Agent-channel words heard over frames that were mostly the customer's voice leaking in
        are the customer's words, not the agent's."""
        leak = np.concatenate(self.leak_frames)
        voiced = (
            np.concatenate(self.analyzers["agent"].history.voiced_frames)
            if self.analyzers["agent"].history.voiced_frames
            else np.zeros(0, bool)
        )
        hop = self.analyzers["agent"].hop_s
        kept = []
        for w in words:
            a, b = int(w.start_s / hop), max(int(w.end_s / hop), int(w.start_s / hop) + 1)
            n_leak, n_own = int(leak[a:b].sum()), int(voiced[a:b].sum())
            if n_leak > n_own:
                self.dropped_leak_words += 1
                log.debug(
                    "leaked word dropped: agent channel %r at %.2f-%.2f s was the customer's voice "
                    "(%d of its frames leaked, %d the agent's own)",
                    w.text,
                    w.start_s,
                    w.end_s,
                    n_leak,
                    n_own,
                )
                continue
            kept.append(w)
        return kept

    def _collect_words(self, *, final: bool) -> list[Event]:
        events: list[Event] = []
        for speaker, transcriber in self.transcribers.items():
            words = transcriber.finish() if final else transcriber.process()
            status = getattr(transcriber, "status", None)
            if status is not None:
                seen = self._asr_status_seen[speaker]
                for kind, behind_s, skipped_s in status[seen:]:
                    events.append(AsrStatus(self.t, speaker, kind, behind_s, skipped_s))
                    # ``skipped_s`` is the transcriber's running total.
                    self._asr_skipped_s[speaker] = max(self._asr_skipped_s.get(speaker, 0.0), skipped_s)
                self._asr_status_seen[speaker] = len(status)
            if words and speaker == "agent" and self.leak_frames:
                words = self._drop_leaked_words(words)
            if words:
                self.analyzers[speaker].add_words(words)
                events.append(WordsCommitted(self.t, speaker, tuple(words)))
                if speaker == "agent":
                    for m in self.spotter.add(words):
                        self._phrases.append(m)
                        events.append(
                            PhraseSpotted(self.t, speaker, m.category, m.polarity, m.text, m.start_s, m.end_s)
                        )
        return events

    def outputs(self) -> EngineOutputs:
        """Everything the engine produced so far, as a read-only snapshot (complete after ``finish``)."""
        conversation = None
        if self.dynamics is not None:
            conversation = ConversationOutput(
                events=tuple(self.dynamics.events),
                agent_segments=tuple(self.dynamics.segments("agent")),
                customer_segments=tuple(self.dynamics.segments("customer")),
            )
        return EngineOutputs(
            duration_s=self.t,
            config=self.config,
            phrasebook_sources=tuple(self.phrasebook.sources),
            voices={speaker: a.output() for speaker, a in self.analyzers.items()},
            phrases=tuple(self._phrases),
            conversation=conversation,
            diagnostics=self.diagnostics(),
        )

    def diagnostics(self) -> Diagnostics:
        """Counts of what the analysis dropped or skipped so far."""
        loops = 0
        for transcriber in self.transcribers.values():
            inner = getattr(transcriber, "inner", None)
            count = getattr(transcriber, "dropped_loop_words", None)
            if count is None and inner is not None:
                count = getattr(inner, "dropped_loop_words", 0)
            loops += int(count or 0)
        return Diagnostics(
            dropped_loop_words=loops,
            dropped_leak_words=self.dropped_leak_words,
            asr_skipped_s=sum(self._asr_skipped_s.values()),
            padded_s=self.padded_s,
        )
