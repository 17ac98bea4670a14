"""The speaker's calm reference: from a profile (``voice-coach calibrate``) or self-calibrated.

Self-calibration cuts the speaker's voiced speech into blocks of ``block_s`` and takes, per
feature, a quantile (``quantile``, default the median) of the block medians, not their mean. It is provisional after
``min_speech_s`` and is refined with calm blocks only (see ``BaselineEstimator``).
Why: a call that starts heated has its loud, high, fast blocks at the top of the distribution;
the quantile follows the calmer blocks, so one heated minute does not become the reference. Nor
does it need a calm start: as long as more than half of the early speech is calm, that is what it
finds. A call that is heated from its first word to its last cannot be judged against itself;
use a profile for such agents.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from voice_coach.config import BaselineConfig
from voice_coach.errors import ConfigError
from voice_coach.output.files import write_text_atomic

PROFILE_KIND = "voice-coach-profile"
VOICEPRINT_DIM = 256
"""Length of a voice print: one GE2E speaker embedding (``voice_coach.voices.encoder``)."""


@dataclass(frozen=True)
class Baseline:
    """A calm reference. Unknown values are None (e.g. too few syllables to rate)."""

    pitch_median_hz: float | None
    loudness_median_db: float | None
    articulation_rate_sps: float | None
    source: str  # "profile" or "self-calibrated"
    speech_s: float = 0.0
    voiceprint: tuple[float, ...] | None = field(default=None, repr=False)
    """The agent's voice print from ``calibrate`` (``VOICEPRINT_DIM`` floats, a unit vector), used only to tell
    the agent's voice from the customer's in a mono recording; None without one. Biometric data: it never
    leaves the profile file, so ``to_dict`` (events, results) leaves it out. See docs/voiceprint.md."""

    def to_dict(self) -> dict:
        """The reference values, for events and results (the voice print is left out)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "voiceprint"}
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in values.items()}


class BaselineEstimator:
    """Collects blocks of calm speech: a provisional baseline after ``min_speech_s``, refined with
    calm blocks until ``calibration_speech_s``, then frozen.

    Before the provisional baseline exists every block counts (the quantile keeps a heated
    start from setting it). After that, a block counts only if every step in it was calm
    (``add(..., calm=True)``): the caller says so from the speaker's agitation against the baseline
    of the moment and from whether a warning is active. So agitated speech never pulls it up.
    """

    def __init__(self, config: BaselineConfig = BaselineConfig(), *, hop_s: float = 0.01):
        self.config = config
        self.hop_s = hop_s
        self._block_frames = max(1, int(round(config.block_s / hop_s)))
        self._pitch: list[float] = []
        self._level: list[float] = []
        self._rates: list[float] = []
        self._cur_f0: list[float] = []
        self._cur_level: list[float] = []
        self._cur_rates: list[float] = []
        self._cur_calm = True
        self.speech_s = 0.0
        """Voiced speech in the blocks the baseline rests on."""
        self.rejected_s = 0.0
        """Voiced speech left out because it was not calm."""

    @property
    def frozen(self) -> bool:
        return self.speech_s >= self.config.calibration_speech_s

    @property
    def ready(self) -> bool:
        return self.speech_s >= self.config.min_speech_s

    @property
    def heard_s(self) -> float:
        """All voiced speech seen, the open block included."""
        return self.speech_s + self.rejected_s + len(self._cur_f0) * self.hop_s

    def add(
        self,
        *,
        voiced: np.ndarray,
        f0_hz: np.ndarray,
        loudness_db: np.ndarray,
        rate_sps: float | None = None,
        calm: bool = True,
    ) -> None:
        """Add one step of frames and the speaker's trailing articulation rate at its end.
        ``calm`` False marks the open block as not calm (it will not count once a baseline exists)."""
        if self.frozen:
            return
        v = np.asarray(voiced, dtype=bool)
        if not v.any():
            return
        self._cur_calm &= calm
        self._cur_f0.extend(np.asarray(f0_hz)[v].tolist())
        self._cur_level.extend(np.asarray(loudness_db)[v].tolist())
        if rate_sps is not None:
            self._cur_rates.append(rate_sps)
        if len(self._cur_f0) >= self._block_frames:
            self._close_block()

    def flush(self, *, min_s: float | None = None) -> None:
        """Close the open partial block if it holds at least ``min_s`` of voiced speech (default:
        half a block), e.g. at the end of a calibration recording."""
        need = 0.5 * self.config.block_s if min_s is None else min_s
        if self._cur_f0 and len(self._cur_f0) * self.hop_s >= need - 1e-9:
            self._close_block()

    def _close_block(self) -> None:
        seconds = len(self._cur_f0) * self.hop_s
        if self._cur_calm or not self.ready:
            self._pitch.append(float(np.median(np.log2(self._cur_f0))))
            self._level.append(float(np.median(self._cur_level)))
            if self._cur_rates:
                self._rates.append(float(np.median(self._cur_rates)))
            self.speech_s += seconds
        else:
            self.rejected_s += seconds
        self._cur_f0, self._cur_level, self._cur_rates = [], [], []
        self._cur_calm = True

    def estimate(self, *, quantile: float | None = None, min_speech_s: float | None = None) -> Baseline | None:
        """The baseline so far, or None before ``min_speech_s`` (default: the configured one) of
        voiced speech."""
        need = self.config.min_speech_s if min_speech_s is None else min_speech_s
        if self.speech_s < need or not self._level:
            return None
        q = self.config.quantile if quantile is None else quantile
        pitch = 2.0 ** float(np.quantile(self._pitch, q))
        level = float(np.quantile(self._level, q))
        rate = float(np.quantile(self._rates, q)) if len(self._rates) >= 2 else None
        return Baseline(pitch, level, rate, "self-calibrated", round(self.speech_s, 2))


