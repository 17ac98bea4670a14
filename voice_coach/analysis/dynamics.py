"""Conversation dynamics from who is speaking when: interruptions, dead air, monologues, talk-time
share and response latency.

Everything works on per-speaker speech *segments*: sorted, non-overlapping ``(start_s, end_s)``
pairs in seconds of stream audio. ``segments_from_activity`` makes them from a voice-activity
decision per frame (10 ms by default). The finders are pure functions over two segment lists;
``DynamicsTracker`` is the streaming version for live mode: it takes the per-frame activity of both
speakers and reports each event as soon as it is certain (``ConversationEventStarted``) and again,
complete, once its end is known (``ConversationEvent``). The complete events equal those of the
batch functions on the same activity (tested).

Definitions (``DynamicsConfig`` holds the thresholds):

* interruption: a speaker starts a segment while the other is inside one (started strictly
  earlier), and the two overlap for at least ``interruption_min_overlap_s``. The event spans the
  overlap; ``speaker`` is who interrupted.
* dead air: a gap of at least ``dead_air_min_s`` in which neither speaker talks. Silence before the
  first or after the last speech is not counted unless ``dead_air_count_edges`` (it is usually ring
  time, hold music or the recording running on). ``speaker`` is ``"agent"``: filling silence (or
  saying what is happening during it) is the agent's job, so the agent is scored for it.
* monologue: a stretch of one speaker's talk of at least ``monologue_max_s``, where pauses shorter
  than ``monologue_bridge_gap_s`` do not end it unless the other speaker talks during the pause.
  The other speaker's talk *over* it (back-channel "mm-hm") does not end it.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from voice_coach.config import DynamicsConfig
from voice_coach.signal.activity import spans_from_mask, talk_time_s

__all__ = [
    "ConversationEvent",
    "ConversationEventStarted",
    "DynamicsConfig",
    "DynamicsTracker",
    "ResponseLatencies",
    "find_dead_air",
    "find_events",
    "find_interruptions",
    "find_monologues",
    "response_latencies",
    "segments_from_activity",
    "summarize_dynamics",
    "talk_time_ratio",
    "talk_time_s",
    "talk_time_share",
]

Segment = tuple[float, float]

_EPS = 1e-9  # thresholds are inclusive; this absorbs float error in frame arithmetic (0.5 = 50 * 0.01)


def _ge(value: float, threshold: float) -> bool:
    return value >= threshold - _EPS


@dataclass(frozen=True)
class ConversationEvent:
    """A finding about the conversation. ``kind``: ``interruption``, ``dead_air`` or ``monologue``.

    ``speaker``: who interrupted / who monologued; ``"agent"`` for dead air. ``detail`` holds the
    kind's figures (``overlap_s`` and ``interrupted``; ``silence_s`` and, for edge silence,
    ``edge``; ``duration_s`` and ``speech_s``).
    """

    start_s: float
    end_s: float
    kind: str
    speaker: str
    detail: dict = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict:
        out = {"start": round(self.start_s, 3), "end": round(self.end_s, 3), "kind": self.kind, "speaker": self.speaker}
        for key, value in self.detail.items():
            out[key] = round(value, 3) if isinstance(value, float) else value
        return out


@dataclass(frozen=True)
class ConversationEventStarted:
    """Streaming only: an event is certain but not over yet (for a live warning).

    ``t_s`` is when it became certain, ``start_s`` when the event began. The complete
    ``ConversationEvent`` follows once its end is known, except for trailing dead air when
    ``dead_air_count_edges`` is off (the call ended in silence).
    """

    t_s: float
    start_s: float
    kind: str
    speaker: str

    def to_dict(self) -> dict:
        return {"t": round(self.t_s, 3), "start": round(self.start_s, 3), "kind": self.kind, "speaker": self.speaker}


# --------------------------------------------------------------------------------------------------
# Segments
# --------------------------------------------------------------------------------------------------


def _frames(seconds: float, hop_s: float) -> int:
    return round(seconds / hop_s)


def segments_from_activity(
    active: np.ndarray, *, hop_s: float = 0.01, min_speech_s: float = 0.1, bridge_gap_s: float = 0.3
) -> list[Segment]:
    """Speech segments from a per-frame voice-activity decision.

    Parameters
    ----------
    active : bool array, shape (n_frames,)
        Whether frame ``i`` (covering ``[i*hop_s, (i+1)*hop_s)``) holds speech.
    hop_s : frame hop in seconds.
    min_speech_s : segments shorter than this (after bridging) are dropped as clicks.
    bridge_gap_s : pauses shorter than this are bridged (the segment goes on).

    Returns
    -------
    Sorted, non-overlapping ``(start_s, end_s)`` pairs; ``end_s`` is the end of the last active frame.
    """
    return spans_from_mask(active, hop_s=hop_s, bridge_gap_s=bridge_gap_s, min_span_s=min_speech_s)


def _check(segments: Sequence[Segment], name: str) -> list[Segment]:
    segs = [(float(s), float(e)) for s, e in segments]
    for i, (s, e) in enumerate(segs):
        if not (np.isfinite(s) and np.isfinite(e)) or e < s:
            raise ValueError(f"{name} segment {i} ({s}, {e}) must have finite start <= end")
        if i and s < segs[i - 1][1]:
            raise ValueError(f"{name} segments must be sorted and not overlap (segment {i} starts at {s})")
    return segs


def talk_time_ratio(agent: Sequence[Segment], customer: Sequence[Segment]) -> float | None:
    """Agent talk time divided by customer talk time (2.0 = the agent talked twice as long).

    None when the customer did not speak (the ratio is unbounded); see ``talk_time_share``.
    """
    a, c = talk_time_s(agent), talk_time_s(customer)
    return a / c if c > 0 else None


def talk_time_share(agent: Sequence[Segment], customer: Sequence[Segment]) -> float | None:
    """The agent's share of all talk time, 0..1 (0.5 = even); None when nobody spoke."""
    a, c = talk_time_s(agent), talk_time_s(customer)
    return a / (a + c) if a + c > 0 else None


