"""Frame-level prosody: loudness (dBFS), F0 by YIN, and voicing, as pure functions plus one
streaming wrapper.

Frame ``i`` covers samples ``[i * hop, i * hop + frame_length)``; its time is the centre of its
integration window, ``(i * hop + win / 2) / sr`` seconds. The YIN difference function needs
``win + tau_max`` samples per frame. Loudness is the RMS of the first ``win`` samples in dBFS
(a full-scale square wave is 0 dBFS, a full-scale sine -3 dBFS).

YIN (de Cheveigné & Kawahara 2002) is computed here rather than with ``librosa.yin`` because we
need its aperiodicity (the depth of the chosen dip) as the voicing decision, and librosa only
returns F0. The difference function comes from one FFT cross-correlation per frame, vectorised
over frames, so the tracker runs at hundreds of times real time (see docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .config import ProsodyConfig

LOUDNESS_FLOOR_DB = -100.0
"""Digital silence is reported as this many dBFS rather than minus infinity."""


@dataclass(frozen=True)
class FrameGeometry:
    hop: int
    win: int
    tau_min: int
    tau_max: int

    @property
    def frame_length(self) -> int:
        return self.win + self.tau_max + 1

    @classmethod
    def from_config(cls, config: ProsodyConfig, sr: int) -> "FrameGeometry":
        hop = int(round(config.hop_ms * sr / 1000))
        win = int(round(config.window_ms * sr / 1000))
        tau_min = max(2, int(np.floor(sr / config.fmax_hz)))
        tau_max = int(np.ceil(sr / config.fmin_hz))
        return cls(hop=hop, win=win, tau_min=tau_min, tau_max=tau_max)


@dataclass
class Frames:
    """Per-frame prosody. All arrays have one value per frame."""

    f0_hz: np.ndarray  # float32, NaN when unvoiced
    aperiodicity: np.ndarray  # float32 in [0, ~1.5]; low = periodic
    voiced: np.ndarray  # bool
    loudness_db: np.ndarray  # float32 dBFS, >= LOUDNESS_FLOOR_DB

    def __len__(self) -> int:
        return len(self.loudness_db)

    @classmethod
    def empty(cls) -> "Frames":
        f = np.zeros(0, np.float32)
        return cls(f, f.copy(), np.zeros(0, bool), f.copy())

    @classmethod
    def concat(cls, parts: list["Frames"]) -> "Frames":
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("f0_hz", "aperiodicity", "voiced", "loudness_db")))


def loudness_db(frames: np.ndarray) -> np.ndarray:
    """RMS level in dBFS of each row of ``frames`` (shape ``(n_frames, win)``)."""
    power = np.mean(np.square(frames, dtype=np.float64), axis=1)
    with np.errstate(divide="ignore"):
        level = 10.0 * np.log10(power)
    return np.maximum(level, LOUDNESS_FLOOR_DB).astype(np.float32)


def yin(frames: np.ndarray, *, sr: int, win: int, tau_min: int, tau_max: int, threshold: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """F0 and aperiodicity of each frame by YIN.

    Parameters
    ----------
    frames : np.ndarray, shape (n_frames, >= win + tau_max + 1)
    sr : sample rate in Hz.
    win : integration window in samples.
    tau_min, tau_max : the lag range searched, in samples (``sr / fmax`` to ``sr / fmin``).
    threshold : absolute threshold on the cumulative mean normalised difference.

    Returns
    -------
    f0_hz : np.ndarray, shape (n_frames,), float32: the F0 of the chosen dip (always finite).
    aperiodicity : np.ndarray, shape (n_frames,), float32: the normalised difference at that dip.
    """
    n = frames.shape[0]
    if n == 0:
        z = np.zeros(0, np.float32)
        return z, z.copy()
    x = frames[:, : win + tau_max + 1].astype(np.float32)
    nfft = 1 << int(np.ceil(np.log2(x.shape[1] + 1)))
    spec = np.fft.rfft(x, nfft, axis=1)
    head = np.fft.rfft(x[:, :win], nfft, axis=1)
    corr = np.fft.irfft(spec * np.conj(head), nfft, axis=1)[:, : tau_max + 1]
    sq = np.zeros((n, x.shape[1] + 1), np.float64)
    np.cumsum(np.square(x, dtype=np.float64), axis=1, out=sq[:, 1:])
    lags = np.arange(tau_max + 1)
    energy_lag = sq[:, lags + win] - sq[:, lags]
    diff = corr[:, :1] + energy_lag - 2.0 * corr
    diff[:, 0] = 0.0
    np.maximum(diff, 0.0, out=diff)
    cum = np.cumsum(diff[:, 1:], axis=1)
    cmndf = np.ones_like(diff)
    with np.errstate(divide="ignore", invalid="ignore"):
        cmndf[:, 1:] = diff[:, 1:] * lags[1:] / cum
    cmndf[~np.isfinite(cmndf)] = 1.0

    search = cmndf[:, tau_min : tau_max + 1]
    # A dip: lower than its left neighbour and not higher than its right one. The first lag of the
    # range is never a dip (its left side is padded with -inf): there the difference function may
    # still be falling towards a dip *above* fmax (usually the 2nd harmonic), and taking the edge
    # would report an F0 an octave up, beyond fmax. The last lag may be one (+inf to its right),
    # so that a voice at fmin is still found.
    left = np.concatenate([np.full((n, 1), -np.inf), search[:, :-1]], axis=1)
    right = np.concatenate([search[:, 1:], np.full((n, 1), np.inf)], axis=1)
    trough = (search < left) & (search <= right)
    candidates = trough & (search < threshold)
    has = candidates.any(axis=1)
    first = np.argmax(candidates, axis=1)
    best = np.argmin(search, axis=1)
    idx = np.where(has, first, best)
    tau = idx + tau_min
    rows = np.arange(n)
    aperiodicity = cmndf[rows, tau]

    # Parabolic interpolation of the dip for sub-sample precision.
    lo = np.clip(tau - 1, 1, tau_max)
    hi = np.clip(tau + 1, 1, tau_max)
    a, b, c = cmndf[rows, lo], cmndf[rows, tau], cmndf[rows, hi]
    denom = a - 2.0 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / denom, 0.0)
    shift = np.clip(np.nan_to_num(shift), -1.0, 1.0)
    period = tau + shift
    # The parabolic shift can move a dip at the edge of the range just outside it.
    f0 = np.clip(sr / period, sr / tau_max, sr / tau_min)
    return f0.astype(np.float32), aperiodicity.astype(np.float32)


def analyze_frames(y: np.ndarray, *, sr: int, config: ProsodyConfig = ProsodyConfig()) -> Frames:
    """Prosody of every complete frame of ``y`` (mono float32). See the module docstring."""
    geo = FrameGeometry.from_config(config, sr)
    y = np.asarray(y, dtype=np.float32)
    if len(y) < geo.frame_length:
        return Frames.empty()
    frames = sliding_window_view(y, geo.frame_length)[:: geo.hop]
    return _frames_of(frames, geo, sr, config)


_BLOCK_FRAMES = 256  # frames per vectorised YIN call: keeps the work arrays in cache


def _frames_of(frames: np.ndarray, geo: FrameGeometry, sr: int, config: ProsodyConfig) -> Frames:
    level = loudness_db(frames[:, : geo.win])
    f0 = np.empty(len(frames), np.float32)
    aper = np.empty(len(frames), np.float32)
    for i in range(0, len(frames), _BLOCK_FRAMES):
        block = frames[i : i + _BLOCK_FRAMES]
        f0[i : i + len(block)], aper[i : i + len(block)] = yin(
            block, sr=sr, win=geo.win, tau_min=geo.tau_min, tau_max=geo.tau_max, threshold=config.yin_threshold
        )
    voiced = (aper < config.voicing_max_aperiodicity) & (level > config.silence_floor_db)
    # Isolated voiced frames are usually noise that happened to look periodic.
    if len(voiced) > 2:
        v = voiced.copy()
        v[1:-1] &= voiced[:-2] | voiced[2:]
        voiced = v
    # The search range is in whole lags (sr / fmax rounded down): keep reported F0 inside the
    # configured range.
    f0 = np.where(voiced, np.clip(f0, config.fmin_hz, config.fmax_hz), np.nan).astype(np.float32)
    return Frames(f0, aper, voiced, level)


def frame_times_s(n_frames: int, *, start_frame: int = 0, sr: int, config: ProsodyConfig = ProsodyConfig()) -> np.ndarray:
    """Time in seconds of frames ``start_frame .. start_frame + n_frames``."""
    geo = FrameGeometry.from_config(config, sr)
    idx = np.arange(start_frame, start_frame + n_frames)
    return (idx * geo.hop + geo.win / 2) / sr


class FrameAnalyzer:
    """Streaming ``analyze_frames``: feed any chunk sizes, get the frames that became complete.

    Fed the same samples, the concatenated output equals ``analyze_frames`` on the whole signal,
    plus (after ``finish``) the frames whose window runs past the end, zero-padded, so that the
    stream yields one frame per hop of input.
    """

    def __init__(self, *, sr: int, config: ProsodyConfig = ProsodyConfig()):
        self.sr = sr
        self.config = config
        self.geo = FrameGeometry.from_config(config, sr)
        self._buf = np.zeros(0, np.float32)
        self._buf_start = 0  # stream sample index of _buf[0]
        self._next_frame = 0
        self._total = 0

    @property
    def frames_done(self) -> int:
        return self._next_frame

    def feed(self, audio: np.ndarray) -> Frames:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        self._total += len(audio)
        self._buf = np.concatenate([self._buf, audio]) if len(self._buf) else audio.copy()
        return self._drain(final=False)

    def finish(self) -> Frames:
        return self._drain(final=True)

    def _drain(self, *, final: bool) -> Frames:
        geo = self.geo
        if final:
            n_total = -(-self._total // geo.hop)  # one frame per (started) hop
            need_end = (n_total - 1) * geo.hop + geo.frame_length
            pad = need_end - (self._buf_start + len(self._buf))
            if n_total <= self._next_frame:
                return Frames.empty()
            if pad > 0:
                self._buf = np.concatenate([self._buf, np.zeros(pad, np.float32)])
        start = self._next_frame * geo.hop - self._buf_start
        available = len(self._buf) - start
        if available < geo.frame_length:
            return Frames.empty()
        n = 1 + (available - geo.frame_length) // geo.hop
        if final:
            n = min(n, -(-self._total // geo.hop) - self._next_frame)
        window = sliding_window_view(self._buf[start:], geo.frame_length)[:: geo.hop][:n]
        out = _frames_of(window, geo, self.sr, self.config)
        self._next_frame += n
        drop = self._next_frame * geo.hop - self._buf_start
        self._buf = self._buf[drop:]
        self._buf_start += drop
        return out