def save_profile(baseline: Baseline, path: str | Path, *, sources: list[str]) -> None:
    """Write a calibration profile as JSON, atomically; with the baseline's voice print when it has one."""
    data = {"kind": PROFILE_KIND, "version": 1, **baseline.to_dict(), "source": "profile", "sources": sources}
    if baseline.voiceprint is not None:
        data["voiceprint"] = [round(float(x), 6) for x in baseline.voiceprint]
    write_text_atomic(Path(path), json.dumps(data, indent=2) + "\n")


def load_profile(path: str | Path) -> Baseline:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: profile not found (make one with: voice-coach calibrate CALM.wav --out {path})"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ConfigError(f"{path}: not a voice-coach profile (invalid JSON)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read profile ({exc.strerror})") from None
    if not isinstance(data, dict) or data.get("kind") != PROFILE_KIND:
        raise ConfigError(f"{path}: not a voice-coach profile (make one with: voice-coach calibrate)")

    def number(key: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise ConfigError(f"{path}: profile value '{key}' must be a number, got {value!r}")
        return float(value)

    baseline = Baseline(
        number("pitch_median_hz"),
        number("loudness_median_db"),
        number("articulation_rate_sps"),
        "profile",
        number("speech_s") or 0.0,
        _voiceprint(data.get("voiceprint"), path),
    )
    if baseline.loudness_median_db is None:
        raise ConfigError(f"{path}: profile has no loudness_median_db; recalibrate with more calm speech")
    return baseline


def _voiceprint(value: object, path: Path) -> tuple[float, ...] | None:
    """A profile's voice print: absent (older profiles, ``calibrate --no-voiceprint``) or ``VOICEPRINT_DIM``
    finite numbers, normalised to a unit vector."""
    if value is None:
        return None
    fix = "recalibrate, or delete the 'voiceprint' entry to go without one"
    if not isinstance(value, list) or len(value) != VOICEPRINT_DIM:
        got = f"{len(value)} values" if isinstance(value, list) else type(value).__name__
        raise ConfigError(f"{path}: profile 'voiceprint' must be a list of {VOICEPRINT_DIM} numbers, got {got}; {fix}")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in value):
        raise ConfigError(f"{path}: profile 'voiceprint' holds a value that is not a finite number; {fix}")
    vec = np.asarray(value, dtype=np.float64)
    norm = float(np.linalg.norm(vec))
    if norm == 0.0:
        raise ConfigError(f"{path}: profile 'voiceprint' is all zeros; {fix}")
    return tuple(float(x) for x in vec / norm)