# --------------------------------------------------------------------------------------------------
# Batch finders (the streaming tracker uses the same per-case helpers, so both agree exactly)
# --------------------------------------------------------------------------------------------------


def _interruption(x: Segment, y: Segment, who: str, whom: str, cfg: DynamicsConfig) -> ConversationEvent | None:
    """``who``'s segment ``x`` interrupting ``whom``'s segment ``y``, or None."""
    if not (y[0] < x[0] < y[1]):
        return None
    end = min(x[1], y[1])
    overlap = end - x[0]
    if not _ge(overlap, cfg.interruption_min_overlap_s):
        return None
    return ConversationEvent(x[0], end, "interruption", who, {"overlap_s": overlap, "interrupted": whom})


def _interruptions_by(xs: list[Segment], ys: list[Segment], who: str, whom: str, cfg: DynamicsConfig) -> list:
    y_starts = [s for s, _ in ys]
    out = []
    for x in xs:
        j = bisect_left(y_starts, x[0]) - 1  # the last segment of ys starting before x
        if j >= 0:
            ev = _interruption(x, ys[j], who, whom, cfg)
            if ev is not None:
                out.append(ev)
    return out


def _sorted(events: Iterable[ConversationEvent]) -> list[ConversationEvent]:
    return sorted(events, key=lambda e: (e.start_s, e.end_s, e.kind, e.speaker or ""))


def find_interruptions(
    agent: Sequence[Segment], customer: Sequence[Segment], cfg: DynamicsConfig | None = None
) -> list[ConversationEvent]:
    """Interruptions by the agent (and by the customer when ``cfg.report_customer_interruptions``).

    The interrupter starts while the other is mid-segment (started strictly earlier) and they
    overlap for at least ``cfg.interruption_min_overlap_s``. Events span the overlap.
    """
    cfg = cfg or DynamicsConfig()
    agent, customer = _check(agent, "agent"), _check(customer, "customer")
    out = _interruptions_by(agent, customer, "agent", "customer", cfg)
    if cfg.report_customer_interruptions:
        out += _interruptions_by(customer, agent, "customer", "agent", cfg)
    return _sorted(out)


