"""From cue values to warnings: sustained onset, hysteresis, cooldown, one warning at a time.

``CueTracker.step`` is called every timeline step (0.1 s) with the value of each warning kind
(None while the speaker is silent). A kind becomes *sustained* once its value has stayed at or
above its start threshold for ``sustain_s`` (pauses shorter than ``pause_bridge_s`` bridged).
When no warning is active, and the gap after the last one has passed, the sustained kind of highest
priority that is not cooling down starts a warning. The active warning ends once its value has
stayed below its (lower) end threshold, or the speaker has been silent, for ``release_s``; that
kind then cools down for ``cooldown_s``. So one episode gives one warning, and the cue does not
flap at the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import WarningConfig

PRIORITY = ("mirroring", "agitated", "loud", "fast", "high_pitch")
COMPONENTS = ("loud", "fast", "high_pitch")

MESSAGES = {
    "agitated": "You sound agitated: pause, breathe, then slow down and lower your voice",
    "loud": "Lower your voice",
    "fast": "Slow down",
    "high_pitch": "Bring your pitch down",
    "mirroring": "You are matching the customer's tone: lower your voice, slow down",
    "customer_agitated": "Customer is upset: slow down, lower your voice, acknowledge",
}
DEESCALATION_MESSAGE = MESSAGES["customer_agitated"]


@dataclass
class _Onset:
    since: float | None = None
    last_on: float | None = None


@dataclass(frozen=True)
class CueChange:
    """A warning started (``ended`` False) or ended. Times in stream seconds."""

    kind: str
    start_s: float
    end_s: float | None
    ended: bool


class CueTracker:
    def __init__(self, config: WarningConfig = WarningConfig(), *, kinds: tuple[str, ...] = PRIORITY, time_offset_s: float = 0.0):
        """``time_offset_s`` is subtracted from onset and end times: the cue values come from
        trailing windows, so the behaviour they describe began about half a window earlier."""
        self.config = config
        self.kinds = kinds
        self.offset = time_offset_s
        self._onsets = {k: _Onset() for k in kinds}
        self.active: str | None = None
        self._active_start = 0.0
        self._below_since: float | None = None
        self._cool_until = {k: -1e9 for k in kinds}
        self._gap_until = -1e9

    def _threshold(self, kind: str, which: str) -> float:
        base = kind if kind in (*COMPONENTS, "mirroring") else "agitated"
        return getattr(self.config, f"{which}_{base}")

    def step(self, t: float, values: dict[str, float | None]) -> list[CueChange]:
        cfg = self.config
        changes: list[CueChange] = []
        for kind in self.kinds:
            v = values.get(kind)
            onset = self._onsets[kind]
            if v is not None and v >= self._threshold(kind, "on"):
                if onset.since is None:
                    onset.since = t
                onset.last_on = t
            elif onset.last_on is not None and v is None and t - onset.last_on <= cfg.pause_bridge_s:
                pass
            else:
                onset.since = onset.last_on = None

        if self.active is not None:
            v = values.get(self.active)
            if v is None or v < self._threshold(self.active, "off"):
                if self._below_since is None:
                    self._below_since = t
                if t - self._below_since >= cfg.release_s:
                    end = max(self._active_start, self._below_since - self.offset)
                    changes.append(CueChange(self.active, self._active_start, end, True))
                    self._cool_until[self.active] = t + cfg.cooldown_s
                    self._gap_until = t + cfg.gap_s
                    self._onsets[self.active] = _Onset()
                    self.active = None
            else:
                self._below_since = None

        if self.active is None and t >= self._gap_until:
            ready = [k for k in self.kinds if self._sustained(k) and t >= self._cool_until[k]]
            if ready:
                kind = ready[0]
                # Several cues up at once is one episode of agitation, whichever cue held first.
                ag = values.get("agitated")
                if "agitated" in self.kinds and kind in COMPONENTS and ag is not None and ag >= self._threshold("agitated", "on") and t >= self._cool_until["agitated"]:
                    kind = "agitated"
                since = min(o.since for k, o in self._onsets.items() if o.since is not None and (k == kind or k in ready))
                self.active = kind
                self._active_start = max(0.0, since - self.offset)
                self._below_since = None
                changes.append(CueChange(kind, self._active_start, None, False))
        return changes

    def _sustained(self, kind: str) -> bool:
        onset = self._onsets[kind]
        return onset.since is not None and onset.last_on - onset.since >= self.config.sustain_s

    def finish(self, t: float) -> list[CueChange]:
        """End the active warning, if any, at stream end ``t``."""
        if self.active is None:
            return []
        end = self._below_since - self.offset if self._below_since is not None else t
        change = CueChange(self.active, self._active_start, max(self._active_start, end), True)
        self.active = None
        return [change]
