"""Conversation dynamics on hand-built timelines with known answers, and streaming == batch."""

from __future__ import annotations

import numpy as np
import pytest

from voice_coach.analysis.dynamics import (
    ConversationEvent,
    ConversationEventStarted,
    DynamicsConfig,
    DynamicsTracker,
    find_dead_air,
    find_events,
    find_interruptions,
    find_monologues,
    response_latencies,
    segments_from_activity,
    summarize_dynamics,
    talk_time_ratio,
    talk_time_s,
    talk_time_share,
)

HOP = 0.01


def activity(spans: list[tuple[float, float]], duration_s: float) -> np.ndarray:
    """Per-10-ms activity with the given (start_s, end_s) spans active."""
    a = np.zeros(round(duration_s / HOP), dtype=bool)
    for s, e in spans:
        a[round(s / HOP) : round(e / HOP)] = True
    return a


def kinds(events) -> list[tuple]:
    return [(e.kind, e.speaker, round(e.start_s, 3), round(e.end_s, 3)) for e in events]


# --------------------------------------------------------------------------------------------------
# segments_from_activity


def test_segments_empty_and_silent():
    assert segments_from_activity(np.zeros(0, bool)) == []
    assert segments_from_activity(np.zeros(500, bool)) == []


def test_segments_known_answer():
    a = activity([(1.0, 2.0), (2.2, 3.0), (5.0, 5.05), (7.0, 7.1)], 10.0)
    segs = segments_from_activity(a)
    # 0.2 s pause bridged; 50 ms click dropped; 100 ms kept (exactly min_speech_s)
    assert np.allclose(segs, [(1.0, 3.0), (7.0, 7.1)])


@pytest.mark.parametrize("gap_frames, bridged", [(29, True), (30, False)])
def test_segments_bridge_threshold(gap_frames, bridged):
    a = np.zeros(200, bool)
    a[10:40] = True
    a[40 + gap_frames : 40 + gap_frames + 30] = True
    assert len(segments_from_activity(a, bridge_gap_s=0.3)) == (1 if bridged else 2)


def test_segments_touch_the_edges():
    a = np.ones(100, bool)
    assert segments_from_activity(a) == [(0.0, 1.0)]


def test_invalid_segments_are_refused():
    with pytest.raises(ValueError, match="sorted and not overlap"):
        find_interruptions([(0, 2), (1, 3)], [])
    with pytest.raises(ValueError, match="start <= end"):
        find_dead_air([(2, 1)], [])


# --------------------------------------------------------------------------------------------------
# Interruptions


def test_agent_interrupts_customer():
    (ev,) = find_interruptions(agent=[(5.0, 8.0)], customer=[(0.0, 6.0)])
    assert (ev.kind, ev.speaker, ev.start_s, ev.end_s) == ("interruption", "agent", 5.0, 6.0)
    assert ev.detail == {"overlap_s": 1.0, "interrupted": "customer"}
    assert ev.to_dict() == {"start": 5.0, "end": 6.0, "kind": "interruption", "speaker": "agent",
                            "overlap_s": 1.0, "interrupted": "customer"}  # fmt: skip


@pytest.mark.parametrize(
    "agent, customer, expected",
    [
        ([(5.5, 8.0)], [(0.0, 6.0)], 1),  # overlap exactly 0.5 s: counts (thresholds are inclusive)
        ([(5.51, 8.0)], [(0.0, 6.0)], 0),  # 0.49 s
        ([(6.0, 8.0)], [(0.0, 6.0)], 0),  # touching: took the turn, no overlap
        ([(0.0, 3.0)], [(0.0, 3.0)], 0),  # started together: nobody was mid-utterance
        ([(2.0, 2.3)], [(0.0, 6.0)], 0),  # a 0.3 s back-channel inside the customer's turn
        ([(2.0, 2.6)], [(0.0, 6.0)], 1),  # 0.6 s of talking over
        ([], [(0.0, 6.0)], 0),
        ([(0.0, 6.0)], [], 0),
        ([], [], 0),
    ],
)
def test_interruption_edges(agent, customer, expected):
    found = [e for e in find_interruptions(agent, customer) if e.speaker == "agent"]
    assert len(found) == expected