def _dead_air(start: float, end: float, edge: str | None = None) -> ConversationEvent:
    detail: dict = {"silence_s": end - start}
    if edge:
        detail["edge"] = edge
    return ConversationEvent(start, end, "dead_air", "agent", detail)


def find_dead_air(
    agent: Sequence[Segment],
    customer: Sequence[Segment],
    cfg: DynamicsConfig | None = None,
    *,
    duration_s: float | None = None,
) -> list[ConversationEvent]:
    """Gaps of at least ``cfg.dead_air_min_s`` where neither speaker talks.

    Leading and trailing silence count only with ``cfg.dead_air_count_edges``; trailing silence
    also needs ``duration_s`` (the length of the call). With edges counted and no speech at all,
    the whole call is one dead-air event.
    """
    cfg = cfg or DynamicsConfig()
    segs = sorted(_check(agent, "agent") + _check(customer, "customer"))
    out = []
    u_end: float | None = None
    for s, e in segs:
        if u_end is None:
            if cfg.dead_air_count_edges and _ge(s, cfg.dead_air_min_s):
                out.append(_dead_air(0.0, s, "leading"))
            u_end = e
            continue
        if s > u_end and _ge(s - u_end, cfg.dead_air_min_s):
            out.append(_dead_air(u_end, s))
        u_end = max(u_end, e)
    if cfg.dead_air_count_edges and duration_s is not None:
        last = 0.0 if u_end is None else u_end
        if duration_s > last and _ge(duration_s - last, cfg.dead_air_min_s):
            out.append(_dead_air(last, float(duration_s), "trailing" if u_end is not None else "whole"))
    return out


def _other_in_gap(gap_lo: float, gap_hi: float, other: list[Segment], other_ends: list[float]) -> bool:
    """Whether any of ``other`` overlaps the open interval (gap_lo, gap_hi)."""
    if gap_hi <= gap_lo:
        return False
    j = bisect_right(other_ends, gap_lo)  # the first segment ending after gap_lo
    return j < len(other) and other[j][0] < gap_hi


def _monologue(start: float, end: float, speech: float, who: str, cfg: DynamicsConfig) -> ConversationEvent | None:
    if not _ge(end - start, cfg.monologue_max_s):
        return None
    return ConversationEvent(start, end, "monologue", who, {"duration_s": end - start, "speech_s": speech})


def _monologues_of(own: list[Segment], other: list[Segment], who: str, cfg: DynamicsConfig) -> list:
    out = []
    other_ends = [e for _, e in other]
    rs: float | None = None
    re_ = speech = 0.0
    for s, e in own:
        if rs is not None:
            gap = s - re_
            if _ge(gap, cfg.monologue_bridge_gap_s) or _other_in_gap(re_, s, other, other_ends):
                ev = _monologue(rs, re_, speech, who, cfg)
                if ev is not None:
                    out.append(ev)
                rs = None
        if rs is None:
            rs, speech = s, 0.0
        re_ = e
        speech += e - s
    if rs is not None:
        ev = _monologue(rs, re_, speech, who, cfg)
        if ev is not None:
            out.append(ev)
    return out


def find_monologues(
    agent: Sequence[Segment], customer: Sequence[Segment], cfg: DynamicsConfig | None = None
) -> list[ConversationEvent]:
    """Stretches of continuous agent talk of at least ``cfg.monologue_max_s``.

    Agent pauses shorter than ``cfg.monologue_bridge_gap_s`` do not end a stretch unless the
    customer talks during the pause. The customer's monologues too with
    ``cfg.report_customer_monologues``.
    """
    cfg = cfg or DynamicsConfig()
    agent, customer = _check(agent, "agent"), _check(customer, "customer")
    out = _monologues_of(agent, customer, "agent", cfg)
    if cfg.report_customer_monologues:
        out += _monologues_of(customer, agent, "customer", cfg)
    return _sorted(out)


