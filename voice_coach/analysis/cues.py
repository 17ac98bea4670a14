"""From cue values to warnings: episodes of agitated speech, counted across turns.

``CueTracker.step`` is called every timeline step (0.1 s) with the value of each warning kind, or
None while the speaker is silent. A warning rests on how much of the speaker's *recent speech* is
agitated, not on one unbroken stretch:

* **Evidence.** Per kind, the tracker keeps the speaker's last ``evidence_window_s`` of *speech*
  steps. Silence, pauses and the other party's turns add nothing and take nothing away, so short
  sentences separated by pauses add up. A step is *hot* when its value is at or above the kind's
  start threshold.
* **Raise.** When no warning is active, the gap after the last one has passed and a kind has at
  least ``sustain_s`` of hot speech in its window (and is not cooling down), the kind of highest
  priority is raised. Several cues up at once is one ``agitated`` episode, whichever held first.
* **Clear.** Only calm speech ends a warning: ``release_s`` of speech below the kind's lower end
  threshold since its last hot step. Silence alone does not. The kind then cools down for
  ``cooldown_s`` and no other warning starts for ``gap_s``. So one episode gives one warning, and
  the cue does not flap at the threshold.
* **Upgrade to mirroring.** Mirroring (the agent's voice rising while the customer is upset) is
  what the agent most needs to hear, so it does not wait behind a lower warning of the same
  speaker: when its evidence is complete while ``loud``, ``fast``, ``high_pitch`` or ``agitated`` is
  active, that warning ends (at the mirroring's backdated start, so the two do not overlap) and
  ``mirroring`` is raised in its place. The ended kind cools down as usual; nothing downgrades a
  mirroring warning, so an episode still cannot flap between kinds.

Each change carries ``raised_at``, the stream time at which it happened, and a backdated ``start_s``
(the first hot step of the evidence, less ``time_offset_s``, because the cue values come from
trailing windows).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from voice_coach.config import WarningConfig

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


@dataclass(frozen=True)
class CueChange:
    """A warning was raised (``ended`` False) or ended. Times in stream seconds.

    ``start_s`` is when the behaviour began (backdated), ``raised_at`` when the cue was raised, the
    moment a live agent sees it; ``end_s`` is when calm speech took over (None while active).
    """

    kind: str
    start_s: float
    end_s: float | None
    ended: bool
    raised_at: float


class _Evidence:
    """The speaker's recent speech steps for one kind: ``(t, hot)``, at most ``capacity`` of them."""

    def __init__(self, capacity: int):
        self.steps: deque[tuple[float, bool]] = deque(maxlen=max(1, capacity))
        self.hot = 0

    def add(self, t: float, hot: bool) -> None:
        if len(self.steps) == self.steps.maxlen and self.steps[0][1]:
            self.hot -= 1
        self.steps.append((t, hot))
        self.hot += hot

    def first_hot_t(self) -> float | None:
        return next((t for t, hot in self.steps if hot), None)

    def clear(self) -> None:
        self.steps.clear()
        self.hot = 0