def test_customer_interruptions_are_reported_unless_turned_off():
    agent, customer = [(0.0, 10.0)], [(3.0, 5.0)]
    (ev,) = find_interruptions(agent, customer)
    assert (ev.speaker, ev.detail["interrupted"], ev.end_s) == ("customer", "agent", 5.0)
    assert find_interruptions(agent, customer, DynamicsConfig(report_customer_interruptions=False)) == []


def test_interruption_threshold_exact_on_frames():
    """0.5 s of overlap built from 10 ms frames (float error in 50 * 0.01) still counts."""
    a = activity([(2.0, 4.0)], 6.0)
    c = activity([(0.0, 2.5)], 6.0)
    segs_a, segs_c = segments_from_activity(a), segments_from_activity(c)
    assert len(find_interruptions(segs_a, segs_c)) == 1


# --------------------------------------------------------------------------------------------------
# Dead air


def test_dead_air_between_turns():
    (ev,) = find_dead_air(agent=[(0.0, 2.0)], customer=[(10.0, 12.0)], duration_s=20.0)
    assert (ev.kind, ev.start_s, ev.end_s, ev.detail) == ("dead_air", 2.0, 10.0, {"silence_s": 8.0})
    assert ev.speaker == "agent"


@pytest.mark.parametrize("gap_s, expected", [(6.0, 1), (5.99, 0), (0.0, 0)])
def test_dead_air_threshold(gap_s, expected):
    assert len(find_dead_air([(0.0, 2.0)], [(2.0 + gap_s, 12.0)])) == expected


def test_dead_air_edges_only_when_asked():
    agent, customer = [(8.0, 9.0)], [(9.5, 10.0)]
    assert find_dead_air(agent, customer, duration_s=30.0) == []
    cfg = DynamicsConfig(dead_air_count_edges=True)
    evs = find_dead_air(agent, customer, cfg, duration_s=30.0)
    assert [(e.start_s, e.end_s, e.detail.get("edge")) for e in evs] == [
        (0.0, 8.0, "leading"),
        (10.0, 30.0, "trailing"),
    ]


def test_dead_air_needs_both_sides_silent():
    # The agent is silent 2-12 s but the customer talks through it.
    assert find_dead_air([(0.0, 2.0), (12.0, 13.0)], [(1.0, 12.5)]) == []
    # Overlapping speech then a shared 7 s silence, measured from the later end.
    (ev,) = find_dead_air([(0.0, 3.0), (12.0, 13.0)], [(2.0, 5.0)])
    assert (ev.start_s, ev.end_s) == (5.0, 12.0)


def test_dead_air_with_nobody_speaking():
    assert find_dead_air([], [], duration_s=60.0) == []
    (ev,) = find_dead_air([], [], DynamicsConfig(dead_air_count_edges=True), duration_s=60.0)
    assert (ev.start_s, ev.end_s, ev.detail["edge"]) == (0.0, 60.0, "whole")


# --------------------------------------------------------------------------------------------------
# Monologues


def test_monologue_known_answer():
    agent = [(0.0, 15.0), (16.0, 30.0), (31.0, 45.0)]  # 1 s pauses are bridged
    (ev,) = find_monologues(agent, [])
    assert (ev.kind, ev.speaker, ev.start_s, ev.end_s) == ("monologue", "agent", 0.0, 45.0)
    assert ev.detail == {"duration_s": 45.0, "speech_s": 43.0}


@pytest.mark.parametrize(
    "agent, customer, expected",
    [
        ([(0.0, 40.0)], [], 1),  # exactly the threshold
        ([(0.0, 39.9)], [], 0),
        ([(0.0, 20.0), (21.5, 41.5)], [], 0),  # a 1.5 s pause ends it (inclusive)
        ([(0.0, 20.0), (21.4, 41.5)], [], 1),  # 1.4 s is bridged
        ([(0.0, 20.0), (21.0, 41.0)], [(20.3, 20.7)], 0),  # the customer spoke in the pause
        ([(0.0, 20.0), (21.0, 41.0)], [(5.0, 5.4), (30.0, 30.5)], 1),  # back-channels over the talk
        ([(0.0, 20.0), (21.0, 41.0)], [(19.0, 20.4)], 0),  # customer talk ran into the pause
        ([], [(0.0, 100.0)], 0),  # customer monologues are off by default
    ],
)
def test_monologue_edges(agent, customer, expected):
    assert len(find_monologues(agent, customer)) == expected


