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

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from voice_coach.config import ProsodyConfig
from voice_coach.signal.floor import RelativeFloor

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
    def from_config(cls, config: ProsodyConfig, sr: int) -> FrameGeometry:
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
    voiced: np.ndarray  # bool: periodic and above the fixed silence floor (pitch, loudness)
    loudness_db: np.ndarray  # float32 dBFS, >= LOUDNESS_FLOOR_DB
    voiced_relative: np.ndarray  # bool: periodic and above the floor relative to the recording's
    # level (signal/floor.py), cleaned up the same way; a superset of ``voiced`` (syllables, phonation)

    _FIELDS = ("f0_hz", "aperiodicity", "voiced", "loudness_db", "voiced_relative")

    def __len__(self) -> int:
        return len(self.loudness_db)

    @classmethod
    def empty(cls) -> Frames:
        f = np.zeros(0, np.float32)
        return cls(f, f.copy(), np.zeros(0, bool), f.copy(), np.zeros(0, bool))

    @classmethod
    def concat(cls, parts: list[Frames]) -> Frames:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, k) for p in parts]) for k in cls._FIELDS))

    def slice(self, start: int | None = None, stop: int | None = None) -> Frames:
        return Frames(*(getattr(self, k)[start:stop] for k in self._FIELDS))


def loudness_db(frames: np.ndarray) -> np.ndarray:
    """RMS level in dBFS of each row of ``frames`` (shape ``(n_frames, win)``)."""
    power = np.mean(np.square(frames, dtype=np.float64), axis=1)
    with np.errstate(divide="ignore"):
        level = 10.0 * np.log10(power)
    return np.maximum(level, LOUDNESS_FLOOR_DB).astype(np.float32)


def _cmndf(frames: np.ndarray, *, win: int, tau_max: int) -> np.ndarray:
    """YIN's cumulative mean normalised difference of each frame, lags ``0 .. tau_max``."""
    n = frames.shape[0]
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
    return cmndf


def _troughs(search: np.ndarray) -> np.ndarray:
    """Dips of the difference function over the searched lags: lower than the left neighbour and not
    higher than the right one. The first lag of the range is never a dip (its left side is padded
    with -inf): there the function may still be falling towards a dip *above* fmax (usually the 2nd
    harmonic), and taking the edge would report an F0 an octave up, beyond fmax. The last lag may be
    one (+inf to its right), so that a voice at fmin is still found."""
    n = len(search)
    left = np.concatenate([np.full((n, 1), -np.inf), search[:, :-1]], axis=1)
    right = np.concatenate([search[:, 1:], np.full((n, 1), np.inf)], axis=1)
    return (search < left) & (search <= right)


def _refined_f0(cmndf: np.ndarray, tau: np.ndarray, *, sr: int, tau_min: int, tau_max: int) -> np.ndarray:
    """F0 of the dips at lags ``tau`` (any shape, one row of ``cmndf`` per first index), refined by
    parabolic interpolation, kept inside the searched range."""
    rows = np.arange(len(cmndf)).reshape((-1,) + (1,) * (tau.ndim - 1))
    lo = np.clip(tau - 1, 1, tau_max)
    hi = np.clip(tau + 1, 1, tau_max)
    a, b, c = cmndf[rows, lo], cmndf[rows, tau], cmndf[rows, hi]
    denom = a - 2.0 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / denom, 0.0)
    shift = np.clip(np.nan_to_num(shift), -1.0, 1.0)
    # The parabolic shift can move a dip at the edge of the range just outside it.
    return np.clip(sr / (tau + shift), sr / tau_max, sr / tau_min)


def _yin_pick(cmndf: np.ndarray, tau_min: int, tau_max: int, threshold: float) -> np.ndarray:
    """YIN's choice of lag per frame: the first dip under ``threshold``, else the lowest value."""
    search = cmndf[:, tau_min : tau_max + 1]
    candidates = _troughs(search) & (search < threshold)
    has = candidates.any(axis=1)
    idx = np.where(has, np.argmax(candidates, axis=1), np.argmin(search, axis=1))
    return idx + tau_min


def yin(
    frames: np.ndarray, *, sr: int, win: int, tau_min: int, tau_max: int, threshold: float = 0.15
) -> tuple[np.ndarray, np.ndarray]:
    """F0 and aperiodicity of each frame by YIN, frame by frame (no tracking).

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
    cmndf = _cmndf(frames, win=win, tau_max=tau_max)
    tau = _yin_pick(cmndf, tau_min, tau_max, threshold)
    aperiodicity = cmndf[np.arange(n), tau]
    f0 = _refined_f0(cmndf, tau, sr=sr, tau_min=tau_min, tau_max=tau_max)
    return f0.astype(np.float32), aperiodicity.astype(np.float32)


PITCH_CANDIDATES = 8
"""Pitch candidates kept per frame for the tracker: YIN's own choice and the deepest other dips."""
CANDIDATE_MAX_APERIODICITY = 0.8
"""Dips shallower than this are not pitch candidates."""


