"""Two voices in one mono recording: who speaks when.

Over speech only (``speech.speech_spans``), 1.6 s windows every ``step_s`` inside each stretch of
speech are turned into GE2E speaker embeddings (``encoder``). Spectral clustering of their cosine
similarities groups them in three styles, and the two styles least often present in the same ~10 s
block of speech are joined into one voice: a person who turns angry changes style once, two people
on a call keep alternating (``_cluster``). Each window goes to its nearest style; per 10 ms frame the
scores of the windows covering it are averaged and median-smoothed. Each stretch of one voice
carries a confidence (how much nearer its windows are to its voice than to the other, as a share of
the distance between the voices); stretches too short or too ambiguous (overlapping speech, a cough)
are not attributed (voice -1). When both people turn angry, the three styles are often calm speech of
each and angry speech of both; once two voices are decided, the windows are then also grouped in four
(or five) styles, joined into two voices when each voice's styles follow one another (calm, then angry)
while both voices keep taking turns (``_paired_styles``). ``speakers="auto"`` decides two voices when
either grouping passes its test: the plain two-way split of the windows, when its halves differ
(``two_voice_max_similarity``), both hold enough of the speech (``min_voice_share``) and both speak in
most ~10 s blocks of it (``min_copresence``); or the voices joined from the three styles, when they
differ and hold enough of the speech as well, and neither is silent for more than ``max_voice_absence``
of the speech in a row (stricter, because that grouping is built to explain a change of style: one
person's calm and angry stretches follow each other, while two people on a call keep taking turns). A
recording of one person, calm or angry, stays one voice. Voice 0 is the voice heard first: the one
whose embedding is nearer that of the first window of speech.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from voice_coach.config import SeparationConfig
from voice_coach.errors import AudioError, ConfigError

__all__ = ["Separation", "VoiceStretch", "separate", "voice_masks"]

SAMPLE_RATE = 16000
FRAME_S = 0.01
"""Resolution of the voice decision (the 10 ms hop of the rest of the analysis)."""
METHOD = "ge2e+spectral-clustering"
METHOD_TIMBRE = "ge2e+mfcc+spectral-clustering"
"""The method when the windows' MFCC statistics joined the embeddings for the attribution."""
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
    """Cosine similarity of the centroids of the plain two-way split of the speech (what ``auto``
    decides on, with the split's co-presence); nan when there was too little speech to cluster."""
    opening: tuple[float, ...] | None = None
    """Two voices: the cosine similarity of the first window of speech (its first 1.6 s) to each voice's
    centroid, in the space clustered (``method``); voice 0 is the nearer, the voice heard first. None
    when not measured (one voice, or a separation made by hand)."""


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
    starts, ends = _window_starts(spans, duration, cfg)
    emb = _embed(x, starts, ends, cfg, progress)
    timbre = window_timbre(x, starts, ends, cfg) if cfg.timbre_weight > 0 else None
    sep = separate_embeddings(emb, starts, ends, spans, duration=duration, speakers=speakers, config=cfg, timbre=timbre)
    _report(progress, 1.0)
    return sep


