"""What a finished engine hands to its consumers: one typed, read-only snapshot.

``Engine.outputs()`` returns an ``EngineOutputs``: per voice the per-step columns of the timeline,
the committed words, the warnings and the baseline (``VoiceOutput``); for a call the conversation
events and both voices' speech segments (``ConversationOutput``); the phrases the spotter found;
and counts of what the analysis dropped or skipped (``Diagnostics``). The JSON result
(``voice_coach.output.result.build_result``) is built from this alone, never from analyzer state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from voice_coach.engine.events import Speaker, Word

if TYPE_CHECKING:
    from voice_coach.analysis.baseline import Baseline
    from voice_coach.analysis.dynamics import ConversationEvent
    from voice_coach.analysis.phrases import PhraseMatch
    from voice_coach.config import Config


@dataclass(frozen=True)
class WarningRecord:
    """One finished warning. Seconds of stream audio: ``start_s`` is backdated to the first agitated
    speech of the episode, ``raised_at_s`` is when the cue was raised (what a live agent sees)."""

    start_s: float
    end_s: float
    raised_at_s: float
    kind: str
    speaker: Speaker
    message: str

    def to_dict(self) -> dict:
        return {
            "start": round(self.start_s, 2),
            "end": round(self.end_s, 2),
            "raised_at": round(self.raised_at_s, 2),
            "kind": self.kind,
            "speaker": self.speaker,
            "message": self.message,
        }


@dataclass(frozen=True, eq=False)
class VoiceOutput:
    """One voice's analysis. Step columns have one value per ``step_s`` step (NaN = unknown);
    ``voiced`` has one value per ``hop_s`` analysis frame.

    ``agitation`` is the trailing-window score at each step's end (not yet moved to the window's
    centre). ``retrospective_baseline``: the baseline only came at the end of the recording, which
    was too short to calibrate while it played.
    """

    speaker: Speaker
    step_s: float
    hop_s: float
    pitch_hz: np.ndarray  # (steps,) float, Hz, NaN when unvoiced
    loudness_db: np.ndarray  # (steps,) float, dBFS
    speaking: np.ndarray  # (steps,) bool
    syllables: np.ndarray  # (steps,) float, syllable nuclei confirmed in the step (whole numbers)
    phonation_frames: np.ndarray  # (steps,) int, phonation frames completed in the step (SyllablePicker)
    agitation: np.ndarray  # (steps,) float in [0, 1], NaN unknown
    voiced: np.ndarray  # (frames,) bool
    words: tuple[Word, ...]  # in commit order
    warnings: tuple[WarningRecord, ...]
    baseline: Baseline | None
    retrospective_baseline: bool

    def __len__(self) -> int:
        return len(self.loudness_db)


@dataclass(frozen=True)
class ConversationOutput:
    """Two voices: the complete conversation events and each voice's speech segments (seconds)."""

    events: tuple[ConversationEvent, ...]
    agent_segments: tuple[tuple[float, float], ...]
    customer_segments: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Diagnostics:
    """What the analysis dropped or skipped, so that a result says how complete it is.

    ``dropped_loop_words``: words the transcriber removed as a decoding loop. ``dropped_leak_words``:
    agent-channel words dropped as the customer's voice leaking in. ``asr_skipped_s``: audio the live
    transcriber skipped to keep up with real time. ``padded_s``: silence padded in for a stalled
    second device (``DualSource``); 0 for files.
    """

    dropped_loop_words: int = 0
    dropped_leak_words: int = 0
    asr_skipped_s: float = 0.0
    padded_s: float = 0.0

    def to_dict(self) -> dict:
        return {
            "dropped_loop_words": int(self.dropped_loop_words),
            "dropped_leak_words": int(self.dropped_leak_words),
            "asr_skipped_s": round(float(self.asr_skipped_s), 3),
            "padded_s": round(float(self.padded_s), 3),
        }


@dataclass(frozen=True, eq=False)
class EngineOutputs:
    """Everything a finished engine produced, for the result and other consumers."""

    duration_s: float
    config: Config
    phrasebook_sources: tuple[str, ...]
    voices: Mapping[Speaker, VoiceOutput]  # "agent", and "customer" for two voices
    phrases: tuple[PhraseMatch, ...]  # the agent's, as the engine's PhraseSpotter emitted them
    conversation: ConversationOutput | None  # None for one voice
    diagnostics: Diagnostics
