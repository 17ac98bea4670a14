"""Which of two separated voices is the agent.

With the agent's voice print (``voice-coach calibrate`` stores one in the profile), the voice whose
centroid is nearer to it by cosine similarity is the agent; when the two similarities are closer than
``uncertain_margin`` the choice is still made, and marked uncertain. Without a voice print a rule the
user can state decides: ``first`` (default: agents greet, so the voice that speaks first is the agent)
or ``second``; who speaks first is judged on the first 1.6 s of speech against
the two voices (``first_speaker``). A rule stated on the command line (``--agent-voice``) wins over the voice print.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voice_coach.config import SeparationConfig
from voice_coach.errors import AudioError, ConfigError
from voice_coach.voices.separate import Separation

AGENT_VOICE_RULES = ("first", "second")
UNCERTAIN_MARGIN = 0.05
"""Cosine-similarity margin between the two voices below which a voice-print choice is uncertain. Same-speaker
GE2E similarities sit around 0.75-0.9 and different speakers' around 0.4-0.7, so a margin under 0.05 means the
voice print hardly prefers either voice (docs/benchmarks/mono_warnings.md)."""
MIN_VOICEPRINT_SPEECH_S = 2.0
"""Speech a voice print needs (the same floor as a calibration profile's voiced speech)."""
UNCERTAIN_RULE_CONFIDENCE = 0.5
"""A rule's choice is uncertain when the stretch it rests on (the first one attributed) is attributed with a
confidence below this, or when speech given to neither voice came before it."""


@dataclass(frozen=True)
class AgentChoice:
    """How the agent's voice was chosen among the separated voices.

    ``voice``: index of the agent's voice in the ``Separation`` (0 or 1). ``method``: ``"voiceprint"``,
    ``"rule:first"`` or ``"rule:second"``. ``similarity``: cosine similarity of each voice's centroid to the
    voice print (per voice index; None without a voice print). ``margin``: the chosen voice's similarity minus
    the other's (None without a voice print). ``uncertain``: the choice is a guess (see the module docstring).
    """

    voice: int
    method: str
    similarity: tuple[float, ...] | None = None
    margin: float | None = None
    uncertain: bool = False

    @property
    def customer(self) -> int:
        return 1 - self.voice


def parse_agent_voice(value: str | None) -> str | None:
    """``--agent-voice``: None (not given) or one of ``AGENT_VOICE_RULES``; anything else is a ``ConfigError``."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text not in AGENT_VOICE_RULES:
        raise ConfigError(f"--agent-voice must be first or second, got {value!r}")
    return text


def first_speaker(sep: Separation) -> tuple[int, bool] | None:
    """The voice that speaks first, and whether that is sure. With ``sep.opening`` (what ``separate``
    measures): the voice whose centroid is nearer the embedding of the first window of speech, sure when
    it is nearer by at least ``UNCERTAIN_MARGIN``. Without it (a separation made otherwise): the voice of
    the first attributed stretch, sure when that stretch was attributed with a confidence of at least
    ``UNCERTAIN_RULE_CONFIDENCE`` and no unattributed speech came before it. None when nothing tells."""
    if sep.opening is not None and len(sep.opening) == 2:
        voice = int(np.argmax(sep.opening))
        return voice, abs(sep.opening[0] - sep.opening[1]) >= UNCERTAIN_MARGIN
    for stretch in sep.stretches:
        if stretch.voice >= 0:
            sure = stretch.confidence >= UNCERTAIN_RULE_CONFIDENCE and stretch is sep.stretches[0]
            return stretch.voice, sure
    return None


def name_agent(
    sep: Separation,
    *,
    voiceprint: np.ndarray | tuple[float, ...] | None = None,
    rule: str | None = None,
    uncertain_margin: float = UNCERTAIN_MARGIN,
) -> AgentChoice:
    """Choose the agent among the two voices of ``sep`` (``sep.speakers`` must be 2).

    ``rule`` (``"first"`` / ``"second"``, given by the user) wins over ``voiceprint``; with neither, the rule
    ``first`` applies. A voice print is a (256,) vector; it need not be normalised.
    """
    if sep.speakers != 2:
        raise ValueError(f"name_agent needs two voices, the separation has {sep.speakers}")
    if rule is None and voiceprint is not None:
        return _by_voiceprint(sep, np.asarray(voiceprint, dtype=np.float64), uncertain_margin)
    rule = parse_agent_voice(rule) or "first"
    opening = first_speaker(sep)
    if opening is None:  # nothing attributed at all: voice 0, and say it is a guess
        return AgentChoice(0 if rule == "first" else 1, f"rule:{rule}", uncertain=True)
    first, sure = opening
    voice = first if rule == "first" else 1 - first
    return AgentChoice(voice, f"rule:{rule}", uncertain=not sure)


def _by_voiceprint(sep: Separation, voiceprint: np.ndarray, uncertain_margin: float) -> AgentChoice:
    centroids = np.asarray(sep.centroids, dtype=np.float64)
    if centroids.shape != (2, voiceprint.shape[-1]):
        raise ValueError(f"centroids of shape {centroids.shape} do not match a voice print of {voiceprint.shape}")
    norms = np.linalg.norm(centroids, axis=1) * np.linalg.norm(voiceprint)
    similarity = centroids @ voiceprint / np.where(norms > 0, norms, 1.0)
    voice = int(np.argmax(similarity))
    margin = float(similarity[voice] - similarity[1 - voice])
    return AgentChoice(
        voice,
        "voiceprint",
        similarity=tuple(float(s) for s in similarity),
        margin=margin,
        uncertain=margin < uncertain_margin,
    )


def make_voiceprint(
    audio: np.ndarray, *, sample_rate: int = 16000, config: SeparationConfig | None = None, what: str = "the recordings"
) -> np.ndarray:
    """The voice print of one speaker's recording (16 kHz float32 mono): the GE2E embedding of its speech
    (``speech.speech_spans``) joined without the pauses; a (256,) float32 unit vector. Raises ``AudioError``
    when ``audio`` holds less than ``MIN_VOICEPRINT_SPEECH_S`` of speech (``what`` names it in the message)."""
    from voice_coach.voices.encoder import load_encoder
    from voice_coach.voices.speech import speech_spans

    x = np.asarray(audio, dtype=np.float32)
    spans = speech_spans(x, config=config)
    pieces = [x[int(a * sample_rate) : int(b * sample_rate)] for a, b in spans]
    speech = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    if len(speech) < MIN_VOICEPRINT_SPEECH_S * sample_rate:
        raise AudioError(
            f"{what}: only {len(speech) / sample_rate:.1f} s of speech, a voice print needs "
            f"{MIN_VOICEPRINT_SPEECH_S:.0f} s (or use --no-voiceprint)"
        )
    return np.asarray(load_encoder().embed_utterance(speech, sample_rate=sample_rate), dtype=np.float32)
