"""One implementation of speech activity -> spans / talk time (voice_coach.signal.activity)."""

import numpy as np
import pytest

from voice_coach.signal.activity import active_runs, bridge_gaps, merge_spans, spans_from_mask, talk_time_s


def _mask(s: str) -> np.ndarray:
    return np.array([c == "1" for c in s], dtype=bool)


@pytest.mark.parametrize(
    ("mask", "runs"),
    [("", []), ("000", []), ("111", [(0, 3)]), ("0110011", [(1, 3), (5, 7)]), ("1000001", [(0, 1), (6, 7)])],
)
def test_active_runs(mask, runs):
    assert active_runs(_mask(mask)) == runs


def test_merge_spans_bridges_short_gaps_and_overlaps_only():
    spans = [(5.0, 6.0), (0.0, 1.0), (1.4, 2.0), (1.8, 1.9), (3.0, 3.0)]
    assert merge_spans(spans, min_gap=0.5) == [(0.0, 2.0), (3.0, 3.0), (5.0, 6.0)]
    assert merge_spans(spans, min_gap=0.0) == [(0.0, 1.0), (1.4, 2.0), (3.0, 3.0), (5.0, 6.0)]
    assert merge_spans([], min_gap=1.0) == []
    assert merge_spans([(2.0, 1.0)], min_gap=1.0) == [(2.0, 2.0)]  # a word of negative length counts as none


def test_spans_from_mask_bridges_then_drops_clicks():
    m = _mask("0111000110000001000")  # gaps of 3 and 6 frames; a 1-frame click at the end
    assert spans_from_mask(m, hop_s=0.1) == [
        pytest.approx((0.1, 0.4)),
        pytest.approx((0.7, 0.9)),
        pytest.approx((1.5, 1.6)),
    ]
    assert spans_from_mask(m, hop_s=0.1, bridge_gap_s=0.4) == [pytest.approx((0.1, 0.9)), pytest.approx((1.5, 1.6))]
    assert spans_from_mask(m, hop_s=0.1, bridge_gap_s=0.4, min_span_s=0.2) == [pytest.approx((0.1, 0.9))]


def test_bridge_gaps_agrees_with_spans_from_mask():
    rng = np.random.default_rng(0)
    m = rng.random(500) < 0.4
    bridged = bridge_gaps(m, max_gap=3)
    # bridging gaps of up to 3 frames = merging gaps shorter than 4 frames
    direct = spans_from_mask(m, hop_s=1.0, bridge_gap_s=4.0)
    assert spans_from_mask(bridged, hop_s=1.0) == direct
    assert bridged.sum() == pytest.approx(talk_time_s(direct))
    assert (bridged >= m).all()


def test_talk_time_is_total_span_length():
    assert talk_time_s([]) == 0.0
    assert talk_time_s([(0.0, 1.5), (3.0, 3.25)]) == pytest.approx(1.75)