def find_events(
    agent: Sequence[Segment],
    customer: Sequence[Segment],
    cfg: DynamicsConfig | None = None,
    *,
    duration_s: float | None = None,
) -> list[ConversationEvent]:
    """Interruptions, dead air and monologues, sorted by start."""
    cfg = cfg or DynamicsConfig()
    return _sorted(
        find_interruptions(agent, customer, cfg)
        + find_dead_air(agent, customer, cfg, duration_s=duration_s)
        + find_monologues(agent, customer, cfg)
    )


@dataclass(frozen=True)
class ResponseLatencies:
    """How quickly the agent takes the floor after the customer stops (seconds).

    ``latencies_s``: one per customer turn answered after a gap; ``overlapped``: turns the agent
    took while the customer was still talking (no latency; talk-overs). Stats are None when empty.
    """

    latencies_s: tuple[float, ...]
    overlapped: int
    median_s: float | None
    p90_s: float | None
    mean_s: float | None

    @property
    def count(self) -> int:
        return len(self.latencies_s)

    def to_dict(self) -> dict:
        r = lambda v: None if v is None else round(v, 3)
        return {"count": self.count, "overlapped": self.overlapped, "median_s": r(self.median_s),
                "p90_s": r(self.p90_s), "mean_s": r(self.mean_s)}  # fmt: skip


def response_latencies(agent: Sequence[Segment], customer: Sequence[Segment]) -> ResponseLatencies:
    """The agent's response latency for each customer turn.

    A customer turn is customer speech that ends after the agent's previous segment (back-channels
    inside the agent's talk are not turns). For each agent segment that follows such a turn, the
    latency is the agent's start minus the end of the customer's last segment before it. If the
    agent started while that segment was still going, the turn counts as ``overlapped`` instead.
    """
    agent, customer = _check(agent, "agent"), _check(customer, "customer")
    c_starts = [s for s, _ in customer]
    lat: list[float] = []
    overlapped = 0
    prev_end = -np.inf
    for s, e in agent:
        j = bisect_left(c_starts, s) - 1  # the customer's last segment starting before the agent
        if j >= 0 and customer[j][1] > prev_end:
            gap = s - customer[j][1]
            if gap >= 0:
                lat.append(gap)
            else:
                overlapped += 1
        prev_end = e
    if not lat:
        return ResponseLatencies((), overlapped, None, None, None)
    arr = np.asarray(lat)
    return ResponseLatencies(
        tuple(lat), overlapped, float(np.median(arr)), float(np.percentile(arr, 90)), float(arr.mean())
    )


def summarize_dynamics(
    agent: Sequence[Segment],
    customer: Sequence[Segment],
    events: Sequence[ConversationEvent],
) -> dict:
    """JSON-ready figures for the scorecard: talk time, ratio and share, event counts, response latency."""
    ratio, share = talk_time_ratio(agent, customer), talk_time_share(agent, customer)

    def by(kind: str, who: str) -> list[ConversationEvent]:
        return [e for e in events if e.kind == kind and e.speaker == who]

    dead = by("dead_air", "agent")
    mono = by("monologue", "agent")
    return {
        "agent_talk_s": round(talk_time_s(agent), 3),
        "customer_talk_s": round(talk_time_s(customer), 3),
        "talk_time_ratio": None if ratio is None else round(ratio, 3),
        "agent_talk_share": None if share is None else round(share, 3),
        "interruptions_by_agent": len(by("interruption", "agent")),
        "interruptions_by_customer": len(by("interruption", "customer")),
        "dead_air_count": len(dead),
        "dead_air_total_s": round(sum(e.end_s - e.start_s for e in dead), 3),
        "monologue_count": len(mono),
        "longest_monologue_s": round(max((e.end_s - e.start_s for e in mono), default=0.0), 3),
        "response_latency": response_latencies(agent, customer).to_dict(),
    }


# --------------------------------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------------------------------

SPEAKERS = ("agent", "customer")
_OTHER = {"agent": "customer", "customer": "agent"}


