"""Two voices in one mono recording: who speaks when.

Over speech only, short windows (``window_s``, every ``step_s``) are turned into speaker embeddings,
the embeddings are clustered in two by spectral clustering on their cosine similarity, and the
window labels are smoothed over time. Each stretch of one voice carries a confidence (how much nearer
its embeddings are to its voice than to the other); stretches that are too short or too ambiguous
(overlapping speech, a cough) are not attributed (voice -1). With ``speakers="auto"`` the two
clusters count as two voices only when their centroids differ enough (``two_voice_max_similarity``)
and the smaller one holds enough of the speech (``min_voice_share``): a recording of one person,
calm or angry, stays one voice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voice_coach.config import SeparationConfig
from voice_coach.errors import AudioError, ConfigError

__all__ = ["Separation", "VoiceStretch", "separate", "voice_masks"]

SAMPLE_RATE = 16000
FRAME_S = 0.01
"""Resolution of the voice decision (the 10 ms hop of the rest of the analysis)."""
METHOD = "ge2e+spectral-clustering"
EMBEDDING_DIM = 256
SPEAKERS = ("auto", "1", "2")


@dataclass(frozen=True)
class VoiceStretch:
    """A stretch of speech given to one voice."""

    start_s: float
    end_s: float
    voice: int
    """0 or 1 = a separated voice; -1 = not attributed (overlap, too short, unsure)."""
    confidence: float
    """0..1: how much nearer this stretch's embeddings are to its voice than to the other, as a share
    of the distance between the two voices (1 = as far apart as the voices' centroids)."""


@dataclass(frozen=True)
class Separation:
    method: str
    """How the voices were told apart, e.g. ``"ge2e+spectral-clustering"``; ``"single-voice"`` when not split."""
    speakers: int
    """1 or 2: what was decided."""
    requested: str
    """``"auto"``, ``"1"`` or ``"2"``."""
    decision_confidence: float
    """0..1: how sure the one-or-two decision is (1.0 when requested explicitly)."""
    stretches: tuple[VoiceStretch, ...]
    """Speech only, time-ordered, non-overlapping."""
    centroids: np.ndarray
    """``(speakers, 256)`` float32 unit vectors: the mean embedding of each voice."""
    duration_s: float
    similarity: float = float("nan")
    """Cosine similarity of the two clusters' centroids (what ``auto`` decides on); nan when there
    was too little speech to cluster."""


Progress = Callable[[float], None]


def separate(
    audio: np.ndarray,
    *,
    sample_rate: int = SAMPLE_RATE,
    speakers: str = "auto",
    config: SeparationConfig | None = None,
    progress: Progress | None = None,
) -> Separation:
    """Who speaks when in a mono recording (16 kHz float32).

    ``speakers``: ``"1"`` keeps one voice (every speech stretch is voice 0), ``"2"`` always splits in
    two, ``"auto"`` decides. ``progress``, when given, is called with the fraction done (0..1).
    """
    cfg = config or SeparationConfig()
    speakers = str(speakers)
    if speakers not in SPEAKERS:
        raise ConfigError(f"speakers = {speakers!r}: must be one of {', '.join(SPEAKERS)}")
    if sample_rate != SAMPLE_RATE:
        raise AudioError(f"separation needs {SAMPLE_RATE} Hz audio, got {sample_rate} Hz")
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1:
        raise AudioError(f"separation needs mono audio (one channel), got an array of shape {x.shape}")
    if x.size and not np.isfinite(x).all():
        raise AudioError("audio holds non-finite samples (NaN or infinity)")
    duration = x.size / SAMPLE_RATE
    from voice_coach.voices.speech import speech_spans

    spans = speech_spans(x, config=cfg)
    _report(progress, 0.2)
    if speakers == "1" or not spans:
        return _single(spans, duration, speakers, _mean_embedding(x, spans, cfg), 1.0)
    starts, owners = _window_starts(spans, duration, cfg)
    emb = _embed(x, starts, cfg, progress)
    labels, centroids, sim = _two_clusters(emb)
    if labels is None:  # too few windows to tell voices apart
        conf = 1.0 if speakers == "1" else 0.5
        return _single(spans, duration, speakers, _unit(emb.mean(axis=0, keepdims=True)), conf, sim)
    minor_share = float(min(labels.mean(), 1 - labels.mean()))
    two, decision_conf = _decide(sim, minor_share, cfg)
    if speakers == "auto" and not two:
        return _single(spans, duration, speakers, _unit(emb.mean(axis=0, keepdims=True)), decision_conf, sim)
    stretches = _stretches(emb, starts, spans, centroids, sim, cfg)
    # voice 0 = the voice that speaks first among the attributed stretches
    first = next((s.voice for s in stretches if s.voice >= 0), 0)
    if first == 1:
        centroids = centroids[::-1].copy()
        stretches = [
            VoiceStretch(s.start_s, s.end_s, 1 - s.voice if s.voice >= 0 else -1, s.confidence) for s in stretches
        ]
    _report(progress, 1.0)
    return Separation(
        method=METHOD,
        speakers=2,
        requested=speakers,
        decision_confidence=1.0 if speakers == "2" else decision_conf,
        stretches=tuple(stretches),
        centroids=centroids.astype(np.float32),
        duration_s=duration,
        similarity=sim,
    )


def voice_masks(sep: Separation, n_samples: int, *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """``(2, n_samples)`` float32 gains, 0 or 1: row ``v`` is 1 where voice ``v`` speaks.

    Unattributed speech (voice -1) goes to neither row: it is left out of both voices' analysis
    rather than given to the wrong one. Silence is 0 in both rows. With one voice, row 0 is 1
    everywhere (the whole recording is that voice, as without separation) and row 1 is 0.
    """
    masks = np.zeros((2, max(int(n_samples), 0)), dtype=np.float32)
    if sep.speakers == 1:
        masks[0] = 1.0
        return masks
    for s in sep.stretches:
        if s.voice < 0:
            continue
        a = max(0, int(round(s.start_s * sample_rate)))
        b = min(masks.shape[1], int(round(s.end_s * sample_rate)))
        if b > a:
            masks[s.voice, a:b] = 1.0
    return masks


# ---------------------------------------------------------------------------------------------------


def _report(progress: Progress | None, fraction: float) -> None:
    if progress is not None:
        progress(fraction)


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.maximum(n, 1e-12)).astype(np.float32)


def _single(
    spans: list[tuple[float, float]],
    duration: float,
    requested: str,
    centroid: np.ndarray,
    confidence: float,
    similarity: float = float("nan"),
) -> Separation:
    return Separation(
        method="single-voice",
        speakers=1,
        requested=requested,
        decision_confidence=float(confidence),
        stretches=tuple(VoiceStretch(float(a), float(b), 0, 1.0) for a, b in spans),
        centroids=np.asarray(centroid, dtype=np.float32).reshape(1, EMBEDDING_DIM),
        duration_s=duration,
        similarity=similarity,
    )


def _window_starts(
    spans: list[tuple[float, float]], duration: float, cfg: SeparationConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Window start times over the speech spans, and the index of the span each belongs to.

    A span shorter than a window gets one window centred on it (clipped to the recording)."""
    starts: list[float] = []
    owners: list[int] = []
    w = cfg.window_s
    for i, (a, b) in enumerate(spans):
        if b - a <= w:
            s = min(max(0.0, (a + b - w) / 2), max(0.0, duration - w))
            starts.append(s)
            owners.append(i)
            continue
        n = int(math.floor((b - a - w) / cfg.step_s)) + 1
        grid = a + cfg.step_s * np.arange(n)
        if grid[-1] + w < b - 1e-6:  # the last window ends at the span's end
            grid = np.append(grid, b - w)
        starts.extend(grid.tolist())
        owners.extend([i] * len(grid))
    return np.asarray(starts, dtype=np.float64), np.asarray(owners, dtype=np.int64)


def _embed(x: np.ndarray, starts: np.ndarray, cfg: SeparationConfig, progress: Progress | None) -> np.ndarray:
    from voice_coach.voices.encoder import load_encoder

    enc = load_encoder()
    out = np.empty((len(starts), EMBEDDING_DIM), dtype=np.float32)
    block = cfg.block_windows
    for i in range(0, len(starts), block):
        out[i : i + block] = enc.embed_windows(x, starts[i : i + block], window_s=cfg.window_s)
        _report(progress, 0.2 + 0.7 * min(1.0, (i + block) / max(1, len(starts))))
    return out


def _mean_embedding(x: np.ndarray, spans: list[tuple[float, float]], cfg: SeparationConfig) -> np.ndarray:
    """The centroid of a one-voice recording: the mean of its windows' embeddings (zeros without speech)."""
    if not spans:
        return np.zeros((1, EMBEDDING_DIM), dtype=np.float32)
    starts, _ = _window_starts(spans, x.size / SAMPLE_RATE, cfg)
    return _unit(_embed(x, starts, cfg, None).mean(axis=0, keepdims=True))


MIN_WINDOWS = 4
"""Fewer windows than this are one voice: there is nothing to cluster."""


def _two_clusters(emb: np.ndarray) -> tuple[np.ndarray | None, np.ndarray, float]:
    """Labels (0/1 per window), the two unit centroids and their cosine similarity.

    Spectral clustering: the affinity is the cosine similarity of the windows' embeddings (negative
    values set to 0); the sign of the Fiedler vector of its normalised Laplacian splits the windows;
    a few k-means steps on the embeddings then settle the split."""
    n = len(emb)
    if n < MIN_WINDOWS:
        return None, np.zeros((0, EMBEDDING_DIM), np.float32), float("nan")
    if n > MAX_SPECTRAL:
        # large recordings: cluster an even subsample, then assign every window to the nearer centroid
        idx = np.linspace(0, n - 1, MAX_SPECTRAL).round().astype(np.int64)
        sub = _spectral_labels(emb[idx])
    else:
        idx = np.arange(n)
        sub = _spectral_labels(emb)
    centroids = np.stack([_unit(emb[idx][sub == k].mean(axis=0)) for k in (0, 1)])
    labels = sub
    for _ in range(10):
        labels = np.argmax(emb @ centroids.T, axis=1)
        if labels.min() == labels.max():
            break
        new = np.stack([_unit(emb[labels == k].mean(axis=0)) for k in (0, 1)])
        if np.allclose(new, centroids, atol=1e-6):
            break
        centroids = new
    if labels.min() == labels.max():
        return None, centroids, 1.0
    sim = float(centroids[0] @ centroids[1])
    return labels, centroids, sim


MAX_SPECTRAL = 3000
"""At most this many windows go into the affinity matrix (memory: MAX_SPECTRAL^2 float32)."""


def _spectral_labels(emb: np.ndarray) -> np.ndarray:
    aff = np.clip(emb @ emb.T, 0.0, None).astype(np.float64)
    np.fill_diagonal(aff, 0.0)
    deg = aff.sum(axis=1)
    d = 1.0 / np.sqrt(np.maximum(deg, 1e-12))
    lap = np.eye(len(emb)) - d[:, None] * aff * d[None, :]
    _, vecs = np.linalg.eigh(lap)
    fiedler = vecs[:, 1] * d
    labels = (fiedler > 0).astype(np.int64)
    if labels.min() == labels.max():
        labels = (fiedler > np.median(fiedler)).astype(np.int64)
    return labels


def _decide(sim: float, minor_share: float, cfg: SeparationConfig) -> tuple[bool, float]:
    """Two voices or one, and how sure (0.5 at the threshold, towards 1 away from it)."""
    margin = cfg.two_voice_max_similarity - sim
    two = margin > 0 and minor_share >= cfg.min_voice_share
    conf = 1.0 / (1.0 + math.exp(-abs(margin) / DECISION_SCALE))
    if margin > 0 and not two:  # split by similarity, but one cluster is almost empty
        conf = 1.0 / (1.0 + math.exp(-(cfg.min_voice_share - minor_share) / 0.02))
    return two, float(conf)


DECISION_SCALE = 0.03
"""Cosine similarity over which the 1-vs-2 decision goes from unsure (0.5) to 0.73 sure."""


def _stretches(
    emb: np.ndarray,
    starts: np.ndarray,
    spans: list[tuple[float, float]],
    centroids: np.ndarray,
    sim: float,
    cfg: SeparationConfig,
) -> list[VoiceStretch]:
    """Per 10 ms frame of speech: the mean score (similarity to voice 0 minus to voice 1) of the
    windows covering it, smoothed by a running median; runs of one sign are the stretches."""
    score = (emb @ centroids[0]) - (emb @ centroids[1])
    separation = max(1.0 - sim, 1e-6)
    out: list[VoiceStretch] = []
    w_frames = int(round(cfg.window_s / FRAME_S))
    smooth = max(1, int(round(cfg.smooth_s / FRAME_S)) | 1)
    for a, b in spans:
        fa, fb = int(round(a / FRAME_S)), max(int(round(b / FRAME_S)), int(round(a / FRAME_S)) + 1)
        n = fb - fa
        acc = np.zeros(n)
        cnt = np.zeros(n)
        sel = np.flatnonzero((starts < b) & (starts + cfg.window_s > a))
        for j in sel:
            s = int(round(starts[j] / FRAME_S)) - fa
            lo, hi = max(0, s), min(n, s + w_frames)
            if hi > lo:
                acc[lo:hi] += score[j]
                cnt[lo:hi] += 1
        frame_score = np.where(cnt > 0, acc / np.maximum(cnt, 1), 0.0)
        frame_score = _running_median(frame_score, smooth)
        out.extend(_runs(frame_score, fa, separation, cfg))
    return out


def _running_median(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or x.size < 3:
        return x
    half = width // 2
    padded = np.pad(x, half, mode="edge")
    view = np.lib.stride_tricks.sliding_window_view(padded, width)
    return np.median(view, axis=1)


def _runs(frame_score: np.ndarray, first_frame: int, separation: float, cfg: SeparationConfig) -> list[VoiceStretch]:
    label = (frame_score < 0).astype(np.int64)  # positive score: voice 0
    edges = np.flatnonzero(np.diff(label)) + 1
    bounds = np.concatenate(([0], edges, [label.size]))
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        margin = float(np.mean(np.abs(frame_score[lo:hi])))
        conf = float(min(1.0, margin / separation))
        voice = int(label[lo])
        if (hi - lo) * FRAME_S < cfg.min_stretch_s or margin < cfg.min_margin:
            voice = -1
        start = (first_frame + lo) * FRAME_S
        end = (first_frame + hi) * FRAME_S
        out.append(VoiceStretch(round(float(start), 3), round(float(end), 3), voice, round(conf, 4)))
    return out
