"""The de-escalation scorecard: each line checks one piece of the advice trainers give, with a
verdict, the figure behind it, and the moments (timestamps) a trainer can jump to.

A pure function of the JSON result (after phrases and conversation events have been added).
Verdicts: ``good`` (1 point), ``warn`` (0.5), ``bad`` (0) or ``n/a`` (not counted); ``overall`` is
the mean in percent.
"""

from __future__ import annotations

from statistics import mean

POINTS = {"good": 1.0, "warn": 0.5, "bad": 0.0}


def _item(id_: str, advice: str, verdict: str, value: str, moments: list[float], **extra) -> dict:
    return {
        "id": id_,
        "advice": advice,
        "verdict": verdict,
        "value": value,
        "moments": [round(m, 2) for m in sorted(moments)],
        **extra,
    }


def _starts(items: list[dict], *kinds: str, speaker: str | None = None) -> list[float]:
    return [w["start"] for w in items if w["kind"] in kinds and (speaker is None or w.get("speaker") == speaker)]


def _count_verdict(n: int, *, warn_at: int = 1, bad_at: int = 2) -> str:
    return "good" if n < warn_at else ("warn" if n < bad_at else "bad")


def _thirds(timeline: list[dict]) -> tuple[float | None, float | None, float | None, float | None]:
    """Mean agitation over the first and last third of a voice's speech, with their mid times."""
    spoken = [(e["t"], e["agitation"]) for e in timeline if e.get("speaking") and e.get("agitation") is not None]
    if len(spoken) < 30:
        return None, None, None, None
    k = len(spoken) // 3
    first, last = spoken[:k], spoken[-k:]
    return mean(a for _, a in first), mean(a for _, a in last), first[0][0], last[0][0]


def build_scorecard(result: dict) -> dict:
    """The scorecard of one analysed call: ``{"overall": percent or None, "items": [...]}``.

    Items come in a fixed order: tone of voice, the customer's course (two voices), the agent's
    words, then conversation dynamics (two voices).
    """
    warnings = result.get("warnings", [])
    customer = result.get("customer")
    items = _voice_items(result, warnings)
    if customer:
        items += _customer_items(customer, warnings)
    items += _phrase_items(result, warnings)
    if customer:
        items += _dynamics_items(result)
    scored = [POINTS[i["verdict"]] for i in items if i["verdict"] in POINTS]
    overall = round(100.0 * mean(scored), 1) if scored else None
    return {"overall": overall, "items": items}


def _voice_items(result: dict, warnings: list[dict]) -> list[dict]:
    """Tone of voice against the agent's own calm baseline: pace, volume and pitch."""
    s = result["agent"]["summary"]
    cfg = result.get("config", {}).get("agitation", {})
    return [_pace_item(s, cfg, warnings), _volume_item(s, warnings), _tone_item(s, warnings)]


def _pace_item(s: dict, cfg: dict, warnings: list[dict]) -> dict:
    """The "Talk slowly" line: the agent's speaking rate and fast-speech warnings."""
    wpm = s.get("speaking_rate_wpm")
    fast = _starts(warnings, "fast", "agitated", "mirroring", speaker="agent")
    rushed, comfy = cfg.get("rushed_wpm", 160.0), cfg.get("comfortable_wpm_max", 150.0)
    if wpm is None and not fast:
        return _item("pace", "Talk slowly", "n/a", "no speech rate (too few words)", [])
    pace_v = "bad" if (wpm or 0) > rushed and fast else ("warn" if fast or (wpm or 0) > comfy else "good")
    vs = s.get("articulation_vs_baseline")
    return _item(
        "pace",
        "Talk slowly",
        pace_v,
        f"{wpm:.0f} wpm (comfortable: 120-150)" + (f", articulation x{vs:.2f} of calm" if vs else "")
        if wpm is not None
        else "rate unknown",
        _starts(warnings, "fast", speaker="agent") or fast,
    )


def _volume_item(s: dict, warnings: list[dict]) -> dict:
    """The "Keep your voice low and even" line: loudness against baseline and loud episodes."""
    loud = _starts(warnings, "loud", "agitated", "mirroring", speaker="agent")
    dv = s.get("loudness_vs_baseline_db")
    return _item(
        "volume",
        "Keep your voice low and even",
        _count_verdict(len(loud)),
        (f"{dv:+.1f} dB vs calm baseline" if dv is not None else "no baseline") + f", {len(loud)} loud episode(s)",
        loud,
    )


def _tone_item(s: dict, warnings: list[dict]) -> dict:
    """The "Keep a calm, low tone" line: pitch against baseline and raised-pitch episodes."""
    high = _starts(warnings, "high_pitch", "agitated", "mirroring", speaker="agent")
    st = s.get("pitch_vs_baseline_st")
    return _item(
        "tone",
        "Keep a calm, low tone",
        _count_verdict(len(high)),
        (f"{st:+.1f} st vs calm baseline" if st is not None else "no baseline")
        + f", {len(high)} raised-pitch episode(s)",
        high,
    )


