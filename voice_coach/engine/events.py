"""Typed events that the streaming engine emits.

The engine never prints. The live view, the events file (JSONL) and the final JSON result are all
consumers of these events. Times are seconds of stream audio (``t``), counted from the first sample.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, TypeAlias

Speaker = Literal["agent", "customer"]


@dataclass(frozen=True)
class Word:
    """One recognised word. ``start_s``/``end_s`` are seconds of stream audio."""

    start_s: float
    end_s: float
    text: str
    probability: float = 1.0

    def to_dict(self) -> dict:
        return {
            "start": round(self.start_s, 3),
            "end": round(self.end_s, 3),
            "text": self.text,
            "probability": round(float(self.probability), 4),
        }


@dataclass(frozen=True)
class Started:
    t: float
    sample_rate_hz: int
    speakers: tuple[str, ...]
    type: str = field(default="started", init=False)


@dataclass(frozen=True)
class Metrics:
    """Rolling prosody of one speaker at stream time ``t`` (None = unknown, e.g. silence)."""

    t: float
    speaker: Speaker
    wpm: float | None
    syllables_per_s: float | None
    pitch_hz: float | None
    pitch_st: float | None  # semitones above the calm baseline
    loudness_db: float | None  # dBFS
    loudness_rel_db: float | None  # dB above the calm baseline
    agitation: float | None  # 0 calm .. 1 clearly agitated
    speaking: bool = False
    type: str = field(default="metrics", init=False)


@dataclass(frozen=True)
class WordsCommitted:
    t: float
    speaker: Speaker
    words: tuple[Word, ...]
    type: str = field(default="words", init=False)


@dataclass(frozen=True)
class WarningStarted:
    t: float
    speaker: Speaker
    kind: str
    message: str
    start_s: float  # when the behaviour began (backdated); ``t`` is when the cue was raised
    type: str = field(default="warning", init=False)

    @property
    def raised_at(self) -> float:
        """The stream time at which the cue was raised: the moment a live agent sees it."""
        return self.t


@dataclass(frozen=True)
class WarningEnded:
    t: float
    speaker: Speaker
    kind: str
    start_s: float
    end_s: float
    type: str = field(default="warning_end", init=False)


@dataclass(frozen=True)
class BaselineReady:
    t: float
    speaker: Speaker
    source: str  # "profile" or "self-calibrated"
    baseline: dict
    type: str = field(default="baseline", init=False)


@dataclass(frozen=True)
class AsrStatus:
    """The transcriber fell behind real time and skipped audio, or caught up again."""

    t: float
    speaker: Speaker
    status: Literal["behind", "skipped", "caught_up"]
    behind_s: float
    skipped_s: float = 0.0
    type: str = field(default="asr", init=False)


@dataclass(frozen=True)
class ConversationNotice:
    """Two voices: an interruption, dead air or monologue is under way (``end_s`` None) or over."""

    t: float
    kind: str  # interruption, dead_air, monologue
    speaker: Speaker
    start_s: float
    end_s: float | None
    message: str
    type: str = field(default="conversation", init=False)


@dataclass(frozen=True)
class PhraseSpotted:
    """A de-escalation phrase (or a defensive one) heard in newly committed words."""

    t: float
    speaker: Speaker
    category: str
    polarity: str
    text: str
    start_s: float
    end_s: float
    type: str = field(default="phrase", init=False)


@dataclass(frozen=True)
class VoiceFiltered:
    """Live, one microphone with the voice filter on: a stretch of speech judged not the agent's
    (``voices.gate.VoiceGate``) was silenced before analysis. ``similarity``: the highest similarity to
    the voice print among the judgements that silenced it (below the filter's threshold). Emitted by
    the live session when the stretch ends, not by the engine."""

    t: float
    start_s: float
    end_s: float
    similarity: float | None
    type: str = field(default="voice_filtered", init=False)


@dataclass(frozen=True)
class Stopped:
    t: float
    reason: str
    type: str = field(default="stopped", init=False)


Event: TypeAlias = (
    Started
    | Metrics
    | WordsCommitted
    | WarningStarted
    | WarningEnded
    | BaselineReady
    | AsrStatus
    | ConversationNotice
    | PhraseSpotted
    | VoiceFiltered
    | Stopped
)
"""Everything the engine (and, for ``VoiceFiltered``, the live session) emits; ``type`` tells them apart
in JSON."""


def event_to_dict(event: Event) -> dict:
    """A JSON-ready dict of an event: ``type`` and ``t`` first, floats rounded, words as dicts."""
    raw = asdict(event)
    out: dict = {"type": raw.pop("type"), "t": round(raw.pop("t"), 3)}
    for key, value in raw.items():
        if key == "words":
            out["words"] = [Word(**w).to_dict() for w in value]
        elif isinstance(value, float):
            out[key] = round(value, 3)
        else:
            out[key] = value
    return out