def test_customer_monologues_when_asked():
    cfg = DynamicsConfig(report_customer_monologues=True)
    (ev,) = find_monologues([], [(0.0, 100.0)], cfg)
    assert ev.speaker == "customer"


# --------------------------------------------------------------------------------------------------
# Talk time and latency


def test_talk_time():
    agent, customer = [(0.0, 6.0)], [(6.0, 8.0), (9.0, 10.0)]
    assert talk_time_s(agent) == 6.0
    assert talk_time_ratio(agent, customer) == pytest.approx(2.0)
    assert talk_time_share(agent, customer) == pytest.approx(2 / 3)
    assert talk_time_ratio(agent, []) is None and talk_time_share([], []) is None


def test_response_latencies_known_answer():
    customer = [(0.0, 2.0), (5.0, 7.0), (7.5, 9.0), (13.0, 15.0), (20.5, 20.8)]
    agent = [(2.5, 4.0), (10.0, 12.0), (14.0, 20.0), (21.0, 22.0)]
    lat = response_latencies(agent, customer)
    # 2.5-2.0; 10.0-9.0 (the customer's last segment of the turn); 14.0 started while the customer
    # talked (overlapped); the 20.5-20.8 back-channel is inside the agent's talk -> not a turn ...
    # but it ends after the agent's previous segment (20.0), so 21.0-20.8 counts.
    assert lat.latencies_s == pytest.approx((0.5, 1.0, 0.2))
    assert lat.overlapped == 1
    assert lat.median_s == pytest.approx(0.5)
    assert lat.p90_s == pytest.approx(0.9)
    assert lat.to_dict()["count"] == 3


def test_backchannel_inside_agent_talk_is_not_a_turn():
    lat = response_latencies(agent=[(0.0, 10.0), (11.0, 12.0)], customer=[(3.0, 3.5)])
    assert lat.latencies_s == () and lat.median_s is None and lat.overlapped == 0


def test_summary():
    agent, customer = [(0.0, 50.0), (60.0, 61.0)], [(49.0, 50.5)]
    events = find_events(agent, customer)
    summary = summarize_dynamics(agent, customer, events)
    assert summary["monologue_count"] == 1 and summary["dead_air_count"] == 1
    assert summary["interruptions_by_customer"] == 1
    assert summary["talk_time_ratio"] == pytest.approx(34.0)
    assert summary["response_latency"]["count"] == 1


# --------------------------------------------------------------------------------------------------
# Streaming


def _stream(a: np.ndarray, c: np.ndarray, cfg: DynamicsConfig | None = None, chunk: int = 37):
    tracker = DynamicsTracker(cfg)
    out = []
    for i in range(0, len(a), chunk):
        out += tracker.update(a[i : i + chunk], c[i : i + chunk])
    out += tracker.finish()
    return tracker, out


def _batch(a: np.ndarray, c: np.ndarray, cfg: DynamicsConfig):
    seg = lambda x: segments_from_activity(
        x, hop_s=cfg.hop_s, min_speech_s=cfg.min_speech_s, bridge_gap_s=cfg.bridge_gap_s
    )
    return seg(a), seg(c), find_events(seg(a), seg(c), cfg, duration_s=len(a) * cfg.hop_s)


def _complete(out) -> list[ConversationEvent]:
    return sorted(
        (e for e in out if isinstance(e, ConversationEvent)), key=lambda e: (e.start_s, e.end_s, e.kind, e.speaker)
    )