def separate_embeddings(
    emb: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    spans: list[tuple[float, float]],
    *,
    duration: float,
    speakers: str = "auto",
    config: SeparationConfig | None = None,
    timbre: np.ndarray | None = None,
) -> Separation:
    """The clustering, smoothing and decision part of ``separate``, from the windows' embeddings
    (``emb`` ``(n, 256)`` unit rows of the windows ``[starts, ends)``, time-ordered, over the speech
    ``spans``). ``timbre``, when given, is ``window_timbre`` of the same windows: the one-or-two
    decision stays on the embeddings, and once two voices are decided the windows are clustered again
    on the embeddings joined with it (``_joined_features``) for the attribution."""
    cfg = config or SeparationConfig()
    cl = _cluster(emb, starts)
    if cl is None:  # too few windows to tell voices apart
        conf = 1.0 if speakers == "1" else 0.5
        return _single(spans, duration, speakers, _unit(emb.mean(axis=0, keepdims=True)), conf)
    sim = cl.split_similarity
    if speakers == "1":
        return _single(spans, duration, speakers, _unit(emb.mean(axis=0, keepdims=True)), 1.0, sim)
    method, attrib, feats = METHOD, cl, emb
    cl_timbre = None
    if timbre is not None and cfg.timbre_weight > 0:
        joined = _joined_features(emb, timbre, cfg.timbre_weight)
        cl_timbre = _cluster(joined, starts, reference=emb)
        if cl_timbre is not None:
            method, attrib, feats = METHOD_TIMBRE, cl_timbre, joined
    two, decision_conf = _decide(cl, cfg, cl_timbre)
    if speakers == "auto" and not two:
        return _single(spans, duration, speakers, _unit(emb.mean(axis=0, keepdims=True)), decision_conf, sim)
    attrib = _paired_styles(feats, starts, attrib, cfg)
    # the voices' centroids are always GE2E embeddings (a voice print is compared with them)
    centroids = _voice_means(emb, attrib.labels)
    stretches = _stretches(_scores(feats, attrib), starts, ends, spans, attrib.similarity, cfg)
    # voice 0 = the voice heard first: the one whose centroid (in the space clustered) is nearer the
    # first window of speech, judged on that window alone, not on the smoothed attribution, which can
    # blur a short first turn into the answer that follows it
    opening = attrib.centroids @ _unit(feats[int(np.argmin(starts))])
    if opening[1] > opening[0]:
        centroids, opening = centroids[::-1].copy(), opening[::-1].copy()
        stretches = [
            VoiceStretch(s.start_s, s.end_s, 1 - s.voice if s.voice >= 0 else -1, s.confidence) for s in stretches
        ]
    return Separation(
        method=method,
        speakers=2,
        requested=speakers,
        decision_confidence=1.0 if speakers == "2" else decision_conf,
        stretches=tuple(stretches),
        centroids=centroids.astype(np.float32),
        duration_s=duration,
        similarity=sim,
        opening=tuple(round(float(v), 4) for v in opening),
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
    """Window starts and ends over the speech spans: a window never crosses a span's edge (a pause
    is where the other voice usually takes over). A span shorter than a window gets one window, its
    audio repeated to fill it; a longer one windows every ``step_s``, the last ending at its end."""
    starts: list[float] = []
    ends: list[float] = []
    w = cfg.window_s
    for a, b in spans:
        if b - a <= w:
            starts.append(a)
            ends.append(b)
            continue
        n = int(math.floor((b - a - w) / cfg.step_s)) + 1
        grid = a + cfg.step_s * np.arange(n)
        if grid[-1] + w < b - 1e-6:  # the last window ends at the span's end
            grid = np.append(grid, b - w)
        starts.extend(grid.tolist())
        ends.extend((grid + w).tolist())
    return np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64)


def _embed(
    x: np.ndarray, starts: np.ndarray, ends: np.ndarray, cfg: SeparationConfig, progress: Progress | None
) -> np.ndarray:
    from voice_coach.voices.encoder import load_encoder

    enc = load_encoder()
    out = np.empty((len(starts), EMBEDDING_DIM), dtype=np.float32)
    block = cfg.block_windows
    for i in range(0, len(starts), block):
        out[i : i + block] = enc.embed_windows(
            x, starts[i : i + block], window_s=cfg.window_s, ends_s=ends[i : i + block]
        )
        _report(progress, 0.2 + 0.7 * min(1.0, (i + block) / max(1, len(starts))))
    return out


def _mean_embedding(x: np.ndarray, spans: list[tuple[float, float]], cfg: SeparationConfig) -> np.ndarray:
    """The centroid of a one-voice recording: the mean of its windows' embeddings (zeros without speech)."""
    if not spans:
        return np.zeros((1, EMBEDDING_DIM), dtype=np.float32)
    starts, ends = _window_starts(spans, x.size / SAMPLE_RATE, cfg)
    if starts.size > CENTROID_WINDOWS:  # a centroid needs no more than an even sample of the speech
        pick = np.linspace(0, starts.size - 1, CENTROID_WINDOWS).round().astype(np.int64)
        starts, ends = starts[pick], ends[pick]
    return _unit(_embed(x, starts, ends, cfg, None).mean(axis=0, keepdims=True))