class _Run:
    """A run of one speaker's activity being built, in frames (end exclusive)."""

    __slots__ = ("confirmed", "end", "last_end", "noticed", "speaker", "start")

    def __init__(self, speaker: str, start: int) -> None:
        self.speaker, self.start, self.last_end = speaker, start, start + 1
        self.end: int | None = None  # set when closed
        self.confirmed = False
        self.noticed = False  # its interruption was announced


class _Monologue:
    """The streaming state of one speaker's current talk stretch."""

    def __init__(self) -> None:
        self.start_s: float | None = None  # None: no stretch
        self.end_s = 0.0  # end of its last closed segment
        self.speech_s = 0.0
        self.open: _Run | None = None  # its segment still going
        self.queue: list[_Run] = []  # later segments whose gap is not decided yet
        self.noticed = False


Output = ConversationEvent | ConversationEventStarted


class DynamicsTracker:
    """Streaming conversation dynamics: feed both speakers' activity, one decision per hop.

    ``update(agent_active, customer_active)`` takes one frame (two bools) or a chunk (two bool
    arrays of one length) and returns what became known: ``ConversationEventStarted`` as soon as an
    event is certain (an interruption once the overlap reaches its threshold, dead air once the
    silence does, a monologue once it passes ``monologue_max_s``) and ``ConversationEvent`` when it
    is over and complete. ``finish()`` ends the stream. ``events`` holds the complete events so far;
    after ``finish()`` they equal ``find_events`` on ``segments()`` with ``duration_s=t_s``.
    """

    def __init__(self, cfg: DynamicsConfig | None = None) -> None:
        self.cfg = cfg = cfg or DynamicsConfig()
        self._hop = cfg.hop_s
        self._bridge = _frames(cfg.bridge_gap_s, cfg.hop_s)
        self._min_len = _frames(cfg.min_speech_s, cfg.hop_s)
        self._n = 0  # frames processed
        self._run: dict[str, _Run | None] = {s: None for s in SPEAKERS}
        self._closed: dict[str, list[Segment]] = {s: [] for s in SPEAKERS}
        self._out: list[Output] = []
        self.events: list[ConversationEvent] = []
        self._finished = False
        # dead air: segment starts waiting to enter the union, in start order
        self._pending: list[tuple[int, int, _Run]] = []
        self._seq = 0
        self._union_open: list[_Run] = []  # entered, not closed
        self._u_end: float | None = None
        self._dead_noticed = -1.0  # the silence (by its start) already announced
        self._mono = {s: _Monologue() for s in SPEAKERS}
        self._mono_who = ("agent", "customer") if cfg.report_customer_monologues else ("agent",)

    @property
    def t_s(self) -> float:
        """Stream time: seconds of activity processed."""
        return self._n * self._hop

    def segments(self, speaker: str) -> list[Segment]:
        """The closed segments of ``speaker`` so far (all of them after ``finish()``)."""
        return list(self._closed[speaker])

    # -- input ------------------------------------------------------------------------------------

    def update(self, agent_active, customer_active) -> list[Output]:
        if self._finished:
            raise RuntimeError("DynamicsTracker.update() after finish()")
        a = np.atleast_1d(np.asarray(agent_active, dtype=bool))
        c = np.atleast_1d(np.asarray(customer_active, dtype=bool))
        if a.shape != c.shape or a.ndim != 1:
            raise ValueError(f"agent and customer activity must be 1-D and of one length, got {a.shape} and {c.shape}")
        self._out = []
        for fa, fc in zip(a.tolist(), c.tolist(), strict=True):
            self._frame(fa, fc)
        return self._out

    def finish(self) -> list[Output]:
        """End of stream: close open segments and report what is left. Idempotent."""
        self._out = []
        if self._finished:
            return self._out
        self._finished = True
        for who in SPEAKERS:
            run = self._run[who]
            if run is not None:
                self._run[who] = None
                if run.confirmed:
                    self._close(run, run.last_end)
        self._dead_air_process(final=True)
        for who in self._mono_who:
            self._mono_step(who, final=True)
        cfg = self.cfg
        if cfg.dead_air_count_edges:
            last = 0.0 if self._u_end is None else self._u_end
            end = self.t_s
            if end > last and _ge(end - last, cfg.dead_air_min_s):
                self._emit(_dead_air(last, end, "trailing" if self._u_end is not None else "whole"))
        return self._out

    # -- per frame ------------------------------------------------------------------------------

    def _frame(self, agent_active: bool, customer_active: bool) -> None:
        i = self._n
        for who, act in (("agent", agent_active), ("customer", customer_active)):
            run = self._run[who]
            if act:
                if run is None:
                    run = self._run[who] = _Run(who, i)
                run.last_end = i + 1
                if not run.confirmed and run.last_end - run.start >= self._min_len:
                    self._confirm(run)
            elif run is not None and i + 1 - run.last_end >= self._bridge:
                self._run[who] = None
                if run.confirmed:
                    self._close(run, run.last_end)
        self._n = i + 1
        self._interruption_notices()
        self._dead_air_process(final=False)
        for who in self._mono_who:
            self._mono_step(who, final=False)

    def _emit(self, item: Output) -> None:
        self._out.append(item)
        if isinstance(item, ConversationEvent):
            self.events.append(item)

    def _seg(self, run: _Run) -> Segment:
        end = run.end if run.end is not None else run.last_end
        return (run.start * self._hop, end * self._hop)

    def _confirm(self, run: _Run) -> None:
        run.confirmed = True
        heapq.heappush(self._pending, (run.start, self._seq, run))
        self._seq += 1
        mono = self._mono[run.speaker]
        if run.speaker in self._mono_who:
            if mono.start_s is None:
                mono.start_s, mono.speech_s, mono.open, mono.noticed = run.start * self._hop, 0.0, run, False
            else:
                mono.queue.append(run)

    def _close(self, run: _Run, end: int) -> None:
        run.end = end
        seg = self._seg(run)
        who, other = run.speaker, _OTHER[run.speaker]
        # Interruptions: each pair is judged when the later of its two segments closes.
        for o in reversed(self._closed[other]):
            if o[1] <= seg[0]:
                break
            if o[0] < seg[1]:
                for x, y, a, b in ((seg, o, who, other), (o, seg, other, who)):
                    if a == "customer" and not self.cfg.report_customer_interruptions:
                        continue
                    ev = _interruption(x, y, a, b, self.cfg)
                    if ev is not None:
                        self._emit(ev)
        self._closed[who].append(seg)
        # Dead air: the union's end moves once an entered segment closes.
        if run in self._union_open:
            self._union_open.remove(run)
            self._u_end = seg[1] if self._u_end is None else max(self._u_end, seg[1])
        # Monologue: the stretch's open segment closed.
        mono = self._mono[who]
        if mono.open is run:
            mono.open = None
            mono.end_s = seg[1]
            mono.speech_s += seg[1] - seg[0]

    # -- interruptions ------------------------------------------------------------------------------

    def _interruption_notices(self) -> None:
        cfg = self.cfg
        for who in SPEAKERS:
            x = self._run[who]
            if x is None or not x.confirmed or x.noticed:
                continue
            if who == "customer" and not cfg.report_customer_interruptions:
                continue
            other = _OTHER[who]
            y = self._run[other]
            if y is not None and y.confirmed and y.start < x.start:
                y_seg = self._seg(y)
            elif self._closed[other]:
                y_seg = self._closed[other][-1]
            else:
                continue
            x_seg = self._seg(x)
            # Both ends can only grow, so once the overlap so far reaches the threshold the event
            # is certain.
            if _interruption(x_seg, y_seg, who, other, cfg) is not None:
                x.noticed = True
                self._emit(ConversationEventStarted(self.t_s, x_seg[0], "interruption", who))

    # -- dead air -----------------------------------------------------------------------------------

    def _earliest_unknown_start(self) -> int:
        """No segment not yet confirmed can start before this frame."""
        f = self._n
        for run in self._run.values():
            if run is not None and not run.confirmed:
                f = min(f, run.start)
        return f

    def _dead_air_process(self, *, final: bool) -> None:
        cfg, hop = self.cfg, self._hop
        w = self._earliest_unknown_start() if not final else None
        while self._pending:
            start, _, run = self._pending[0]
            if w is not None and start > w:
                break  # an unconfirmed run might still start earlier
            if any(r.end is None and r.last_end < start for r in self._union_open):
                break  # an entered segment might end before this one starts
            heapq.heappop(self._pending)
            s = start * hop
            if not self._union_open:
                if self._u_end is None:
                    if cfg.dead_air_count_edges and _ge(s, cfg.dead_air_min_s):
                        self._emit(_dead_air(0.0, s, "leading"))
                elif s > self._u_end and _ge(s - self._u_end, cfg.dead_air_min_s):
                    self._emit(_dead_air(self._u_end, s))
            if run.end is None:
                self._union_open.append(run)
            else:
                e = run.end * hop
                self._u_end = e if self._u_end is None else max(self._u_end, e)
        if not final and not self._union_open:
            self._announce_dead_air()

    def _announce_dead_air(self) -> None:
        """Announce the silence since the last speech once it is certain to be dead air."""
        cfg, hop = self.cfg, self._hop
        if self._u_end is None and not cfg.dead_air_count_edges:
            return
        last = 0.0 if self._u_end is None else self._u_end
        if self._dead_noticed == last:
            return
        first_next = min([self._earliest_unknown_start()] + [p[0] for p in self._pending[:1]])
        if _ge(first_next * hop - last, cfg.dead_air_min_s):
            self._dead_noticed = last
            self._emit(ConversationEventStarted(self.t_s, last, "dead_air", "agent"))

    # -- monologues ---------------------------------------------------------------------------------

    def _gap_has_other(self, who: str, gap_lo: float, gap_hi: float, final: bool) -> bool | None:
        """Whether the other speaker talks in (gap_lo, gap_hi): True, False, or None (not known yet)."""
        other = _OTHER[who]
        if gap_hi <= gap_lo:
            return False
        for o in reversed(self._closed[other]):
            if o[1] <= gap_lo:
                break
            if o[0] < gap_hi:
                return True
        run = self._run[other]
        if run is None or final:
            return False
        s = run.start * self._hop
        if s >= gap_hi:
            return False
        if run.confirmed and run.last_end * self._hop > gap_lo:
            return True
        return None  # unconfirmed, or open but silent since before the gap: wait

    def _mono_step(self, who: str, *, final: bool) -> None:
        cfg, hop = self.cfg, self._hop
        mono = self._mono[who]
        while mono.start_s is not None and mono.open is None:
            if mono.queue:
                nxt = mono.queue[0]
                n = nxt.start * hop
                if _ge(n - mono.end_s, cfg.monologue_bridge_gap_s):
                    breaks = True
                else:
                    has = self._gap_has_other(who, mono.end_s, n, final)
                    if has is None:
                        break
                    breaks = has
                mono.queue.pop(0)
                if breaks:
                    self._mono_close(who)
                    mono.start_s, mono.speech_s, mono.noticed = n, 0.0, False
                if nxt.end is None:
                    mono.open = nxt
                else:
                    mono.end_s = nxt.end * hop
                    mono.speech_s += mono.end_s - n
            else:
                run = self._run[who]
                f = run.start if run is not None else self._n
                if final or _ge(f * hop - mono.end_s, cfg.monologue_bridge_gap_s):
                    self._mono_close(who)
                    mono.start_s = None
                break
        if mono.start_s is not None and not mono.noticed and not final:
            reach = self._seg(mono.open)[1] if mono.open is not None else mono.end_s
            if _ge(reach - mono.start_s, cfg.monologue_max_s):
                mono.noticed = True
                self._emit(ConversationEventStarted(self.t_s, mono.start_s, "monologue", who))

    def _mono_close(self, who: str) -> None:
        mono = self._mono[who]
        if mono.start_s is None or mono.end_s is None:
            return
        ev = _monologue(mono.start_s, mono.end_s, mono.speech_s, who, self.cfg)
        if ev is not None:
            self._emit(ev)
