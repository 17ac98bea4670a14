"""Two voices: leak rejection, de-escalation mode, mirroring (synthetic two-channel fixtures)."""

import numpy as np
from signals import SR, voice

from voice_coach.engine.core import ChannelMap, Engine
from voice_coach.engine.events import Word
from voice_coach.output.result import build_result
from voice_coach.signal.crosstalk import leak_mask
from voice_coach.signal.prosody import analyze_frames


def run(agent, customer, chunk=3200, config=None):
    n = max(len(agent), len(customer))
    y = np.zeros((2, n), np.float32)
    y[0, : len(agent)] = agent
    y[1, : len(customer)] = customer
    eng = Engine(channels=ChannelMap(0, 1), **({"config": config} if config else {}))
    events = []
    for i in range(0, n, chunk):
        events += eng.feed(y[:, i : i + chunk])
    events += eng.finish()
    return eng, events, build_result(eng, source="synthetic", model="none")


def turns(parts):
    """[(who, signal)] -> agent track, customer track: one talks while the other is silent."""
    a, c = [], []
    for who, sig in parts:
        a.append(sig if who == "agent" else np.zeros_like(sig))
        c.append(sig if who == "customer" else np.zeros_like(sig))
    return np.concatenate(a), np.concatenate(c)


def leaked(customer, gain_db=-18.0, delay_ms=3.0):
    d = int(delay_ms * SR / 1000)
    return np.concatenate([np.zeros(d, np.float32), customer[: len(customer) - d]]) * 10 ** (gain_db / 20)


def test_leak_mask_finds_the_same_voice_not_a_different_one():
    cust = voice(3, f0_hz=210, level_db=-25)
    fa, fc = analyze_frames(leaked(cust), sr=SR), analyze_frames(cust, sr=SR)
    mask = leak_mask(fa, fc)
    assert mask.sum() >= 0.8 * fa.voiced.sum()
    own = analyze_frames(voice(3, f0_hz=110, level_db=-40, seed=9), sr=SR)
    assert leak_mask(own, fc).sum() <= 0.02 * own.voiced.sum()


def test_customer_leaking_into_agent_mic_is_not_the_agent_talking():
    agent_calm = voice(20, f0_hz=110, level_db=-30)
    cust_turn = voice(10, f0_hz=220, level_db=-18, seed=4)
    a, c = turns([("agent", agent_calm), ("customer", cust_turn), ("agent", voice(6, f0_hz=110, level_db=-30, seed=2))])
    # The customer's loud turn leaks into the agent's microphone (louder than the agent's calm voice).
    a = a + leaked(c, gain_db=-8)
    eng, _, result = run(a, c)
    agent_tl = result["agent"]["timeline"]
    during = [e for e in agent_tl if 21.0 <= e["t"] <= 29.0]
    assert sum(e["speaking"] for e in during) <= 0.05 * len(during)
    assert [w for w in result["warnings"] if w["speaker"] == "agent"] == []


def test_leaked_words_are_dropped_from_the_agent():
    a, c = turns(
        [("agent", voice(8, f0_hz=110, level_db=-30)), ("customer", voice(6, f0_hz=220, level_db=-20, seed=4))]
    )
    a = a + leaked(c, gain_db=-10)
    eng, _, _ = run(a, c)
    kept = eng._drop_leaked_words([Word(2.0, 2.5, "mine"), Word(10.0, 10.5, "theirs")])
    assert [w.text for w in kept] == ["mine"]


def test_customer_agitation_warning_and_deescalation_message():
    a, c = turns(
        [
            ("customer", voice(10, f0_hz=210, level_db=-30, seed=1)),
            ("agent", voice(10, f0_hz=110, level_db=-30, seed=2)),
            ("customer", voice(8, f0_hz=300, level_db=-16, seed=3)),  # customer gets angry
            ("agent", voice(6, f0_hz=110, level_db=-22, seed=5)),  # agent gets somewhat loud
        ]
    )
    _, events, result = run(a, c)
    kinds = [(w["speaker"], w["kind"]) for w in result["warnings"]]
    assert ("customer", "customer_agitated") in kinds
    cust = next(w for w in result["warnings"] if w["kind"] == "customer_agitated")
    assert 19.0 <= cust["start"] <= 23.0
    agent_w = [w for w in result["warnings"] if w["speaker"] == "agent"]
    assert agent_w and agent_w[0]["start"] >= 27.0
    # +8 dB is "loud"; with the customer upset it is the agent matching them, and the cue says so.
    assert agent_w[0]["kind"] == "mirroring"


def test_deescalation_tightens_the_agents_thresholds():
    # +6 dB is under the usual "loud" start (4..10 dB ramp, on at 0.5 = +7 dB): no warning alone,
    # but while the customer is upset the threshold tightens (here to half: +5.5 dB) and the agent
    # is cued.
    import dataclasses

    from voice_coach.config import Config, DeescalationConfig

    cfg = dataclasses.replace(Config(), deescalation=DeescalationConfig(tighten_factor=0.5))
    untightened = dataclasses.replace(Config(), deescalation=DeescalationConfig(tighten_factor=1.0))
    base = [("agent", voice(12, f0_hz=110, level_db=-30, seed=2))]
    calm_customer = [("customer", voice(8, f0_hz=210, level_db=-30, seed=3))]
    angry_customer = [("customer", voice(8, f0_hz=320, level_db=-14, seed=3))]
    mid_loud = [("agent", voice(6, f0_hz=110, level_db=-24.0, seed=6))]
    calm_call = turns(base + [("customer", voice(8, f0_hz=210, level_db=-30, seed=7))] + calm_customer + mid_loud)
    tense_call = turns(base + [("customer", voice(8, f0_hz=210, level_db=-30, seed=7))] + angry_customer + mid_loud)
    _, _, quiet = run(*calm_call, config=cfg)
    _, _, tense = run(*tense_call, config=cfg)
    _, _, tense_untightened = run(*tense_call, config=untightened)
    agent_warnings = lambda r: [w for w in r["warnings"] if w["speaker"] == "agent"]
    # +6 dB alone is not cued, whether the customer is calm (tightened) or upset (not tightened) ...
    assert agent_warnings(quiet) == []
    assert agent_warnings(tense_untightened) == [], tense_untightened["warnings"]
    assert any(w["kind"] == "customer_agitated" for w in tense_untightened["warnings"])
    # ... but with the customer upset and the threshold tightened, the agent's +6 dB turn (from
    # 28 s to 34 s) is cued once, as mirroring the customer.
    agent_w = agent_warnings(tense)
    assert [w["kind"] for w in agent_w] == ["mirroring"], tense["warnings"]
    assert agent_w[0]["start"] >= 28.0 and agent_w[0]["raised_at"] <= 34.0, agent_w


def test_mono_calls_have_no_customer_and_no_mirroring():
    eng = Engine()
    y = voice(30, level_db=-30)
    for i in range(0, SR * 30, 1600):
        eng.feed(y[i : i + 1600])
    eng.finish()
    assert "customer" not in eng.analyzers and eng.analyzers["agent"].partner is None