def window_timbre(x: np.ndarray, starts: np.ndarray, ends: np.ndarray, cfg: SeparationConfig) -> np.ndarray:
    """``(n, 2 * TIMBRE_COEFFS)`` float32: per window ``[start, end)``, the mean and standard deviation
    of MFCCs 1..``TIMBRE_COEFFS`` (DCT of the log of the 40-band mel power spectrum the encoder's front
    end computes, 25 ms every 10 ms) over its frames within ``TIMBRE_RANGE_DB`` of its loudest (the
    pauses left out). A second, explainable description of a voice (vocal tract and channel) that does
    not come from GE2E: on phone-band calls of two calm voices of the same gender GE2E puts both nearly
    in one place (docs/benchmarks/separation.md)."""
    from voice_coach.voices.encoder import load_encoder

    enc = load_encoder()
    dct = _dct_matrix()
    out = np.zeros((len(starts), 2 * TIMBRE_COEFFS), dtype=np.float32)
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        lo = max(0, int(round(a * SAMPLE_RATE)))
        hi = min(x.size, int(round(min(b, a + cfg.window_s) * SAMPLE_RATE)))
        if hi - lo < 400:  # less than one 25 ms frame
            continue
        mel = enc.mel_frames(x[lo:hi])
        power = mel.sum(axis=1)
        level = 10.0 * np.log10(power + 1e-12)
        keep = level >= level.max() - TIMBRE_RANGE_DB
        cc = np.log(mel[keep] + 1e-10) @ dct
        out[i, :TIMBRE_COEFFS] = cc.mean(axis=0)
        out[i, TIMBRE_COEFFS:] = cc.std(axis=0)
    return out


TIMBRE_COEFFS = 19
"""MFCCs 1..19 (c0, the level, left out: it says how loud, not who)."""
TIMBRE_RANGE_DB = 30.0
"""A window's frames more than this below its loudest are pauses, left out of its MFCC statistics."""


def _dct_matrix() -> np.ndarray:
    """``(40, TIMBRE_COEFFS)``: orthonormal DCT-II of 40 mel bands, coefficients 1..TIMBRE_COEFFS."""
    n = 40
    k = np.arange(1, TIMBRE_COEFFS + 1)[None, :]
    m = np.arange(n)[:, None]
    return (np.sqrt(2.0 / n) * np.cos(np.pi / n * (m + 0.5) * k)).astype(np.float32)


def _joined_features(emb: np.ndarray, timbre: np.ndarray, weight: float) -> np.ndarray:
    """Unit rows of the embedding joined with the windows' MFCC statistics, each statistic standardised
    over the recording and the whole block scaled to about unit length times ``weight``: with weight 1
    the two descriptions count about equally in a cosine similarity."""
    t = np.asarray(timbre, dtype=np.float64)
    z = (t - t.mean(axis=0)) / np.maximum(t.std(axis=0), 1e-6) / math.sqrt(t.shape[1])
    return _unit(np.concatenate([emb.astype(np.float64), weight * z], axis=1))


CENTROID_WINDOWS = 64
"""With ``speakers="1"`` the one voice's centroid is the mean embedding of at most this many windows."""


MIN_WINDOWS = 6
"""Fewer windows than this are one voice: there is nothing to cluster."""
MAX_SPECTRAL = 2500
"""At most this many windows (an even sample of them) go into the affinity matrix (memory:
MAX_SPECTRAL^2 float32, a few times over in ``eigh``); every window then joins its nearest style."""
SUB_CLUSTERS = 3
"""Styles the windows are first grouped in (two of them joined into one voice): one person can speak
in two (calm, then angry)."""
PAIRED_STYLES = (4, 5)
"""Style counts ``_paired_styles`` tries, in turn: calm and angry speech of each of two people (and one
more, when one of those is split between two people)."""
MAX_STYLES = max(SUB_CLUSTERS, *PAIRED_STYLES)
"""The most styles the windows are grouped in: the eigenvectors ``_spectrum`` keeps."""
MAX_PAIRED_COPRESENCE = 1 / 3
"""Two styles of one voice in ``_paired_styles`` are heard in the same block of speech in at most this
share of the blocks holding either: one person's calm speech, then their angry speech, meet only
around the change. Chosen on the benchmark's mixes and calls (0.3 and 0.4 were worse; 0.4 joined a
customer's calm and angry sentences across their turns on short RAVDESS mixes)."""
PAIRED_MARGIN = 0.05
"""When two joinings both qualify in ``_paired_styles`` (say, each person's calm speech with their
own anger, or with the other's), the more alike must be so by at least this much mean cosine
similarity, or the three styles stay (the same margin as an uncertain naming, ``naming``)."""
NEIGHBOURS = 0.3
"""Affinity pruning: each window keeps its similarity to this share of the windows most similar to it
(the rest set to 0, then made symmetric), so that a voice whose style drifts (calm, then angry) stays
connected through its own nearest windows instead of splitting off from itself."""
BLOCK_S = 10.0
"""Co-presence is counted in blocks of about this much speech (between 3 and 12 blocks)."""