def _customer_items(customer: dict, warnings: list[dict]) -> list[dict]:
    """Two voices: did the agent mirror the customer's agitation, and did the customer calm down."""
    mirror = _starts(warnings, "mirroring", speaker="agent")
    mirroring = _item(
        "mirroring",
        "Stay calm when the customer is not: don't match their agitation",
        _count_verdict(len(mirror)),
        f"{len(mirror)} time(s) the agent got loud or high with an upset customer",
        mirror,
    )
    return [mirroring, _customer_agitation_item(customer, warnings)]


def _customer_agitation_item(customer: dict, warnings: list[dict]) -> dict:
    """The customer's agitation over the first and last third of their speech, with their upset moments."""
    advice = "Leave the customer calmer than you found them"
    start, end, t_start, t_end = _thirds(customer["timeline"])
    if start is None or end is None or t_start is None or t_end is None:
        item = _item("customer_agitation", advice, "n/a", "too little customer speech", [])
    else:
        verdict = "good" if end <= start - 0.05 or end < 0.2 else ("warn" if end <= start + 0.05 else "bad")
        item = _item(
            "customer_agitation",
            advice,
            verdict,
            f"customer agitation {start:.2f} at the start, {end:.2f} at the end (0-1)",
            [t_start, t_end],
            start=round(start, 3),
            end=round(end, 3),
        )
    upset = _starts(warnings, "customer_agitated", speaker="customer")
    if upset:
        item["moments"] = sorted(set(item["moments"] + [round(t, 2) for t in upset]))
    return item


def _phrase_line(
    agent: dict, phrases: list[dict], id_: str, advice: str, cats: tuple[str, ...], *, want: bool, context: bool = True
) -> dict:
    """One phrase check: how many of the agent's phrases fall in ``cats``.

    ``want`` phrases are good when found (else ``warn`` where ``context`` says they were called
    for, ``n/a`` otherwise); unwanted ones are counted against the agent.
    """
    found = [p for p in phrases if p["category"] in cats]
    if not agent.get("words"):
        return _item(id_, advice, "n/a", "no transcript", [])
    n = len(found)
    if want:
        verdict = "good" if n else ("warn" if context else "n/a")
    else:
        verdict = _count_verdict(n)
    examples = "; ".join(f'"{p["text"]}"' for p in found[:3])
    return _item(
        id_,
        advice,
        verdict,
        f"{n} found" + (f": {examples}" if examples else ""),
        [p["start"] for p in found],
        count=n,
    )


def _phrase_items(result: dict, warnings: list[dict]) -> list[dict]:
    """The agent's words: empathy, choices, defensiveness and (when heard) positive escalation."""
    agent = result["agent"]
    customer = result.get("customer")
    phrases = [p for p in result.get("phrases", []) if p.get("speaker") == "agent"]
    called_for = bool(_starts(warnings, "customer_agitated")) or not customer
    items = [
        _phrase_line(
            agent,
            phrases,
            "empathy",
            "Acknowledge the feeling",
            ("acknowledgement", "reflective_listening"),
            want=True,
            context=called_for,
        ),
        _phrase_line(agent, phrases, "choices", "Offer choices", ("offering_choices",), want=True, context=called_for),
        _phrase_line(agent, phrases, "defensive", "Never argue or get defensive", ("defensive",), want=False),
    ]
    escalation = [p for p in phrases if p["category"] in ("positive_escalation", "calm_boundary")]
    if escalation:
        items.append(
            _item(
                "escalation",
                "Escalate positively, set boundaries calmly",
                "good",
                f"{len(escalation)} found",
                [p["start"] for p in escalation],
                count=len(escalation),
            )
        )
    return items


def _dynamics_items(result: dict) -> list[dict]:
    """Two voices: interruptions, dead air, monologues and the talk-time ratio."""
    events = result.get("events", [])
    inter = [e for e in events if e["kind"] == "interruption" and e.get("speaker") == "agent"]
    dead = [e for e in events if e["kind"] == "dead_air"]
    mono = [e for e in events if e["kind"] == "monologue"]
    dead_air_min_s = result["config"].get("dynamics", {}).get("dead_air_min_s", 6)
    items = [
        _item(
            "interruptions",
            "Listen without interrupting",
            _count_verdict(len(inter), warn_at=1, bad_at=3),
            f"{len(inter)} interruption(s) of the customer",
            [e["start"] for e in inter],
            count=len(inter),
        ),
        _item(
            "dead_air",
            "Keep the customer informed: no long silences",
            _count_verdict(len(dead), warn_at=1, bad_at=3),
            f"{len(dead)} silence(s) over {dead_air_min_s:g} s",
            [e["start"] for e in dead],
            count=len(dead),
        ),
        _item(
            "monologue",
            "Let the customer speak",
            _count_verdict(len(mono)),
            f"{len(mono)} agent monologue(s)",
            [e["start"] for e in mono],
            count=len(mono),
        ),
    ]
    conv = result.get("conversation") or {}
    ratio = conv.get("talk_time_ratio")
    if ratio is not None:
        verdict = "good" if ratio <= 1.5 else ("warn" if ratio <= 2.5 else "bad")
        items.append(
            _item(
                "talk_ratio",
                "Listen more than you talk",
                verdict,
                f"agent talked {ratio:.1f}x as long as the customer",
                [],
            )
        )
    return items
