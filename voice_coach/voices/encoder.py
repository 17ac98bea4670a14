"""Speaker embeddings: Resemblyzer's GE2E voice encoder, run in numpy.

The model is the one Resemblyzer (Resemble AI, Apache-2.0) ships in its ``resemblyzer`` 0.1.4 wheel
as ``resemblyzer/pretrained.pt``: a generalised end-to-end (GE2E) speaker encoder. Its parameters
(5.7 MB as float32) were converted once by ``tools/convert_ge2e.py`` into ``ge2e.npz`` beside this
module, with the mel filterbank its front end needs; the licence is ``LICENSE-resemblyzer`` beside
it. Nothing here needs torch, librosa or a download.

The model, as Resemblyzer defines it:

- front end: a power (not log) mel spectrogram of 16 kHz audio, 25 ms Hann windows (n_fft 400) every
  10 ms, frames centred on multiples of 10 ms with zero padding at the ends, 40 Slaney mel bands;
- a 3-layer LSTM of 256 units over 160 frames (1.6 s, a "partial utterance"); its last hidden state
  of the last layer goes through a 256x256 linear projection and a ReLU, and is L2-normalised;
- an utterance is cut into partials 1/1.3 s apart (the last kept if it covers >= 75 % of a partial,
  zero-padded), and its embedding is the L2-normalised mean of the partials' embeddings.

``VoiceEncoder.embed_utterance`` reproduces Resemblyzer's ``embed_utterance`` on the same array;
``benchmarks/check_ge2e.py`` compares the two on real speech (jfk, the stereo call, RAVDESS clips):
the largest absolute difference of any embedding component measured was 5.6e-07 (float32
round-off; see docs/benchmarks/separation.md).

The LSTM runs over a whole batch of windows at once, layer by layer: a layer's input projection is
one matrix product for all time steps, then one (batch x 256) by (256 x 1024) product per step.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from voice_coach.errors import AudioError

__all__ = ["EMBEDDING_DIM", "VoiceEncoder", "load_encoder"]

WEIGHTS = Path(__file__).with_name("ge2e.npz")
SAMPLE_RATE = 16000
HOP = 160  # 10 ms
N_FFT = 400  # 25 ms
PARTIAL_FRAMES = 160  # 1.6 s
PARTIAL_RATE = 1.3  # partials per second in embed_utterance
MIN_COVERAGE = 0.75
HIDDEN = 256
EMBEDDING_DIM = 256
LAYERS = 3
BLOCK = 128
"""Windows run through the LSTM together (memory: ~160 x 1024 x 4 bytes = 0.66 MB per window)."""


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while the LSTM runs. Its per-step products are small (128 x 256 by 256 x
    1024), and when the cores are busy (ASR threads, batch workers, other programs) OpenBLAS's
    spinning worker threads made the encoder 4-5x slower than one thread (measured here on 2 shared
    cores); on idle cores a second thread gains little on products this small."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency; without it, BLAS as configured
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class VoiceEncoder:
    """The GE2E encoder, with its parameters in memory (load once with ``load_encoder()``)."""

    def __init__(self, path: Path = WEIGHTS):
        with np.load(path, allow_pickle=False) as z:
            p = {k: z[k].astype(np.float32) for k in z.files}
        self.mel_fb = p["mel_fb"].T.copy()  # (201, 40)
        self.window = p["window"]
        # sigmoid(x) = (tanh(x / 2) + 1) / 2: the i, f and o gates' weights are halved here so that one
        # tanh over all four gates serves every nonlinearity of a step.
        scale = np.ones(4 * HIDDEN, dtype=np.float32)
        scale[: 2 * HIDDEN] = 0.5  # i, f
        scale[3 * HIDDEN :] = 0.5  # o
        self.w_ih = [p[f"w_ih{k}"] * scale for k in range(LAYERS)]
        self.w_hh = [p[f"w_hh{k}"] * scale for k in range(LAYERS)]
        self.b = [p[f"b{k}"] * scale for k in range(LAYERS)]
        self.w_out, self.b_out = p["w_out"], p["b_out"]

    # ------------------------------------------------------------------------------------ front end
    def mel_frames(self, audio: np.ndarray) -> np.ndarray:
        """``(n // 160 + 1, 40)`` float32 power mel spectrogram, frames centred every 10 ms."""
        x = np.asarray(audio, dtype=np.float32)
        padded = np.pad(x, N_FFT // 2)
        n = x.size // HOP + 1
        frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n]
        return self._mel(frames)

    def _mel(self, frames: np.ndarray) -> np.ndarray:
        spec = np.fft.rfft(frames * self.window, axis=-1)
        power = (spec.real**2 + spec.imag**2).astype(np.float32)
        return power @ self.mel_fb

    # ------------------------------------------------------------------------------------ network
    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """``(batch, frames, 40)`` mel spectrograms -> ``(batch, 256)`` unit embeddings."""
        mels = np.asarray(mels, dtype=np.float32)
        out = np.empty((mels.shape[0], EMBEDDING_DIM), dtype=np.float32)
        with _one_blas_thread():
            for i in range(0, mels.shape[0], BLOCK):
                out[i : i + BLOCK] = self._forward(mels[i : i + BLOCK])
        return out

    def _forward(self, mels: np.ndarray) -> np.ndarray:
        batch, steps, _ = mels.shape
        seq = mels
        h = np.zeros((batch, HIDDEN), dtype=np.float32)
        for k in range(LAYERS):
            # input projection of every step at once: (batch, steps, 1024)
            proj = seq.reshape(batch * steps, -1) @ self.w_ih[k]
            proj += self.b[k]
            proj = proj.reshape(batch, steps, 4 * HIDDEN)
            last = k == LAYERS - 1
            outs = None if last else np.empty((batch, steps, HIDDEN), dtype=np.float32)
            h = np.zeros((batch, HIDDEN), dtype=np.float32)
            c = np.zeros((batch, HIDDEN), dtype=np.float32)
            gates = np.empty((batch, 4 * HIDDEN), dtype=np.float32)
            tmp = np.empty((batch, HIDDEN), dtype=np.float32)
            w_hh = self.w_hh[k]
            for t in range(steps):
                np.matmul(h, w_hh, out=gates)
                gates += proj[:, t]
                np.tanh(gates, out=gates)
                i_g, f_g, g_g, o_g = (gates[:, j * HIDDEN : (j + 1) * HIDDEN] for j in range(4))
                # sigmoid = (tanh + 1) / 2 for i, f, o
                f_g += 1.0
                f_g *= 0.5
                c *= f_g
                i_g += 1.0
                i_g *= 0.5
                i_g *= g_g
                c += i_g
                np.tanh(c, out=tmp)
                o_g += 1.0
                o_g *= 0.5
                np.multiply(o_g, tmp, out=h)
                if outs is not None:
                    outs[:, t] = h
            if outs is not None:
                seq = outs
        emb = h @ self.w_out
        emb += self.b_out
        np.maximum(emb, 0.0, out=emb)
        return _unit_rows(emb)

    # ------------------------------------------------------------------------------------ use
    def embed_windows(
        self,
        audio: np.ndarray,
        starts_s: np.ndarray,
        *,
        window_s: float = 1.6,
        sample_rate: int = SAMPLE_RATE,
        ends_s: np.ndarray | None = None,
    ) -> np.ndarray:
        """``(len(starts_s), 256)`` unit embeddings of the windows ``[start, start + window_s)``.

        Each window is embedded as Resemblyzer's ``embed_utterance`` embeds that stretch of audio on
        its own (zero beyond the recording's ends); a 1.6 s window is one partial utterance.
        With ``ends_s``, a window stops at its end when that comes sooner, and its audio is repeated
        to fill ``window_s`` (a short stretch of speech stays the same voice, where zeros or the
        neighbouring audio would not). Windows are processed in blocks, so memory does not grow
        with their number."""
        _check_rate(sample_rate)
        x = np.asarray(audio, dtype=np.float32).ravel()
        starts = np.asarray(starts_s, dtype=np.float64).ravel()
        length = int(round(window_s * SAMPLE_RATE))
        if length < HOP:
            raise AudioError(f"window_s = {window_s}: must be at least 0.01 s")
        if ends_s is None:
            limits = np.full(starts.size, length, dtype=np.int64)
        else:
            ends = np.asarray(ends_s, dtype=np.float64).ravel()
            limits = np.clip(np.round((ends - starts) * SAMPLE_RATE), 1, length).astype(np.int64)
        out = np.empty((starts.size, EMBEDDING_DIM), dtype=np.float32)
        slices = _partial_starts(length)
        with _one_blas_thread():
            self._embed_blocks(x, starts, limits, length, slices, out)
        return out

    def _embed_blocks(
        self, x: np.ndarray, starts: np.ndarray, limits: np.ndarray, length: int, slices: list[int], out: np.ndarray
    ) -> None:
        for i in range(0, starts.size, BLOCK):
            block = zip(starts[i : i + BLOCK], limits[i : i + BLOCK], strict=True)
            mels = np.stack([self._partials_of(_cut(x, s, length, int(n)), slices) for s, n in block])
            # (windows, partials, frames, 40) -> one batch of partials
            w, p = mels.shape[:2]
            partial = self._forward(mels.reshape(w * p, PARTIAL_FRAMES, -1)).reshape(w, p, EMBEDDING_DIM)
            out[i : i + BLOCK] = _unit_rows(partial.mean(axis=1))

    def embed_utterance(self, audio: np.ndarray, *, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
        """``(256,)`` unit embedding of one utterance, as Resemblyzer's ``embed_utterance`` (rate 1.3,
        min_coverage 0.75) gives for the same array."""
        _check_rate(sample_rate)
        x = np.asarray(audio, dtype=np.float32).ravel()
        slices = _partial_starts(x.size)
        mels = self._partials_of(x, slices)
        return _unit_rows(self.embed_mels(mels).mean(axis=0, keepdims=True))[0]

    def _partials_of(self, x: np.ndarray, frame_starts: list[int]) -> np.ndarray:
        """``(partials, 160, 40)``: the mel spectrogram of ``x`` zero-padded to the last partial's end,
        cut at ``frame_starts``."""
        end = (frame_starts[-1] + PARTIAL_FRAMES) * HOP
        if end >= x.size:
            x = np.pad(x, (0, end - x.size))
        mel = self.mel_frames(x)
        return np.stack([mel[s : s + PARTIAL_FRAMES] for s in frame_starts])


def _partial_starts(n_samples: int) -> list[int]:
    """First frame of each 160-frame partial of an utterance of ``n_samples`` (Resemblyzer's rule)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = int(np.round(SAMPLE_RATE / PARTIAL_RATE / HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step))
    coverage = (n_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    return starts


def _cut(x: np.ndarray, start_s: float, length: int, limit: int) -> np.ndarray:
    """``length`` samples from ``start_s``; only the first ``limit`` of them are taken from ``x``,
    and repeated to fill ``length``. Outside ``x`` is zero."""
    a = int(round(start_s * SAMPLE_RATE))
    if limit < length:
        piece = _cut(x, start_s, limit, limit)
        return np.resize(piece, length) if piece.size else np.zeros(length, dtype=np.float32)
    seg = x[max(a, 0) : max(a + length, 0)]
    if a < 0 or seg.size < length:
        out = np.zeros(length, dtype=np.float32)
        lo = max(-a, 0)
        out[lo : lo + seg.size] = seg
        return out
    return seg


def _unit_rows(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return (v / np.maximum(n, 1e-12)).astype(np.float32)


def _check_rate(sample_rate: int) -> None:
    if sample_rate != SAMPLE_RATE:
        raise AudioError(f"the voice encoder needs {SAMPLE_RATE} Hz audio, got {sample_rate} Hz")


@functools.lru_cache(maxsize=1)
def load_encoder() -> VoiceEncoder:
    """The encoder, loaded once per process."""
    return VoiceEncoder()