@dataclass(frozen=True)
class _Clusters:
    labels: np.ndarray
    """(n,) voice (0/1) of each window."""
    sub_centroids: np.ndarray
    """(k, 256) unit centroids of the styles (k = 2 or 3; 4 or 5 after ``_paired_styles``)."""
    voice_of: np.ndarray
    """(k,) the voice of each style."""
    centroids: np.ndarray
    """(2, 256) unit mean embedding of each voice."""
    similarity: float
    """Cosine similarity of the two voices' centroids (in the space clustered: the attribution's scale)."""
    voice_similarity: float
    """The same, of their GE2E embeddings (what ``auto`` decides on)."""
    split_similarity: float
    """Cosine similarity of the GE2E embeddings of the two halves of the plain two-way split."""
    copresence: float
    """Share of the blocks of speech in which both halves of the plain two-way split speak (0..1):
    two people in a call take turns all through it, while the two-way split of one person's speech
    falls where their style changes (calm, then angry), and the halves follow each other."""
    minor_share: float
    """Share of the windows in the smaller half of the plain two-way split."""
    joined_share: float
    """Share of the windows in the smaller of the two joined voices."""
    absence: float
    """Longest run of the speech (share of the windows, in time order) in which one of the two joined
    voices is not heard at all: small when two people take turns all through a call, large when a style
    of one person's (their angry stretches) fills only part of the recording."""
    spectrum: np.ndarray
    """``_spectrum`` of the ``_sample`` of the windows clustered, for more styles later."""


def _cluster(emb: np.ndarray, starts: np.ndarray, reference: np.ndarray | None = None) -> _Clusters | None:
    """Two voices from the windows' embeddings (None when there are too few windows or a split
    leaves one side empty).

    Spectral clustering (cosine affinity pruned to each window's nearest ``NEIGHBOURS`` share, k-means
    on the rows of the first k eigenvectors of the normalised Laplacian, then k-means steps on the
    embeddings) splits the windows in two (the plain split, which ``auto`` decides on) and in three
    styles. GE2E puts one person's shouting far from their calm voice, often further than another
    person's calm voice, so of the three styles the two least often present in the same stretch of
    the recording (lowest co-presence; of equals the most similar) are one voice, joined; two people
    on a call keep alternating. A window's voice is that of its nearest style. ``reference``, when given,
    holds the windows' GE2E embeddings when ``emb`` is something else (joined with MFCC statistics): the
    similarities of the halves and of the voices are then measured on it, the scale the thresholds of
    ``_decide`` are set on."""
    n = len(emb)
    ref = emb if reference is None else reference
    if n < MIN_WINDOWS:
        return None
    blocks = _blocks(starts)
    spectrum = _spectrum(emb[_sample(n)])
    two = _styles(emb, 2, spectrum)
    if two is None:
        return None
    sub2, _ = two
    k = SUB_CLUSTERS if n >= 4 * SUB_CLUSTERS else 2
    three = _styles(emb, k, spectrum) if k > 2 else None
    sub, sub_centroids = three if three is not None else two
    voice_of = np.arange(2) if len(sub_centroids) == 2 else _join_styles(sub, sub_centroids, blocks)
    labels = voice_of[sub]
    if labels.min() == labels.max():
        return None
    centroids = _voice_means(emb, labels)
    voices = _voice_means(ref, labels)
    halves = _voice_means(ref, sub2)
    return _Clusters(
        labels=labels,
        sub_centroids=sub_centroids,
        voice_of=voice_of,
        centroids=centroids,
        similarity=float(centroids[0] @ centroids[1]),
        voice_similarity=float(voices[0] @ voices[1]),
        split_similarity=float(halves[0] @ halves[1]),
        copresence=_copresence(sub2 == 0, sub2 == 1, blocks),
        minor_share=float(min(sub2.mean(), 1 - sub2.mean())),
        joined_share=float(min(labels.mean(), 1 - labels.mean())),
        absence=_longest_absence(labels, starts),
        spectrum=spectrum,
    )


