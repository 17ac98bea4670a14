"""One speaker's streaming analysis: frames -> 0.1 s steps -> cues -> warnings.

``SpeakerAnalyzer.feed(audio)`` takes the next samples of one voice (16 kHz mono float32) and
returns the events they complete: ``Metrics`` every ``metrics_interval_s``, ``BaselineReady``,
``WarningStarted``/``WarningEnded``. It keeps a compact per-step history (a few floats per 0.1 s)
from which the final timeline and summary are built, so a one-hour call costs a few MB.

Everything is causal: a value at step ``t`` uses only audio up to ``t``. That is what makes the file
path and the live path give the same warnings.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.analysis.baseline import Baseline, BaselineEstimator
from voice_coach.analysis.cues import COMPONENTS, DEESCALATION_MESSAGE, MESSAGES, PRIORITY, CueTracker
from voice_coach.config import Config
from voice_coach.engine.events import BaselineReady, Event, Metrics, Speaker, WarningEnded, WarningStarted, Word
from voice_coach.engine.outputs import VoiceOutput, WarningRecord
from voice_coach.signal.agitation import agitation_score, cues, semitones
from voice_coach.signal.prosody import FrameAnalyzer, Frames
from voice_coach.signal.syllables import SyllablePicker

STEP_S = 0.1
"""The timeline step."""


@dataclass
class StepHistory:
    """Per-step columns (NaN = unknown). Index k is the step [0.1 k, 0.1 (k + 1))."""

    pitch_hz: list[float] = field(default_factory=list)
    loudness_db: list[float] = field(default_factory=list)
    speaking: list[bool] = field(default_factory=list)
    syllables: list[int] = field(default_factory=list)
    phonation_frames: list[int] = field(default_factory=list)  # completed in the step (SyllablePicker)
    agitation: list[float] = field(default_factory=list)  # from trailing windows, at step end
    voiced_frames: list[np.ndarray] = field(default_factory=list)  # per-frame voicing, all steps
    deescalation: list[bool] = field(default_factory=list)  # the partner (customer) was upset

    def __len__(self) -> int:
        return len(self.loudness_db)


def _nan(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def _none(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


class SpeakerAnalyzer:
    def __init__(
        self,
        speaker: Speaker,
        *,
        config: Config = Config(),
        profile: Baseline | None = None,
        metrics_interval_s: float = 0.25,
        warn: bool = True,
        calm_gate: bool = True,
    ):
        self.speaker = speaker
        self.config = config
        self.hop_s = config.prosody.hop_ms / 1000
        self.frames = FrameAnalyzer(sr=SAMPLE_RATE, config=config.prosody)
        self.picker = SyllablePicker(hop_s=self.hop_s, config=config.rate)
        self.estimator = None if profile else BaselineEstimator(config.baseline, hop_s=self.hop_s)
        self.baseline: Baseline | None = profile
        self._baseline_announced = False
        kinds = PRIORITY if speaker == "agent" else ("customer_agitated",)
        warnings = config.warnings
        if speaker == "customer":
            warnings = dataclasses.replace(warnings, sustain_s=warnings.customer_sustain_s)
        self.tracker = (
            CueTracker(warnings, kinds=kinds, time_offset_s=config.agitation.window_s / 2, step_s=STEP_S)
            if warn
            else None
        )
        self.metrics_interval_s = metrics_interval_s
        self.calm_gate = calm_gate
        """False: every block refines the baseline (calibration on speech known to be calm)."""
        self._next_metrics_t = metrics_interval_s
        self.history = StepHistory()
        self.partner: SpeakerAnalyzer | None = None  # the customer, for the agent (two voices)
        self.leak_frames: list[int] = []  # per step: frames rejected as the partner's voice
        self._upset_until = -1.0
        self.words: list[Word] = []
        self.warnings: list[WarningRecord] = []
        self.retrospective_baseline = False
        """True when the baseline only came at the end (a recording too short to calibrate while it
        played): its timeline has no agitation, and the summary judges it against its own speech."""
        self._step_frames = int(round(STEP_S / self.hop_s))
        # Frame columns not yet grouped into a step, and a trailing window of recent frames.
        self._pending: list[Frames] = []
        self._pending_n = 0
        self._frame_index = 0
        self._recent = Frames.empty()
        self._recent_start = 0
        self._recent_len = (
            int(round(max(config.agitation.window_s, config.agitation.rate_window_s, 0.5) / self.hop_s))
            + self._step_frames
        )
        self._latest: dict = {}
        # The last ``agitation.window_s`` of *voiced* frames (pitch, level), pauses skipped: a
        # sentence's first, stressed syllables are judged together with the speech before them.
        self._voiced_n = int(round(config.agitation.window_s / self.hop_s))
        self._voiced_f0 = np.zeros(0, np.float32)
        self._voiced_db = np.zeros(0, np.float32)
        # The same for the current phrase only (voiced frames since the last pause of at least
        # ``phrase_pause_s``): its loudness counts when it is louder (see ``phrase_min_voiced_s``).
        self._phrase_db: deque[float] = deque(maxlen=self._voiced_n)
        self._phrase_gap = 1 << 30  # unvoiced frames since the last voiced one
        self._phrase_pause_frames = int(round(config.agitation.phrase_pause_s / self.hop_s))
        self._phrase_min_frames = max(1, int(round(config.agitation.phrase_min_voiced_s / self.hop_s)))
        self._speech_gap_frames = int(round(config.warnings.speech_gap_s / self.hop_s))
        # Per step with speech: (syllable nuclei, phonation frames), for the speech-time rate window.
        self._rate_steps: deque[tuple[int, int]] = deque(
            maxlen=int(round(4 * config.agitation.rate_window_s / STEP_S)) + 1
        )

    # ------------------------------------------------------------------ feeding
    def feed(self, audio: np.ndarray) -> list[Event]:
        """Analyze the next samples of this voice."""
        return self.consume(self.frames.feed(audio))

    def consume(self, frames: Frames, *, final: bool = False) -> list[Event]:
        """Analyze frames already computed by ``self.frames`` (the engine does this when it needs to
        look at both voices' frames first, e.g. to reject the customer's voice leaking in)."""
        return self._consume(frames, final=final)

    def finish(self, t_end: float, frames: Frames | None = None) -> list[Event]:
        events: list[Event] = self._consume(self.frames.finish() if frames is None else frames, final=True)
        if self.baseline is None and self.estimator is not None:
            # Too little speech for a provisional baseline while it played: judge the recording
            # against its own speech, so that a short recording still gets a score.
            self.estimator.flush(min_s=self.hop_s)
            self.baseline = self.estimator.estimate(min_speech_s=0.0)
            self.retrospective_baseline = self.baseline is not None
        if self.tracker:
            for change in self.tracker.finish(t_end):
                events.append(self._ended(change, t_end))
        return events

    def add_words(self, words: list[Word]) -> None:
        self.words.extend(words)

    def output(self) -> VoiceOutput:
        """This voice's analysis so far, as a read-only snapshot (complete after ``finish``)."""
        h = self.history
        return VoiceOutput(
            speaker=self.speaker,
            step_s=STEP_S,
            hop_s=self.hop_s,
            pitch_hz=np.asarray(h.pitch_hz, dtype=float),
            loudness_db=np.asarray(h.loudness_db, dtype=float),
            speaking=np.asarray(h.speaking, dtype=bool),
            syllables=np.asarray(h.syllables, dtype=float),
            phonation_frames=np.asarray(h.phonation_frames, dtype=np.int64),
            agitation=np.asarray(h.agitation, dtype=float),
            voiced=self.voiced_frames(),
            words=tuple(self.words),
            warnings=tuple(self.warnings),
            baseline=self.baseline,
            retrospective_baseline=self.retrospective_baseline,
        )

    def voiced_frames(self) -> np.ndarray:
        """The per-frame voicing decision of every frame analysed so far, shape ``(frames,)``."""
        h = self.history
        return np.concatenate(h.voiced_frames) if h.voiced_frames else np.zeros(0, bool)

    def _consume(self, frames: Frames, *, final: bool) -> list[Event]:
        events: list[Event] = []
        if len(frames):
            self._pending.append(frames)
            self._pending_n += len(frames)
        while self._pending_n >= self._step_frames or (final and self._pending_n > 0):
            block = Frames.concat(self._pending)
            n = min(self._step_frames, len(block))
            step, rest = block.slice(None, n), block.slice(n, None)
            self._pending = [rest] if len(rest) else []
            self._pending_n = len(rest)
            events.extend(self._step(step))
        return events

    # ------------------------------------------------------------------ one step
    def _step(self, step: Frames) -> list[Event]:
        events: list[Event] = []
        self._frame_index += len(step)
        t_end = self._frame_index * self.hop_s
        # A nucleus is confirmed a few frames after its peak; it counts in the step that confirms
        # it, so the count does not depend on how the audio was chunked.
        picked = self.picker.feed(step.loudness_db, step.voiced_relative)
        syl = len(picked.nuclei)

        recent = Frames.concat([self._recent, step])
        if len(recent) > self._recent_len:
            cut = len(recent) - self._recent_len
            recent = recent.slice(cut)
            self._recent_start += cut
        self._recent = recent

        voiced = step.voiced
        pitch = float(np.median(step.f0_hz[voiced])) if voiced.any() else float("nan")
        power = np.mean(np.power(10.0, step.loudness_db.astype(np.float64) / 10.0))
        level = max(10.0 * math.log10(power), -100.0) if power > 0 else -100.0
        lookback = max(1, int(round(self.config.agitation.speaking_lookback_s / self.hop_s)))
        speaking = bool(recent.voiced[-lookback:].any())
        h = self.history
        h.pitch_hz.append(pitch)
        h.loudness_db.append(level)
        h.speaking.append(speaking)
        h.syllables.append(syl)
        h.phonation_frames.append(picked.phonation_frames)
        h.voiced_frames.append(voiced.copy())
        if voiced.any():
            self._voiced_f0 = np.concatenate([self._voiced_f0, step.f0_hz[voiced]])[-self._voiced_n :]
            self._voiced_db = np.concatenate([self._voiced_db, step.loudness_db[voiced]])[-self._voiced_n :]
        self._track_phrase(voiced, step.loudness_db)

        phonation = picked.phonation_frames
        if syl or phonation:
            self._rate_steps.append((syl, phonation))
        m = self._window_metrics(speaking, t_end)
        if self.estimator is not None and not self.estimator.frozen:
            was_frozen = self.estimator.frozen
            # Once a provisional baseline exists, only calm speech refines it.
            calm = (
                not self.calm_gate
                or self.baseline is None
                or (
                    (m["agitation"] is None or m["agitation"] < self.config.baseline.calm_max_agitation)
                    and (self.tracker is None or self.tracker.active is None)
                )
            )
            self.estimator.add(
                voiced=voiced, f0_hz=step.f0_hz, loudness_db=step.loudness_db, rate_sps=m["rate"], calm=calm
            )
            estimate = self.estimator.estimate()
            if estimate is not None and estimate != self.baseline:
                self.baseline = estimate
                if not self._baseline_announced or (self.estimator.frozen and not was_frozen):
                    events.append(BaselineReady(t_end, self.speaker, estimate.source, estimate.to_dict()))
                    self._baseline_announced = True
        elif self.baseline is not None and not self._baseline_announced:
            events.append(BaselineReady(t_end, self.speaker, self.baseline.source, self.baseline.to_dict()))
            self._baseline_announced = True

        h.agitation.append(_nan(m["agitation"]))
        h.deescalation.append(self.speaker == "agent" and self._partner_upset(t_end))
        self._latest = m
        if self.tracker:
            # Only steps of speech are evidence, for or against a warning: voiced frames in the
            # step, or an unvoiced gap (a consonant) shorter than ``speech_gap_s`` before it.
            in_speech = bool(recent.voiced[-(len(step) + self._speech_gap_frames) :].any())
            for change in self.tracker.step(t_end, m["values"] if in_speech else {}):
                events.append(self._ended(change, t_end) if change.ended else self._started(change, t_end))
        if t_end + 1e-9 >= self._next_metrics_t:
            self._next_metrics_t += self.metrics_interval_s
            events.append(self.metrics_event(t_end))
        return events

    def _window_metrics(self, speaking: bool, t_end: float) -> dict:
        cfg = self.config.agitation
        pitch_hz = level_db = None
        if speaking and len(self._voiced_f0) >= max(1, int(round(cfg.min_voiced_s / self.hop_s))):
            pitch_hz = float(np.median(self._voiced_f0))
            level_db = float(np.median(self._voiced_db))
            if len(self._phrase_db) >= self._phrase_min_frames:
                level_db = max(level_db, float(np.median(np.fromiter(self._phrase_db, np.float64))))
        rate = self._trailing_rate(cfg.rate_window_s)
        b = self.baseline
        pitch_st = semitones(pitch_hz, b.pitch_median_hz) if b else None
        level_rel = (
            level_db - b.loudness_median_db
            if (b and level_db is not None and b.loudness_median_db is not None)
            else None
        )
        score = None
        values: dict[str, float | None] = {}
        if b is not None and speaking:
            deviations: dict[str, Any] = dict(
                loudness_rel_db=level_rel,
                pitch_st=pitch_st,
                rate_sps=rate,
                baseline_rate_sps=b.articulation_rate_sps,
                config=cfg,
            )
            c = cues(**deviations)  # warning cues, 0 up to the edge of calm variation
            score = agitation_score(cues(**deviations, graded=True), cfg)  # graded from the baseline up
            warn_score = agitation_score(c, cfg)
            if self.speaker == "agent":
                wcfg = self.config.warnings
                up = sum(1 for x in c.known() if x >= wcfg.agitated_cue_level)
                agitated = (warn_score if up >= wcfg.agitated_min_cues else 0.0) if warn_score is not None else None
                values = {"loud": c.loud, "high_pitch": c.high_pitch, "fast": c.fast, "agitated": agitated}
                values.update(self._partner_cues(c, t_end, values))
            else:
                # The customer is flagged when any cue would have warned the agent.
                values = {"customer_agitated": max([*c.known(), warn_score]) if warn_score is not None else None}
        return {
            "pitch_hz": pitch_hz,
            "pitch_st": pitch_st,
            "loudness_db": level_db,
            "loudness_rel_db": level_rel,
            "rate": rate,
            "agitation": score,
            "values": values,
            "speaking": speaking,
        }

    def _partner_upset(self, t_end: float) -> bool:
        """De-escalation mode: the customer's agitation warning is on, or ended recently."""
        p = self.partner
        if p is None or p.tracker is None:
            return False
        if p.tracker.active is not None:
            self._upset_until = t_end + self.config.deescalation.upset_hold_s
        return t_end <= self._upset_until

    def _partner_cues(self, c, t_end: float, values: dict) -> dict:
        """Mirroring, and tightened thresholds while the customer is upset (two voices only)."""
        p = self.partner
        if p is None:
            return {}
        cfg = self.config.deescalation
        out: dict = {}
        if self._partner_upset(t_end) and cfg.tighten_factor > 0:
            out = {k: (None if v is None else min(1.0, v / cfg.tighten_factor)) for k, v in values.items()}
        # Mirroring: the agent's voice rises while the customer is flagged upset (their warning is
        # on, or ended less than ``upset_hold_s`` ago), the same episode logic as every warning.
        customer_hot = self._partner_upset(t_end)
        shown = {**values, **out}  # tightened while the customer is upset
        rise = max([x for x in (shown.get("loud"), shown.get("high_pitch")) if x is not None], default=None)
        out["mirroring"] = (rise if customer_hot else 0.0) if rise is not None else None
        return out

    def _track_phrase(self, voiced: np.ndarray, loudness_db: np.ndarray) -> None:
        """Keep the current phrase's voiced loudness: a pause of ``phrase_pause_s`` starts a new one."""
        for v, db in zip(voiced, loudness_db, strict=True):
            if not v:
                self._phrase_gap += 1
                continue
            if self._phrase_gap >= self._phrase_pause_frames:
                self._phrase_db.clear()
            self._phrase_db.append(float(db))
            self._phrase_gap = 0

    def _trailing_rate(self, window_s: float) -> float | None:
        """Articulation rate over the speaker's last ``window_s`` of phonation (as the syllable
        picker counts it), pauses skipped: nuclei per second of phonation. Counting speech
        time rather than clock time gives every value the same amount of evidence, so one short
        sentence between pauses does not read as fast or slow by chance."""
        need = int(round(window_s / self.hop_s))
        syllables = frames = 0
        for syl, phon in reversed(self._rate_steps):
            syllables += syl
            frames += phon
            if frames >= need:
                break
        phonation_s = frames * self.hop_s
        if phonation_s < min(self.config.rate.min_phonation_s, window_s):
            return None
        return syllables / phonation_s

    # ------------------------------------------------------------------ events
    def metrics_event(self, t: float) -> Metrics:
        m = self._latest
        wpm = None
        if self.words:
            from voice_coach.signal.rate import LIVE_TIMING_WORDS, pause_threshold_s, words_per_minute

            recent = [w for w in self.words if w.end_s >= t - self.config.rate.window_s]
            # The pause threshold is timed on the speaker's words so far, not the few in the window.
            pause_s = pause_threshold_s(self.words[-LIVE_TIMING_WORDS:], self.config.rate)
            wpm = words_per_minute(recent, pause_s=pause_s)
        r = lambda x, nd=2: None if x is None else round(x, nd)  # noqa: E731
        return Metrics(
            t=t,
            speaker=self.speaker,
            wpm=r(wpm, 1),
            syllables_per_s=r(m.get("rate")),
            pitch_hz=r(m.get("pitch_hz"), 1),
            pitch_st=r(m.get("pitch_st")),
            loudness_db=r(m.get("loudness_db"), 1),
            loudness_rel_db=r(m.get("loudness_rel_db"), 1),
            agitation=r(m.get("agitation"), 3),
            speaking=bool(m.get("speaking")),
        )

    def _message(self, kind: str, t: float) -> str:
        if self.speaker == "agent" and kind in COMPONENTS + ("agitated",) and self._partner_upset(t):
            return DEESCALATION_MESSAGE
        return MESSAGES[kind]

    def _started(self, change, t: float) -> WarningStarted:
        self._active_message: str | None = self._message(change.kind, t)
        return WarningStarted(t, self.speaker, change.kind, self._active_message, change.start_s)

    def _ended(self, change, t: float) -> WarningEnded:
        message = getattr(self, "_active_message", None) or MESSAGES[change.kind]
        self.warnings.append(
            WarningRecord(change.start_s, change.end_s, change.raised_at, change.kind, self.speaker, message)
        )
        self._active_message = None
        return WarningEnded(t, self.speaker, change.kind, change.start_s, change.end_s)