class CueTracker:
    def __init__(
        self,
        config: WarningConfig = WarningConfig(),
        *,
        kinds: tuple[str, ...] = PRIORITY,
        time_offset_s: float = 0.0,
        step_s: float = 0.1,
    ):
        """``step_s`` is the time between calls of ``step`` (the timeline step)."""
        self.config = config
        self.kinds = kinds
        self.offset = time_offset_s
        self.step_s = step_s
        capacity = int(round(config.evidence_window_s / step_s))
        self._evidence = {k: _Evidence(capacity) for k in kinds}
        self._need_steps = int(round(config.sustain_s / step_s))
        self._release_steps = int(round(config.release_s / step_s))
        self.active: str | None = None
        self._active_start = 0.0
        self._raised_at = 0.0
        self._calm_steps = 0
        self._calm_since: float | None = None
        self._cool_until = {k: -1e9 for k in kinds}
        self._gap_until = -1e9

    def _threshold(self, kind: str, which: str) -> float:
        base = kind if kind in (*COMPONENTS, "mirroring", "customer_agitated") else "agitated"
        return getattr(self.config, f"{which}_{base}")

    def _hot(self, kind: str, values: dict[str, float | None]) -> bool:
        v = values.get(kind)
        return v is not None and v >= self._threshold(kind, "on")

    def _episode_state(self, values: dict[str, float | None]) -> str | None:
        """For the active warning: "hot", "calm" or None (in between, or not speaking)."""
        kind = self.active
        assert kind is not None
        # An ``agitated`` episode is over only when each of its cues has calmed down.
        members = [kind] + ([k for k in COMPONENTS if k in self.kinds] if kind == "agitated" else [])
        known = [(k, v) for k in members if (v := values.get(k)) is not None]
        if not known:
            return None
        if any(v >= self._threshold(k, "on") for k, v in known):
            return "hot"
        if all(v < self._threshold(k, "off") for k, v in known):
            return "calm"
        return None

    def step(self, t: float, values: dict[str, float | None]) -> list[CueChange]:
        changes: list[CueChange] = []
        for kind in self.kinds:
            if values.get(kind) is not None:
                self._evidence[kind].add(t, self._hot(kind, values))

        if self._can_upgrade(t):
            changes.extend(self._upgrade(t))
        elif self.active is not None:
            state = self._episode_state(values)
            if state == "hot":
                self._calm_steps, self._calm_since = 0, None
            elif state == "calm":
                if self._calm_since is None:
                    self._calm_since = t - self.step_s
                self._calm_steps += 1
                if self._calm_steps >= self._release_steps:
                    changes.append(self._end(t))

        if self.active is None and t >= self._gap_until:
            ready = [k for k in self.kinds if self._evidence[k].hot >= self._need_steps and t >= self._cool_until[k]]
            if ready:
                kind = ready[0]
                if (
                    "agitated" in self.kinds
                    and kind in COMPONENTS
                    and self._hot("agitated", values)
                    and t >= self._cool_until["agitated"]
                ):
                    kind = "agitated"
                firsts = [self._evidence[k].first_hot_t() for k in {kind, *ready}]
                since = min(x for x in firsts if x is not None) - self.step_s
                self.active = kind
                self._active_start = max(0.0, since - self.offset)
                self._raised_at = t
                self._calm_steps, self._calm_since = 0, None
                changes.append(CueChange(kind, self._active_start, None, False, t))
        return changes

    def _can_upgrade(self, t: float) -> bool:
        return (
            self.active is not None
            and self.active != "mirroring"
            and "mirroring" in self.kinds
            and self._evidence["mirroring"].hot >= self._need_steps
            and t >= self._cool_until["mirroring"]
        )

    def _upgrade(self, t: float) -> list[CueChange]:
        """End the active lower warning and raise ``mirroring`` in its place."""
        assert self.active is not None
        first = self._evidence["mirroring"].first_hot_t()
        start = max(0.0, (t if first is None else first) - self.step_s - self.offset)
        end = max(self._active_start, start)
        ended = CueChange(self.active, self._active_start, end, True, self._raised_at)
        self._cool_until[self.active] = t + self.config.cooldown_s
        self.active = "mirroring"
        self._active_start = start
        self._raised_at = t
        self._calm_steps, self._calm_since = 0, None
        return [ended, CueChange("mirroring", start, None, False, t)]

    def _end(self, t: float) -> CueChange:
        assert self.active is not None and self._calm_since is not None
        end = max(self._active_start, self._calm_since - self.offset)
        change = CueChange(self.active, self._active_start, end, True, self._raised_at)
        self._cool_until[self.active] = t + self.config.cooldown_s
        self._gap_until = t + self.config.gap_s
        for evidence in self._evidence.values():  # the episode is over; calm speech took over
            evidence.clear()
        self.active = None
        return change

    def finish(self, t: float) -> list[CueChange]:
        """End the active warning, if any, at stream end ``t``."""
        if self.active is None:
            return []
        end = t if self._calm_since is None else self._calm_since - self.offset
        change = CueChange(self.active, self._active_start, max(self._active_start, end), True, self._raised_at)
        self.active = None
        return [change]
