"""The numpy GE2E encoder (voice_coach/voices/encoder.py): shapes, norms, determinism, the LSTM against
the textbook equations, and speaker similarity on the shipped two-voice call. No torch needed
(benchmarks/check_ge2e.py compares it with Resemblyzer itself)."""

from __future__ import annotations

import numpy as np
import pytest

from voice_coach.errors import AudioError
from voice_coach.sources.decode import load_audio
from voice_coach.voices import encoder as enc_module
from voice_coach.voices.encoder import EMBEDDING_DIM, load_encoder

SR = 16000


@pytest.fixture(scope="module")
def enc():
    return load_encoder()


@pytest.fixture(scope="module")
def call(samples_dir):
    """samples/call_stereo.wav: agent (espeak en-us) left, customer (en-us+f3) right, taking turns."""
    return load_audio(samples_dir / "call_stereo.wav")


def _active_starts(y: np.ndarray, n: int, window_s: float = 1.6) -> np.ndarray:
    """``n`` window starts where the channel is loudest (inside its own turns)."""
    hop = SR // 10
    k = (y.size - int(window_s * SR)) // hop
    energy = np.array([np.mean(y[i * hop : i * hop + int(window_s * SR)] ** 2) for i in range(k)])
    best = np.argsort(energy)[::-1]
    chosen: list[int] = []
    for i in best:  # spread out: at least 2 s apart
        if all(abs(i - j) >= 20 for j in chosen):
            chosen.append(int(i))
        if len(chosen) == n:
            break
    return np.array(sorted(chosen)) * 0.1


def test_weights_are_the_shipped_array_file_with_its_licence():
    z = np.load(enc_module.WEIGHTS, allow_pickle=False)
    assert {"mel_fb", "window", "w_ih0", "w_hh2", "w_out", "b_out"} <= set(z.files)
    assert all(z[k].dtype == np.float32 for k in z.files)
    assert z["w_ih0"].shape == (40, 1024) and z["w_hh1"].shape == (256, 1024) and z["w_out"].shape == (256, 256)
    n = sum(z[k].size for k in z.files if k not in ("mel_fb", "window"))
    assert 1.4e6 < n < 1.45e6  # 5.7 MB of float32 parameters
    licence = enc_module.WEIGHTS.with_name("LICENSE-resemblyzer").read_text(encoding="utf-8")
    assert "Apache License" in licence and "Resemble" in licence


def test_lstm_matches_the_textbook_equations(enc):
    """The gate trick (one tanh for all gates) against a plain float64 LSTM with sigmoids."""
    rng = np.random.default_rng(1)
    mels = rng.gamma(1.0, 0.5, size=(3, 12, 40)).astype(np.float32)
    z = np.load(enc_module.WEIGHTS)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    seq = mels.astype(np.float64)
    for k in range(3):
        w_ih, w_hh, b = (z[f"{n}{k}"].astype(np.float64) for n in ("w_ih", "w_hh", "b"))
        h = np.zeros((3, 256))
        c = np.zeros((3, 256))
        outs = []
        for t in range(seq.shape[1]):
            g = seq[:, t] @ w_ih + h @ w_hh + b
            i, f, gg, o = sig(g[:, :256]), sig(g[:, 256:512]), np.tanh(g[:, 512:768]), sig(g[:, 768:])
            c = f * c + i * gg
            h = o * np.tanh(c)
            outs.append(h)
        seq = np.stack(outs, axis=1)
    e = np.maximum(h @ z["w_out"] + z["b_out"], 0)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    np.testing.assert_allclose(enc.embed_mels(mels), e, atol=2e-6)


def test_mel_front_end_puts_a_tone_in_its_mel_band(enc):
    t = np.arange(SR) / SR
    mel = enc.mel_frames(0.1 * np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    assert mel.shape == (SR // 160 + 1, 40)
    peak_band = int(np.argmax(mel[50]))
    centres = np.argmax(np.load(enc_module.WEIGHTS)["mel_fb"], axis=1) * SR / 400  # Hz of each band's peak
    assert abs(centres[peak_band] - 1000) < 120
    # power spectrum: twice the amplitude is four times the power
    mel2 = enc.mel_frames(0.2 * np.sin(2 * np.pi * 1000 * t).astype(np.float32))
    np.testing.assert_allclose(mel2[10:-10], 4 * mel[10:-10], rtol=1e-4)


def test_embeddings_are_unit_deterministic_and_batch_independent(enc, call):
    y = call[0]
    starts = np.array([0.5, 1.0, 7.25, 12.0, 30.0])
    a = enc.embed_windows(y, starts)
    assert a.shape == (5, EMBEDDING_DIM) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert (a >= 0).all()  # after the ReLU
    np.testing.assert_array_equal(a, enc.embed_windows(y, starts))
    one = enc.embed_windows(y, starts[3:4])
    np.testing.assert_allclose(one[0], a[3], atol=1e-5)
    # a 1.6 s window is exactly one partial utterance of embed_utterance
    u = enc.embed_utterance(y[int(12.0 * SR) : int(12.0 * SR) + int(1.6 * SR)])
    np.testing.assert_allclose(u, a[3], atol=1e-5)


def test_same_speaker_is_nearer_than_the_other_speaker(enc, call):
    agent = enc.embed_windows(call[0], _active_starts(call[0], 6))
    customer = enc.embed_windows(call[1], _active_starts(call[1], 6))
    within = np.concatenate([(agent @ agent.T)[np.triu_indices(6, 1)], (customer @ customer.T)[np.triu_indices(6, 1)]])
    across = (agent @ customer.T).ravel()
    assert within.mean() > across.mean() + 0.1
    # utterance embeddings: each half of a voice's windows is nearer its own other half
    a1, a2 = (enc.embed_utterance(call[0][int(s * SR) : int(s * SR) + 3 * SR]) for s in (0.5, 30.0))
    c1 = enc.embed_utterance(call[1][int(16 * SR) : int(16 * SR) + 3 * SR])
    assert a1 @ a2 > a1 @ c1


def test_short_windows_repeat_their_audio(enc, call):
    y = call[0]
    # a 0.8 s stretch repeated to 1.6 s is the embedding of that repeated audio
    piece = y[int(1.0 * SR) : int(1.8 * SR)]
    e = enc.embed_windows(y, np.array([1.0]), ends_s=np.array([1.8]))
    np.testing.assert_allclose(e[0], enc.embed_utterance(np.tile(piece, 2)), atol=1e-5)
    # windows reaching past either end of the recording are zero there, and still unit vectors
    edge = enc.embed_windows(y, np.array([-0.5, y.size / SR - 1.0]))
    np.testing.assert_allclose(np.linalg.norm(edge, axis=1), 1.0, atol=1e-5)


def test_other_sample_rates_are_refused(enc):
    with pytest.raises(AudioError, match="16000 Hz"):
        enc.embed_utterance(np.zeros(8000, np.float32), sample_rate=8000)
