"""Synthetic test signals with known answers (16 kHz float32)."""

from __future__ import annotations

import numpy as np

SR = 16000


def tone(f_hz: float, seconds: float, *, level_db: float = -12.0) -> np.ndarray:
    """A sine whose RMS level is ``level_db`` dBFS."""
    t = np.arange(int(seconds * SR)) / SR
    amp = np.sqrt(2) * 10 ** (level_db / 20)
    return (amp * np.sin(2 * np.pi * f_hz * t)).astype(np.float32)


def glide(f0_hz: float, f1_hz: float, seconds: float, *, level_db: float = -12.0) -> np.ndarray:
    """An exponential sweep from f0 to f1 (the instantaneous frequency is known at every sample)."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    k = np.log(f1_hz / f0_hz) / seconds
    phase = 2 * np.pi * f0_hz * (np.exp(k * t) - 1) / k
    return (np.sqrt(2) * 10 ** (level_db / 20) * np.sin(phase)).astype(np.float32)


def glide_f0(f0_hz: float, f1_hz: float, seconds: float, t: np.ndarray) -> np.ndarray:
    return f0_hz * (f1_hz / f0_hz) ** (t / seconds)


def voice(
    seconds: float, *, f0_hz: float = 120.0, level_db: float = -30.0, syllables_per_s: float = 4.0, seed: int = 0
) -> np.ndarray:
    """A voice-like signal: a harmonic source at ``f0_hz`` (with slight vibrato) shaped into
    syllables at ``syllables_per_s``; each syllable is a raised-sine envelope over 70 % of its slot.
    ``level_db`` is the RMS level of the syllable peaks region, roughly."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f = f0_hz * (1 + 0.02 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f) / SR
    src = sum(np.sin(k * phase) / k for k in range(1, 8))
    period = 1.0 / syllables_per_s
    pos = np.mod(t, period) / period
    env = np.where(pos < 0.7, np.sin(np.pi * pos / 0.7) ** 2, 0.0)
    y = src * env
    y = y / (np.sqrt(np.mean(y**2)) + 1e-12) * 10 ** (level_db / 20)
    y = y + rng.normal(0, 10 ** (-75 / 20), n)
    return y.astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), np.float32)
