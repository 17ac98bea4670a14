"""Turn-taking test streams for the warning benchmarks, built from real voices (RAVDESS).

Each RAVDESS clip is one sentence of 1.5 to 2 s. A stream strings them together the way an agent's
turns fall in a call: every sentence trimmed to its speech (0.1 s kept each side), separated by
1 to 2 s of silence (or by the other party's turn, in a two-channel call). The pauses and the order
of the calm clips are drawn from a seeded generator, so a stream is the same on every run.

* ``actor_stream``: one actor's 4 neutral and 8 calm clips, then their 8 angry clips. The *angry
  onset* is the first sample of speech of the first angry clip.
* ``call_stream``: a two-channel call. The agent (left) and the customer (right) take turns, agent
  first. The customer says their 4 neutral and 8 calm sentences, then their 8 angry ones (each
  group shuffled). The agent stays calm
  throughout (``mirroring=False``: their calm sentences, reused), or turns angry from their third
  turn after the customer does (``mirroring=True``).
* ``phone``: any stream as a narrow-band phone call: 8 kHz, 300-3400 Hz, G.711 mu-law, decoded back
  to 16 kHz as the product decodes a file.

RAVDESS (Livingstone & Russo 2018, CC BY-NC-SA 4.0) is read from ``../shared/data/ravdess`` and
never copied into the repository; generated streams go to ``benchmarks/.cache/`` (gitignored).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from common import SR, RavdessClip, frame_db, load_mono, silence, trim_silence

PAUSE_S = (1.0, 2.0)
"""Silence between one speaker's sentences (uniform)."""
TURN_GAP_S = (0.4, 1.2)
"""Silence between the end of one party's sentence and the other's reply (uniform)."""


@dataclass
class Stream:
    """Audio (``(channels, n)`` float32 at 16 kHz) and what is known about it."""

    name: str
    audio: np.ndarray
    angry_onset_s: dict[str, float] = field(default_factory=dict)
    """Per speaker ("agent", "customer"): the first sample of angry speech, if that voice turns angry."""
    speech_spans: dict[str, list[tuple[float, float, str]]] = field(default_factory=dict)
    """Per speaker: (start, end, emotion) of every sentence."""
    strong_onset_s: dict[str, float] = field(default_factory=dict)
    """Per speaker: the first sample of the first *strong-intensity* angry sentence (RAVDESS
    labels each clip normal or strong; some normal-intensity angry clips are cold anger, neither
    louder nor higher than the actor's calm speech)."""

    @property
    def duration_s(self) -> float:
        return self.audio.shape[-1] / SR

    @property
    def channels(self) -> int:
        return self.audio.shape[0]

    def calm_s(self, speaker: str) -> float:
        """Seconds of this stream during which ``speaker`` has not yet turned angry."""
        return min(self.angry_onset_s.get(speaker, self.duration_s), self.duration_s)


def speech_onset_s(y: np.ndarray) -> float:
    """First 20 ms frame within 35 dB of the loudest (the same rule as ``trim_silence``)."""
    level = frame_db(y)
    active = np.flatnonzero(level > max(level.max() - 35.0, -60.0))
    return float(active[0] * 0.02) if len(active) else 0.0


def _sentence(clip: RavdessClip) -> np.ndarray:
    return trim_silence(load_mono(clip.path), keep_s=0.1)


def _by_actor(clips: list[RavdessClip], actor: int) -> dict[str, list[RavdessClip]]:
    mine = sorted((c for c in clips if c.actor == actor), key=lambda c: c.path.name)
    return {e: [c for c in mine if c.emotion == e] for e in ("neutral", "calm", "angry")}


def actor_stream(clips: list[RavdessClip], actor: int, *, seed: int = 0) -> Stream:
    """One actor: calm sentences (neutral and calm, shuffled), then angry ones, with pauses."""
    rng = np.random.default_rng(seed * 1000 + actor)
    groups = _by_actor(clips, actor)
    calm = groups["neutral"] + groups["calm"]
    calm = [calm[i] for i in rng.permutation(len(calm))]
    angry = [groups["angry"][i] for i in rng.permutation(len(groups["angry"]))]
    parts: list[np.ndarray] = [silence(0.5)]
    t = 0.5
    spans, onset, strong = [], None, None
    for clip in calm + angry:
        y = _sentence(clip)
        if clip.emotion == "angry" and onset is None:
            onset = t + speech_onset_s(y)
        if clip.emotion == "angry" and clip.intensity == 2 and strong is None:
            strong = t + speech_onset_s(y)
        parts.append(y)
        spans.append((t, t + len(y) / SR, clip.emotion))
        t += len(y) / SR
        gap = silence(rng.uniform(*PAUSE_S))
        parts.append(gap)
        t += len(gap) / SR
    audio = np.concatenate(parts)[None, :]
    return Stream(f"actor{actor:02d}", audio, {"agent": onset}, {"agent": spans}, {"agent": strong})