@dataclass
class _Raw:
    """Per-frame measurements before the voicing clean-up and the pitch path."""

    level: np.ndarray  # (n,) dBFS
    aperiodicity: np.ndarray  # (n,) at YIN's choice
    voiced: np.ndarray  # (n,) bool, before isolated frames are dropped
    periodic: np.ndarray  # (n,) bool: voiced but for the silence floor
    log2_f0: np.ndarray  # (n, K) log2 F0 of the candidates; column 0 is YIN's choice
    cost: np.ndarray  # (n, K) their normalised difference; inf = no candidate

    def __len__(self) -> int:
        return len(self.level)

    def tail(self, start: int) -> _Raw:
        return _Raw(
            self.level[start:],
            self.aperiodicity[start:],
            self.voiced[start:],
            self.periodic[start:],
            self.log2_f0[start:],
            self.cost[start:],
        )

    @classmethod
    def concat(cls, a: _Raw, b: _Raw) -> _Raw:
        return cls(
            *(
                np.concatenate([getattr(a, k), getattr(b, k)])
                for k in ("level", "aperiodicity", "voiced", "periodic", "log2_f0", "cost")
            )
        )

    @classmethod
    def empty(cls) -> _Raw:
        z = np.zeros(0, np.float32)
        zk = np.zeros((0, PITCH_CANDIDATES), np.float64)
        return cls(z, z.copy(), np.zeros(0, bool), np.zeros(0, bool), zk, zk.copy())


def _raw_block(frames: np.ndarray, geo: FrameGeometry, sr: int, config: ProsodyConfig) -> _Raw:
    n = len(frames)
    level = loudness_db(frames[:, : geo.win])
    cmndf = _cmndf(frames, win=geo.win, tau_max=geo.tau_max)
    tau0 = _yin_pick(cmndf, geo.tau_min, geo.tau_max, config.yin_threshold)
    rows = np.arange(n)
    aper = cmndf[rows, tau0]
    # Candidates: YIN's pick, then the deepest other dips.
    search = cmndf[:, geo.tau_min : geo.tau_max + 1]
    dips = np.where(_troughs(search) & (search < CANDIDATE_MAX_APERIODICITY), search, np.inf)
    dips[rows, tau0 - geo.tau_min] = np.inf
    k = PITCH_CANDIDATES - 1
    order = np.argsort(dips, axis=1, kind="stable")[:, :k]
    tau = np.concatenate([tau0[:, None], order + geo.tau_min], axis=1)
    cost = np.concatenate([aper[:, None], np.take_along_axis(dips, order, axis=1)], axis=1)
    f0 = np.clip(
        _refined_f0(cmndf, tau, sr=sr, tau_min=geo.tau_min, tau_max=geo.tau_max), config.fmin_hz, config.fmax_hz
    )
    log2_f0 = np.log2(f0)
    # A periodic signal is just as periodic at twice its period: a small cost per octave below
    # fmax makes the path prefer the period to its multiples when they are equally deep.
    cost = cost + config.octave_cost * (np.log2(config.fmax_hz) - log2_f0)
    periodic = aper < config.voicing_max_aperiodicity
    voiced = periodic & (level > config.silence_floor_db)
    return _Raw(level.astype(np.float32), aper.astype(np.float32), voiced, periodic, log2_f0, cost)


