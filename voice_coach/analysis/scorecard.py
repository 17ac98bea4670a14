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
    warnings = result.get("warnings", [])
    events = result.get("events", [])
    phrases = [p for p in result.get("phrases", []) if p.get("speaker") == "agent"]
    agent = result["agent"]
    s = agent["summary"]
    cfg = result.get("config", {}).get("agitation", {})
    items: list[dict] = []

    # --- tone of voice, against the agent's own calm baseline
    wpm = s.get("speaking_rate_wpm")
    fast = _starts(warnings, "fast", "agitated", "mirroring", speaker="agent")
    rushed, comfy = cfg.get("rushed_wpm", 160.0), cfg.get("comfortable_wpm_max", 150.0)
    if wpm is None and not fast:
        items.append(_item("pace", "Talk slowly", "n/a", "no speech rate (too few words)", []))
    else:
        pace_v = "bad" if (wpm or 0) > rushed and fast else ("warn" if fast or (wpm or 0) > comfy else "good")
        vs = s.get("articulation_vs_baseline")
        items.append(
            _item(
                "pace",
                "Talk slowly",
                pace_v,
                f"{wpm:.0f} wpm (comfortable: 120-150)" + (f", articulation x{vs:.2f} of calm" if vs else "")
                if wpm is not None
                else "rate unknown",
                _starts(warnings, "fast", speaker="agent") or fast,
            )
        )
    loud = _starts(warnings, "loud", "agitated", "mirroring", speaker="agent")
    dv = s.get("loudness_vs_baseline_db")
    items.append(
        _item(
            "volume",
            "Keep your voice low and even",
            _count_verdict(len(loud)),
            (f"{dv:+.1f} dB vs calm baseline" if dv is not None else "no baseline") + f", {len(loud)} loud episode(s)",
            loud,
        )
    )
    high = _starts(warnings, "high_pitch", "agitated", "mirroring", speaker="agent")
    st = s.get("pitch_vs_baseline_st")
    items.append(
        _item(
            "tone",
            "Keep a calm, low tone",
            _count_verdict(len(high)),
            (f"{st:+.1f} st vs calm baseline" if st is not None else "no baseline")
            + f", {len(high)} raised-pitch episode(s)",
            high,
        )
    )

    customer = result.get("customer")
    if customer:
        mirror = _starts(warnings, "mirroring", speaker="agent")
        items.append(
            _item(
                "mirroring",
                "Stay calm when the customer is not: don't match their agitation",
                _count_verdict(len(mirror)),
                f"{len(mirror)} time(s) the agent got loud or high with an upset customer",
                mirror,
            )
        )
        start, end, t_start, t_end = _thirds(customer["timeline"])
        if start is None:
            items.append(
                _item(
                    "customer_agitation",
                    "Leave the customer calmer than you found them",
                    "n/a",
                    "too little customer speech",
                    [],
                )
            )
        else:
            verdict = "good" if end <= start - 0.05 or end < 0.2 else ("warn" if end <= start + 0.05 else "bad")
            items.append(
                _item(
                    "customer_agitation",
                    "Leave the customer calmer than you found them",
                    verdict,
                    f"customer agitation {start:.2f} at the start, {end:.2f} at the end (0-1)",
                    [t_start, t_end],
                    start=round(start, 3),
                    end=round(end, 3),
                )
            )
        upset = _starts(warnings, "customer_agitated", speaker="customer")
        if upset:
            items[-1]["moments"] = sorted(set(items[-1]["moments"] + [round(t, 2) for t in upset]))

    # --- the words
    def phrase_line(id_: str, advice: str, cats: tuple[str, ...], *, want: bool, context: bool = True) -> None:
        found = [p for p in phrases if p["category"] in cats]
        if not agent.get("words"):
            items.append(_item(id_, advice, "n/a", "no transcript", []))
            return
        n = len(found)
        if want:
            verdict = "good" if n else ("warn" if context else "n/a")
        else:
            verdict = _count_verdict(n)
        examples = "; ".join(f'"{p["text"]}"' for p in found[:3])
        items.append(
            _item(
                id_,
                advice,
                verdict,
                f"{n} found" + (f": {examples}" if examples else ""),
                [p["start"] for p in found],
                count=n,
            )
        )

    upset_customer = bool(_starts(warnings, "customer_agitated"))
    phrase_line(
        "empathy",
        "Acknowledge the feeling",
        ("acknowledgement", "reflective_listening"),
        want=True,
        context=upset_customer or not customer,
    )
    phrase_line("choices", "Offer choices", ("offering_choices",), want=True, context=upset_customer or not customer)
    phrase_line("defensive", "Never argue or get defensive", ("defensive",), want=False)
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

    # --- conversation dynamics (two voices)
    if customer:
        inter = [e for e in events if e["kind"] == "interruption" and e.get("speaker") == "agent"]
        items.append(
            _item(
                "interruptions",
                "Listen without interrupting",
                _count_verdict(len(inter), warn_at=1, bad_at=3),
                f"{len(inter)} interruption(s) of the customer",
                [e["start"] for e in inter],
                count=len(inter),
            )
        )
        dead = [e for e in events if e["kind"] == "dead_air"]
        items.append(
            _item(
                "dead_air",
                "Keep the customer informed: no long silences",
                _count_verdict(len(dead), warn_at=1, bad_at=3),
                f"{len(dead)} silence(s) over {result['config'].get('dynamics', {}).get('dead_air_min_s', 6):g} s",
                [e["start"] for e in dead],
                count=len(dead),
            )
        )
        mono = [e for e in events if e["kind"] == "monologue"]
        items.append(
            _item(
                "monologue",
                "Let the customer speak",
                _count_verdict(len(mono)),
                f"{len(mono)} agent monologue(s)",
                [e["start"] for e in mono],
                count=len(mono),
            )
        )
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

    scored = [POINTS[i["verdict"]] for i in items if i["verdict"] in POINTS]
    overall = round(100.0 * mean(scored), 1) if scored else None
    return {"overall": overall, "items": items}