def call_stream(clips: list[RavdessClip], agent: int, customer: int, *, mirroring: bool, seed: int = 0) -> Stream:
    """A two-channel call: agent left, customer right, taking turns (agent first)."""
    rng = np.random.default_rng(seed * 1000 + agent * 37 + customer)
    a, c = _by_actor(clips, agent), _by_actor(clips, customer)
    c_calm = [c["neutral"][i] for i in rng.permutation(len(c["neutral"]))] + [
        c["calm"][i] for i in rng.permutation(len(c["calm"]))
    ]
    c_angry = [c["angry"][i] for i in rng.permutation(len(c["angry"]))]
    c_turns = [("calm", x) for x in c_calm] + [("angry", x) for x in c_angry]
    a_calm = a["neutral"] + a["calm"]
    a_calm = [a_calm[i] for i in rng.permutation(len(a_calm))]
    n_turns = len(c_turns) + 1
    a_turns = [("calm", a_calm[i % len(a_calm)]) for i in range(n_turns)]
    if mirroring:
        first_angry = next(i for i, (e, _) in enumerate(c_turns) if e == "angry")
        angry = [a["angry"][i] for i in rng.permutation(len(a["angry"]))]
        # The agent answers turn i after the customer's turn i - 1: angry from the third reply on.
        for j, i in enumerate(range(first_angry + 3, n_turns)):
            a_turns[i] = ("angry", angry[j % len(angry)])
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    t = 0.5
    left.append(silence(0.5))
    right.append(silence(0.5))
    spans: dict[str, list] = {"agent": [], "customer": []}
    onsets: dict[str, float] = {}
    strong: dict[str, float] = {}
    order = []
    for i in range(n_turns):
        order.append(("agent", a_turns[i]))
        if i < len(c_turns):
            order.append(("customer", c_turns[i]))
    for who, (emotion, clip) in order:
        y = _sentence(clip)
        if emotion == "angry" and who not in onsets:
            onsets[who] = t + speech_onset_s(y)
        if emotion == "angry" and clip.intensity == 2 and who not in strong:
            strong[who] = t + speech_onset_s(y)
        z = np.zeros_like(y)
        left.append(y if who == "agent" else z)
        right.append(y if who == "customer" else z)
        spans[who].append((t, t + len(y) / SR, emotion))
        t += len(y) / SR
        gap = silence(rng.uniform(*TURN_GAP_S))
        left.append(gap)
        right.append(gap)
        t += len(gap) / SR
    audio = np.stack([np.concatenate(left), np.concatenate(right)])
    name = f"call{agent:02d}-{customer:02d}{'-mirroring' if mirroring else ''}"
    return Stream(name, audio, onsets, spans, strong)


def phone(stream: Stream) -> Stream:
    """The same stream as a narrow-band phone call (8 kHz, 300-3400 Hz, mu-law), back at 16 kHz."""
    from scipy.signal import butter, resample_poly, sosfilt

    sos = butter(6, [300, 3400], btype="bandpass", fs=8000, output="sos")
    out = []
    for ch in stream.audio:
        y = resample_poly(ch.astype(np.float64), 1, 2)
        y = sosfilt(sos, y)
        y = _mulaw_decode(_mulaw_encode(y))
        out.append(resample_poly(y, 2, 1).astype(np.float32))
    return Stream(
        stream.name + "-phone",
        np.stack(out),
        dict(stream.angry_onset_s),
        dict(stream.speech_spans),
        dict(stream.strong_onset_s),
    )


def _mulaw_encode(y: np.ndarray, mu: float = 255.0) -> np.ndarray:
    y = np.clip(y, -1.0, 1.0)
    q = np.sign(y) * np.log1p(mu * np.abs(y)) / np.log1p(mu)
    return np.round((q + 1) / 2 * mu).astype(np.int32)  # 8 bits


def _mulaw_decode(code: np.ndarray, mu: float = 255.0) -> np.ndarray:
    q = 2 * (code.astype(np.float64) / mu) - 1
    return np.sign(q) * np.expm1(np.abs(q) * np.log1p(mu)) / mu