class _Tracker:
    """Turns per-frame measurements into Frames, in order, with a fixed delay.

    * Voicing: a voiced frame with no voiced neighbour is dropped (noise that happened to look
      periodic). The first frame of a stream, and the last one at ``flush``, have one neighbour.
    * Pitch: within each run of voiced frames, the F0 path is the sequence of candidates that
      minimises the sum of the candidates' normalised differences plus ``octave_jump_cost`` per
      octave between consecutive frames: a Viterbi search, like Praat's path finder. Frame by frame,
      YIN must choose between dips at the period and at fractions of it; in narrowband (phone)
      speech, with the fundamental filtered out, a single strong harmonic often makes a fraction
      of the period look as periodic as the period itself, and frame-wise choices flip between
      octaves. The path keeps the whole run on one reading. A frame's pitch is decided once
      ``lookahead`` more frames of its run have been seen (or the run has ended), so a frame is
      released ``lookahead + 1`` frames after it was measured, whatever the audio: two channels
      fed the same number of samples always release the same number of frames.
    """

    def __init__(self, config: ProsodyConfig):
        self.jump = float(config.octave_jump_cost)
        self.lookahead = max(0, int(round(config.pitch_lookahead_ms / config.hop_ms)))
        self._raw = _Raw.empty()  # frames not yet released, starting at stream frame self._released
        self._released = 0
        self._received = 0
        self._voiced: list[bool] = []  # final voicing of pending frames, in order
        self._relative: list[bool] = []  # final voicing against the relative floor (a superset)
        self._floor = RelativeFloor(
            hop_s=config.hop_ms / 1000,
            ceiling_db=config.silence_floor_db,
            below_speech_db=config.relative_floor_below_speech_db,
            above_noise_db=config.relative_floor_above_noise_db,
        )
        self._relative_raw: deque[bool] = deque()  # raw relative voicing of the frames not yet settled
        self._prev_raw_relative: bool | None = None
        self._f0: list[float] = []  # decided F0 of pending frames (NaN = unvoiced or undecided)
        self._prev_raw_voiced: bool | None = None  # raw voicing of the frame before the next to settle
        self._settled = 0  # stream frames whose voicing is final
        # the current voiced run: accumulated path cost per candidate of its last frame, back
        # pointers and candidates of its undecided frames (oldest first)
        self._cum: np.ndarray | None = None
        self._undecided: list[int] = []  # stream frame indices
        self._backs: list[np.ndarray] = []  # back pointer into each undecided frame but the oldest
        self._cands: list[np.ndarray] = []  # log2 F0 candidates of each undecided frame

    @property
    def released(self) -> int:
        return self._released

    def push(self, raw: _Raw) -> Frames:
        relative = raw.periodic & self._floor.above(raw.level, raw.periodic)
        self._relative_raw.extend((relative | raw.voiced).tolist())
        self._raw = _Raw.concat(self._raw, raw) if len(self._raw) else raw
        self._received += len(raw)
        # a frame's voicing is final once its right neighbour is known
        while self._settled < self._received - 1:
            self._settle(right=self._raw_at(self._settled + 1).voiced, right_relative=self._relative_raw[1])
        return self._release(self._received - self.lookahead - 1)

    def flush(self) -> Frames:
        while self._settled < self._received:
            self._settle(right=None, right_relative=None)
        self._end_run()
        return self._release(self._received)

    # ---------------------------------------------------------------- internals
    def _raw_at(self, frame: int) -> _RawFrame:
        i = frame - self._released
        r = self._raw
        return _RawFrame(bool(r.voiced[i]), r.log2_f0[i], r.cost[i])

    def _settle(self, *, right: bool | None, right_relative: bool | None) -> None:
        frame = self._settled
        raw = self._raw_at(frame)
        v = _keep(raw.voiced, self._prev_raw_voiced, right)
        self._prev_raw_voiced = raw.voiced
        relative = self._relative_raw.popleft()
        self._relative.append(_keep(relative, self._prev_raw_relative, right_relative))
        self._prev_raw_relative = relative
        self._settled += 1
        self._voiced.append(v)
        self._f0.append(np.nan)
        if v:
            self._step(frame, raw)
        else:
            self._end_run()

    def _step(self, frame: int, raw: _RawFrame) -> None:
        if self._cum is None:
            self._cum = raw.cost.copy()
        else:
            prev = self._cands[-1]
            total = self._cum[:, None] + self.jump * np.abs(prev[:, None] - raw.log2_f0[None, :])
            back = np.argmin(total, axis=0)
            self._cum = total[back, np.arange(len(back))] + raw.cost
            self._backs.append(back)
        self._undecided.append(frame)
        self._cands.append(raw.log2_f0)
        if len(self._undecided) > self.lookahead:
            self._decide(1)

    def _decide(self, count: int) -> None:
        """Fix the pitch of the ``count`` oldest undecided frames from the best path so far."""
        assert self._cum is not None  # set by the first frame, before any decision
        state = int(np.argmin(self._cum))
        states = [state]
        for back in reversed(self._backs):
            state = int(back[state])
            states.append(state)
        states.reverse()  # one per undecided frame, oldest first
        for frame, cands, state in zip(self._undecided[:count], self._cands[:count], states[:count], strict=False):
            self._f0[frame - self._released] = float(2.0 ** cands[state])
        del self._undecided[:count], self._cands[:count], self._backs[:count]

    def _end_run(self) -> None:
        if self._cum is not None:
            self._decide(len(self._undecided))
            self._cum = None
            self._backs = []

    def _release(self, upto: int) -> Frames:
        n = min(upto, self._settled) - self._released
        if n <= 0:
            return Frames.empty()
        r = self._raw
        out = Frames(
            np.asarray(self._f0[:n], np.float32),
            r.aperiodicity[:n].copy(),
            np.asarray(self._voiced[:n], bool),
            r.level[:n].copy(),
            np.asarray(self._relative[:n], bool),
        )
        self._raw = r.tail(n)
        del self._f0[:n], self._voiced[:n], self._relative[:n]
        self._released += n
        return out