def _voice_means(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(2, d) unit mean of the rows of ``x`` of each voice (0, 1)."""
    return np.stack([_unit(x[labels == v].mean(axis=0)) for v in (0, 1)])


def _sample(n: int) -> np.ndarray:
    """The windows that go into the affinity matrix: all, or an even sample of ``MAX_SPECTRAL``."""
    return np.linspace(0, n - 1, min(n, MAX_SPECTRAL)).round().astype(np.int64)


def _styles(emb: np.ndarray, k: int, spectrum: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``k`` clusters: spectral (``spectrum`` = ``_spectrum`` of the ``_sample`` of the windows), then
    every window to its nearest centroid for a few k-means steps. None when a cluster ends up empty."""
    idx = _sample(len(emb))
    first = _spectral(spectrum, k)
    if np.bincount(first, minlength=k).min() == 0:
        return None
    cent = np.stack([_unit(emb[idx][first == c].mean(axis=0)) for c in range(k)])
    sub = np.argmax(emb @ cent.T, axis=1)
    for _ in range(5):
        if np.bincount(sub, minlength=k).min() == 0:
            return None
        new = np.stack([_unit(emb[sub == c].mean(axis=0)) for c in range(k)])
        done = np.allclose(new, cent, atol=1e-6)
        cent = new
        sub = np.argmax(emb @ cent.T, axis=1)
        if done:
            break
    if np.bincount(sub, minlength=k).min() == 0:
        return None
    return sub, cent


def _join_styles(sub: np.ndarray, sub_centroids: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """Which two of three styles are one voice: the pair least often present in the same block of
    speech; of pairs equally rarely together, the most similar."""
    k = len(sub_centroids)
    pairs = [
        (_copresence(sub == i, sub == j, blocks), -float(sub_centroids[i] @ sub_centroids[j]), i, j)
        for i in range(k)
        for j in range(i + 1, k)
    ]
    _, _, i, j = min(pairs)
    voice_of = np.ones(k, dtype=np.int64)
    voice_of[[i, j]] = 0
    return voice_of


def _spectrum(emb: np.ndarray) -> np.ndarray:
    """The first ``MAX_STYLES`` eigenvectors (by ascending eigenvalue) of the normalised Laplacian of
    the windows' pruned cosine affinity: computed once, shared by every number of styles."""
    n = len(emb)
    aff = emb @ emb.T  # float32: (n, n) matrices are the peak of memory on long calls
    keep = max(2, int(round(NEIGHBOURS * n)))
    if keep < n:
        kth = np.partition(aff, n - keep, axis=1)[:, n - keep][:, None]
        aff[aff < kth] = 0.0
        np.maximum(aff, aff.T, out=aff)
    np.clip(aff, 0.0, None, out=aff)
    np.fill_diagonal(aff, 0.0)
    d = (1.0 / np.sqrt(np.maximum(aff.sum(axis=1, dtype=np.float64), 1e-12))).astype(np.float32)
    # the normalised Laplacian I - D^-1/2 A D^-1/2, built in place
    aff *= d[:, None]
    aff *= d[None, :]
    np.negative(aff, out=aff)
    aff[np.diag_indices(n)] += 1.0
    _, vecs = np.linalg.eigh(aff)
    return vecs[:, :MAX_STYLES].astype(np.float64)


def _spectral(spectrum: np.ndarray, k: int) -> np.ndarray:
    """``k`` clusters of the rows of the first ``k`` eigenvectors (normalised)."""
    n = len(spectrum)
    u = spectrum[:, :k]
    u = u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-12)
    # k-means on the rows, seeded deterministically by farthest points
    seeds = [0]
    for _ in range(1, k):
        dist = np.min(((u[:, None, :] - u[seeds][None, :, :]) ** 2).sum(axis=-1), axis=1)
        seeds.append(int(np.argmax(dist)))
    cent = u[seeds]
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(50):
        labels = np.argmin(((u[:, None, :] - cent[None, :, :]) ** 2).sum(axis=-1), axis=1)
        new = np.stack([u[labels == c].mean(axis=0) if (labels == c).any() else cent[c] for c in range(k)])
        if np.allclose(new, cent):
            break
        cent = new
    return labels


def _blocks(starts: np.ndarray) -> np.ndarray:
    """(n,) block index of each window: equal shares of the windows (of the speech), in time order."""
    n = starts.size
    span = float(starts.max() - starts.min()) if n else 0.0
    count = int(np.clip(round(span / BLOCK_S), 3, 12))
    order = np.argsort(starts, kind="stable")
    out = np.empty(n, dtype=np.int64)
    out[order] = np.arange(n) * count // max(n, 1)
    return out


def _copresence(a: np.ndarray, b: np.ndarray, blocks: np.ndarray) -> float:
    """Share of the blocks holding either group in which both are present (each at least 5 % of the
    block's windows, and one window)."""
    both = either = 0
    for blk in range(int(blocks.max()) + 1):
        m = blocks == blk
        size = int(m.sum())
        if not size:
            continue
        need = max(1.0, 0.05 * size)
        has_a, has_b = a[m].sum() >= need, b[m].sum() >= need
        both += int(has_a and has_b)
        either += int(has_a or has_b)
    return both / either if either else 0.0


def _longest_absence(labels: np.ndarray, starts: np.ndarray) -> float:
    """Longest run of windows (in time order, as a share of all windows) holding no window of one of
    the two voices; 1.0 when a voice has no window."""
    n = labels.size
    ordered = labels[np.argsort(starts, kind="stable")]
    longest = 0
    for v in (0, 1):
        at = np.flatnonzero(ordered == v)
        if at.size == 0:
            return 1.0
        gaps = np.diff(np.concatenate(([-1], at, [n]))) - 1
        longest = max(longest, int(gaps.max()))
    return longest / max(n, 1)


def _paired_styles(feats: np.ndarray, starts: np.ndarray, cl: _Clusters, cfg: SeparationConfig) -> _Clusters:
    """The attribution's grouping once two voices are decided: ``cl``, or more styles joined into two
    voices when the windows fall in styles that join like two people who both turn angry.

    In such a call the three styles of ``_cluster`` are often each person's calm speech and both
    people's angry speech, which then goes to one voice. With four styles (five when no joining of
    four qualifies) each person's calm and angry speech can be styles of their own. A joining into two
    voices qualifies when any two styles of one voice are heard in the same block of speech in at most
    ``MAX_PAIRED_COPRESENCE`` of the blocks holding either (one person's calm, then angry speech) and
    neither voice is silent for more than ``max_voice_absence`` of the speech in a row (two people keep
    taking turns); of those, the one whose styles of one voice are most alike (mean cosine similarity).
    The fields ``_decide`` read are left as they were (the decision is made)."""
    blocks = _blocks(starts)
    for k in PAIRED_STYLES:
        if len(feats) < 4 * k:
            break
        styles = _styles(feats, k, cl.spectrum)
        if styles is None:
            continue
        sub, sub_centroids = styles
        together = {(i, j): _copresence(sub == i, sub == j, blocks) for i in range(k) for j in range(i + 1, k)}
        qualified: list[tuple[float, np.ndarray]] = []  # (likeness, voice of each style)
        for size in range(1, k // 2 + 1):
            for group in itertools.combinations(range(k), size):
                if 2 * size == k and 0 not in group:  # the same joining with the voices swapped
                    continue
                voice_of = np.ones(k, dtype=np.int64)
                voice_of[list(group)] = 0
                same = [(i, j) for i, j in together if voice_of[i] == voice_of[j]]
                if max(together[p] for p in same) > MAX_PAIRED_COPRESENCE:
                    continue
                if _longest_absence(voice_of[sub], starts) > cfg.max_voice_absence:
                    continue
                qualified.append((float(np.mean([sub_centroids[i] @ sub_centroids[j] for i, j in same])), voice_of))
        if not qualified:
            continue
        qualified.sort(key=lambda q: -q[0])
        if len(qualified) > 1 and qualified[0][0] - qualified[1][0] < PAIRED_MARGIN:
            return cl  # turn-taking allows two joinings and neither is clearly more alike: keep three styles
        voice_of = qualified[0][1]
        labels = voice_of[sub]
        centroids = _voice_means(feats, labels)
        return replace(
            cl,
            labels=labels,
            sub_centroids=sub_centroids,
            voice_of=voice_of,
            centroids=centroids,
            similarity=float(centroids[0] @ centroids[1]),
        )
    return cl


def _decide(cl: _Clusters, cfg: SeparationConfig, cl_timbre: _Clusters | None = None) -> tuple[bool, float]:
    """Two voices or one, and how sure. Two tests for each grouping (of the embeddings and, with
    ``cl_timbre``, of the embeddings joined with the MFCC statistics), any of which decides two voices:
    its plain two-way split (the halves differ, both hold enough windows, both speak in most blocks),
    and its voices joined from three styles (they differ, both hold enough windows, neither is silent
    for more than ``max_voice_absence`` of the speech in a row). How much two groups differ is always
    the cosine similarity of their GE2E embeddings. Each condition's margin goes through a logistic
    (0.5 at its threshold); a test passes when all its conditions do and is as sure as the weakest; a
    failed test is as sure as its clearest failed condition. Two voices: the surest passing test; one
    voice: the least sure of the failures."""
    sigmoid = lambda x: 1.0 / (1.0 + math.exp(-x))  # noqa: E731
    max_sim = cfg.two_voice_max_similarity
    tests = []
    for c in (cl, cl_timbre):
        if c is None:
            continue
        tests.append(  # the plain split
            [
                ((max_sim - c.split_similarity) / DECISION_SCALE, c.split_similarity < max_sim),
                ((c.copresence - cfg.min_copresence) / COPRESENCE_SCALE, c.copresence >= cfg.min_copresence),
                ((c.minor_share - cfg.min_voice_share) / SHARE_SCALE, c.minor_share >= cfg.min_voice_share),
            ]
        )
        tests.append(  # the voices joined from three styles
            [
                ((max_sim - c.voice_similarity) / DECISION_SCALE, c.voice_similarity < max_sim),
                ((cfg.max_voice_absence - c.absence) / ABSENCE_SCALE, c.absence <= cfg.max_voice_absence),
                ((c.joined_share - cfg.min_voice_share) / SHARE_SCALE, c.joined_share >= cfg.min_voice_share),
            ]
        )
    passed = [min(sigmoid(m) for m, _ in test) for test in tests if all(ok for _, ok in test)]
    if passed:
        return True, float(max(passed))
    failed = [max(sigmoid(-m) for m, ok in test if not ok) for test in tests]
    return False, float(min(failed))


DECISION_SCALE = 0.03
"""Cosine similarity over which the 1-vs-2 decision goes from unsure (0.5) to 0.73 sure."""
COPRESENCE_SCALE = 0.1
SHARE_SCALE = 0.02
ABSENCE_SCALE = 0.05
"""Share of the speech over which the joined voices' absence test goes from unsure (0.5) to 0.73 sure."""


def _scores(emb: np.ndarray, cl: _Clusters) -> np.ndarray:
    """Per window: cosine similarity to the nearest style of voice 0 minus that of voice 1."""
    sims = emb @ cl.sub_centroids.T
    return sims[:, cl.voice_of == 0].max(axis=1) - sims[:, cl.voice_of == 1].max(axis=1)


def _stretches(
    score: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    spans: list[tuple[float, float]],
    sim: float,
    cfg: SeparationConfig,
) -> list[VoiceStretch]:
    """Per 10 ms frame of speech: the mean score (``_scores``) of the windows covering it, smoothed
    by a running median; runs of one sign are the stretches."""
    separation = max(1.0 - sim, 1e-6)
    out: list[VoiceStretch] = []
    smooth = max(1, int(round(cfg.smooth_s / FRAME_S)) | 1)
    order = np.argsort(starts, kind="stable")
    sorted_starts = starts[order]
    for a, b in spans:
        fa = int(round(a / FRAME_S))
        n = max(int(round(b / FRAME_S)) - fa, 1)
        acc = np.zeros(n)
        cnt = np.zeros(n)
        # windows starting before the span's end (they never start more than a window before it)
        lo_j = np.searchsorted(sorted_starts, a - cfg.window_s, side="left")
        hi_j = np.searchsorted(sorted_starts, b, side="left")
        for j in order[lo_j:hi_j]:
            lo = max(0, int(round(starts[j] / FRAME_S)) - fa)
            hi = min(n, int(round(ends[j] / FRAME_S)) - fa)
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