def test_streaming_announces_each_event_as_soon_as_it_is_certain():
    # customer talks 0-10 s; agent cuts in at 4 s; then both silent 12-20 s; then the agent
    # talks for 45 s with short pauses.
    duration = 70.0
    c = activity([(0.0, 10.0)], duration)
    a = activity([(4.0, 12.0), (20.0, 40.0), (41.0, 65.0)], duration)
    _, out = _stream(a, c)
    started = {e.kind: e for e in out if isinstance(e, ConversationEventStarted)}
    assert started["interruption"].start_s == pytest.approx(4.0)
    assert started["interruption"].t_s == pytest.approx(4.5)  # the overlap reached 0.5 s
    assert started["dead_air"].start_s == pytest.approx(12.0)
    assert started["dead_air"].t_s == pytest.approx(18.0)  # 6 s of silence
    assert started["monologue"].start_s == pytest.approx(20.0)
    assert started["monologue"].t_s == pytest.approx(60.0)  # 40 s in
    assert kinds(_complete(out)) == [
        ("interruption", "agent", 4.0, 10.0),
        ("dead_air", "agent", 12.0, 20.0),
        ("monologue", "agent", 20.0, 65.0),
    ]
    # every announcement comes before its complete event
    for i, item in enumerate(out):
        if isinstance(item, ConversationEventStarted):
            later = [e for e in out[i + 1 :] if isinstance(e, ConversationEvent) and e.kind == item.kind]
            assert later and later[0].start_s == pytest.approx(item.start_s)


def test_streaming_frame_by_frame_equals_chunks():
    duration = 30.0
    c = activity([(0.0, 10.0), (20.0, 22.0)], duration)
    a = activity([(4.0, 12.0), (25.0, 29.0)], duration)
    tracker = DynamicsTracker()
    out = []
    for fa, fc in zip(a, c, strict=True):
        out += tracker.update(bool(fa), bool(fc))
    out += tracker.finish()
    _, chunked = _stream(a, c, chunk=250)
    assert _complete(out) == _complete(chunked)


def _random_activity(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.zeros(n, bool)
    i, on = 0, bool(rng.random() < 0.5)
    mean_on, mean_off = rng.choice([3, 50, 300]), rng.choice([3, 40, 400])
    while i < n:
        length = max(1, int(rng.exponential(mean_on if on else mean_off)))
        out[i : i + length] = on
        i, on = i + length, not on
    return out


@pytest.mark.parametrize("seed", range(60))
def test_streaming_equals_batch_on_random_timelines(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 15000))
    cfg = DynamicsConfig(
        interruption_min_overlap_s=float(rng.choice([0.0, 0.1, 0.5])),
        report_customer_interruptions=bool(rng.random() < 0.7),
        dead_air_min_s=float(rng.choice([0.2, 1.0, 6.0])),
        dead_air_count_edges=bool(rng.random() < 0.5),
        monologue_max_s=float(rng.choice([2.0, 5.0, 40.0])),
        monologue_bridge_gap_s=float(rng.choice([0.2, 0.5, 1.5])),
        report_customer_monologues=bool(rng.random() < 0.5),
        min_speech_s=float(rng.choice([0.0, 0.1, 0.6])),
        bridge_gap_s=float(rng.choice([0.0, 0.3, 1.0])),
    )
    a, c = _random_activity(rng, n), _random_activity(rng, n)
    seg_a, seg_c, batch = _batch(a, c, cfg)
    tracker, out = _stream(a, c, cfg, chunk=int(rng.integers(1, 400)))
    assert tracker.segments("agent") == seg_a and tracker.segments("customer") == seg_c
    assert _complete(out) == batch
    assert tracker.events == [e for e in out if isinstance(e, ConversationEvent)]
    complete = {(e.kind, e.speaker, e.start_s) for e in batch}
    for item in out:
        if isinstance(item, ConversationEventStarted):
            # announced events always complete, except trailing dead air with edges off
            assert (item.kind, item.speaker, item.start_s) in complete or item.kind == "dead_air"


def test_tracker_input_errors():
    tracker = DynamicsTracker()
    with pytest.raises(ValueError, match="one length"):
        tracker.update(np.zeros(3, bool), np.zeros(4, bool))
    tracker.finish()
    assert tracker.finish() == []
    with pytest.raises(RuntimeError):
        tracker.update(True, False)


def test_config_validation_and_echo():
    from voice_coach.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^\[dynamics\] dead_air_min_s = -1: must be >= 0 s$"):
        DynamicsConfig(dead_air_min_s=-1.0)
    with pytest.raises(ConfigError, match=r"^\[dynamics\] hop_s = 0: must be > 0 s$"):
        DynamicsConfig(hop_s=0.0)
    d = DynamicsConfig().to_dict()
    assert d["interruption_min_overlap_s"] == 0.5 and d["dead_air_min_s"] == 6.0
    assert d["monologue_max_s"] == 40.0 and d["monologue_bridge_gap_s"] == 1.5