def _keep(voiced: bool, left: bool | None, right: bool | None) -> bool:
    """A voiced frame with no voiced neighbour is dropped; the first and last frames of a stream
    have one neighbour, and are kept."""
    if voiced and left is not None and right is not None:
        return bool(left or right)
    return voiced


@dataclass
class _RawFrame:
    voiced: bool
    log2_f0: np.ndarray
    cost: np.ndarray


def analyze_frames(y: np.ndarray, *, sr: int, config: ProsodyConfig = ProsodyConfig()) -> Frames:
    """Prosody of every complete frame of ``y`` (mono float32). See the module docstring."""
    geo = FrameGeometry.from_config(config, sr)
    y = np.asarray(y, dtype=np.float32)
    if len(y) < geo.frame_length:
        return Frames.empty()
    frames = sliding_window_view(y, geo.frame_length)[:: geo.hop]
    tracker = _Tracker(config)
    parts = [tracker.push(raw) for raw in _raw_blocks(frames, geo, sr, config)]
    parts.append(tracker.flush())
    return Frames.concat(parts)


_BLOCK_FRAMES = 256  # frames per vectorised YIN call: keeps the work arrays in cache


def _raw_blocks(frames: np.ndarray, geo: FrameGeometry, sr: int, config: ProsodyConfig):
    for i in range(0, len(frames), _BLOCK_FRAMES):
        yield _raw_block(frames[i : i + _BLOCK_FRAMES], geo, sr, config)


def frame_times_s(
    n_frames: int, *, start_frame: int = 0, sr: int, config: ProsodyConfig = ProsodyConfig()
) -> np.ndarray:
    """Time in seconds of frames ``start_frame .. start_frame + n_frames``."""
    geo = FrameGeometry.from_config(config, sr)
    idx = np.arange(start_frame, start_frame + n_frames)
    return (idx * geo.hop + geo.win / 2) / sr


class FrameAnalyzer:
    """Streaming ``analyze_frames``: feed any chunk sizes, get the frames that became final.

    Fed the same samples, the concatenated output equals ``analyze_frames`` on the whole signal,
    plus (after ``finish``) the frames whose window runs past the end, zero-padded, so that the
    stream yields one frame per hop of input. A frame is final ``pitch_lookahead_ms`` plus one hop
    after its window is complete (the pitch path looks that far ahead; see ``_Tracker``); the
    delay is fixed, so two analyzers fed the same number of samples return the same number of
    frames.
    """

    def __init__(self, *, sr: int, config: ProsodyConfig = ProsodyConfig()):
        self.sr = sr
        self.config = config
        self.geo = FrameGeometry.from_config(config, sr)
        self._buf = np.zeros(0, np.float32)
        self._buf_start = 0  # stream sample index of _buf[0]
        self._next_frame = 0  # frames measured
        self._total = 0
        self._tracker = _Tracker(config)

    @property
    def frames_done(self) -> int:
        """Frames returned so far."""
        return self._tracker.released

    def feed(self, audio: np.ndarray) -> Frames:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        self._total += len(audio)
        self._buf = np.concatenate([self._buf, audio]) if len(self._buf) else audio.copy()
        return self._drain(final=False)

    def finish(self) -> Frames:
        return self._drain(final=True)

    def _drain(self, *, final: bool) -> Frames:
        geo = self.geo
        n_total = -(-self._total // geo.hop)  # one frame per (started) hop
        if final and n_total > self._next_frame:
            need_end = (n_total - 1) * geo.hop + geo.frame_length
            pad = need_end - (self._buf_start + len(self._buf))
            if pad > 0:
                self._buf = np.concatenate([self._buf, np.zeros(pad, np.float32)])
        start = self._next_frame * geo.hop - self._buf_start
        available = len(self._buf) - start
        n = 1 + (available - geo.frame_length) // geo.hop if available >= geo.frame_length else 0
        if final:
            n = max(0, min(n, n_total - self._next_frame))
        parts = []
        if n > 0:
            window = sliding_window_view(self._buf[start:], geo.frame_length)[:: geo.hop][:n]
            parts = [self._tracker.push(raw) for raw in _raw_blocks(window, geo, self.sr, self.config)]
            self._next_frame += n
            drop = self._next_frame * geo.hop - self._buf_start
            self._buf = self._buf[drop:]
            self._buf_start += drop
        if final:
            parts.append(self._tracker.flush())
        return Frames.concat(parts)
