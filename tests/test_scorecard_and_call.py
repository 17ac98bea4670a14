"""The two-voice sample call end to end (with the model), and the scorecard's rules."""

import json

import pytest
from conftest import SAMPLES

from voice_coach.analysis.scorecard import build_scorecard


@pytest.fixture
def call(analyzed_sample):
    """The stereo sample call analyzed by the CLI (once per session: see conftest) and its script."""
    _, result = analyzed_sample("call_stereo.wav")
    return result, json.loads((SAMPLES / "call_stereo.truth.json").read_text())


def test_call_has_both_voices_and_the_two_voice_keys(call):
    r, _ = call
    assert r["customer"] is not None and r["customer"]["words"]
    assert {"events", "phrases", "scorecard", "conversation"} <= set(r)
    assert all({"start", "end", "kind", "speaker"} <= set(e) for e in r["events"])
    assert all({"start", "end", "speaker", "category", "text"} <= set(p) for p in r["phrases"])


def test_dead_air_and_interruption_match_the_script(call):
    r, truth = call
    for want in truth["events"]:
        got = [e for e in r["events"] if e["kind"] == want["kind"]]
        assert got, want
        assert got[0]["start"] == pytest.approx(want["start"], abs=0.3)
        assert got[0]["end"] == pytest.approx(want["end"], abs=0.3)
    inter = next(e for e in r["events"] if e["kind"] == "interruption")
    assert inter["speaker"] == "agent"


def test_customer_upset_then_agent_mirrors(call):
    r, truth = call
    cust = [w for w in r["warnings"] if w["speaker"] == "customer"]
    assert [w["kind"] for w in cust] == ["customer_agitated"]
    angry = [u for u in truth["utterances"] if u["speaker"] == "customer" and u["style"] == "angry"]
    assert angry[0]["start"] - 1 <= cust[0]["start"] <= angry[0]["end"]
    agent = [w for w in r["warnings"] if w["speaker"] == "agent"]
    assert agent and agent[0]["kind"] == "mirroring"
    mirrored = [u for u in truth["utterances"] if u["speaker"] == "agent" and u["style"] == "mirroring"]
    assert agent[0]["start"] >= mirrored[0]["start"] - 1.0


def test_phrases_found_at_the_right_moments(call):
    r, truth = call
    cats = {p["category"] for p in r["phrases"]}
    assert {"acknowledgement", "offering_choices", "defensive"} <= cats
    empathy = next(u for u in truth["utterances"] if "frustrating" in u["text"])
    hit = next(p for p in r["phrases"] if "frustrating" in p["text"].lower())
    assert empathy["start"] - 0.5 <= hit["start"] <= empathy["end"]
    marked = [e for e in r["agent"]["timeline"] if e.get("phrase") == "acknowledgement"]
    assert marked


def test_scorecard_lines_name_advice_and_moments(call):
    r, _ = call
    card = r["scorecard"]
    ids = {i["id"]: i for i in card["items"]}
    assert {
        "pace",
        "volume",
        "tone",
        "customer_agitation",
        "empathy",
        "choices",
        "interruptions",
        "dead_air",
        "defensive",
    } <= set(ids)
    assert ids["empathy"]["verdict"] == "good" and ids["empathy"]["moments"]
    assert ids["defensive"]["verdict"] in ("warn", "bad") and ids["defensive"]["moments"]
    assert ids["interruptions"]["count"] == 1 and ids["dead_air"]["count"] == 1
    assert ids["customer_agitation"]["end"] > ids["customer_agitation"]["start"]  # the customer got angrier
    assert all(i["advice"] and isinstance(i["moments"], list) for i in card["items"])
    # overall is the mean of the verdicts' points in percent (good 1, warn 0.5, bad 0, n/a not
    # counted): with a good line and a warn/bad one it is strictly between 0 and 100.
    points = [{"good": 1.0, "warn": 0.5, "bad": 0.0}[i["verdict"]] for i in card["items"] if i["verdict"] != "n/a"]
    assert card["overall"] == pytest.approx(100.0 * sum(points) / len(points), abs=0.05)
    assert 0 < card["overall"] < 100


def _result(**over):
    base = {
        "config": {"agitation": {"rushed_wpm": 160, "comfortable_wpm_max": 150}},
        "agent": {
            "words": [{"start": 0, "end": 1, "text": "hi"}],
            "timeline": [],
            "summary": {"speaking_rate_wpm": 135.0},
        },
        "customer": None,
        "warnings": [],
        "events": [],
        "phrases": [],
    }
    base.update(over)
    return base


def test_scorecard_calm_call_scores_high_and_defensive_words_cost():
    calm = build_scorecard(_result())
    ids = {i["id"]: i for i in calm["items"]}
    assert ids["pace"]["verdict"] == "good" and ids["defensive"]["verdict"] == "good"
    bad = build_scorecard(
        _result(
            phrases=[{"start": 3.0, "end": 4.0, "speaker": "agent", "category": "defensive", "text": "calm down"}] * 2
        )
    )
    assert {i["id"]: i for i in bad["items"]}["defensive"]["verdict"] == "bad"
    assert bad["overall"] < calm["overall"]


def test_scorecard_customer_phrases_do_not_count_against_the_agent():
    r = _result(
        phrases=[{"start": 3.0, "end": 4.0, "speaker": "customer", "category": "defensive", "text": "calm down"}]
    )
    assert {i["id"]: i for i in build_scorecard(r)["items"]}["defensive"]["verdict"] == "good"


def test_scorecard_without_transcript_says_so():
    r = _result(agent={"words": [], "timeline": [], "summary": {"speaking_rate_wpm": None}})
    ids = {i["id"]: i for i in build_scorecard(r)["items"]}
    assert ids["empathy"]["verdict"] == "n/a" and ids["pace"]["verdict"] == "n/a"
