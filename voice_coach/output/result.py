"""The JSON result (schema_version 1) and the CSV timeline, built from a finished engine's outputs.

The result is built from ``Engine.outputs()`` alone (``voice_coach.engine.outputs``); its shape is
published as a JSON Schema, ``result.schema.json`` next to this module (see docs/CONTRACT.md).

The timeline has one entry per 0.1 s step; ``t`` is the centre of the window each value describes:
the step itself for pitch and loudness, a centred ``rate.window_s`` window for wpm and syllables/s,
and the trailing ``agitation.window_s`` window (shifted to its centre) for agitation.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from voice_coach.analysis.dynamics import summarize_dynamics
from voice_coach.analysis.scorecard import build_scorecard
from voice_coach.analysis.speaker import STEP_S
from voice_coach.config import Config
from voice_coach.engine.core import Engine
from voice_coach.engine.outputs import EngineOutputs, VoiceOutput
from voice_coach.output.files import write_text_atomic
from voice_coach.output.format import clean
from voice_coach.signal.activity import bridge_gaps, spans_from_mask, talk_time_s
from voice_coach.signal.agitation import agitation_score, calm_score, cues
from voice_coach.signal.rate import pause_threshold_s, rolling_wpm, words_per_minute

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("result.schema.json")
"""The published JSON Schema of the result (package data)."""


def _speaker_result(a: VoiceOutput, cfg: Config) -> dict:
    n = len(a)
    hop_s = a.hop_s
    t = (np.arange(n) + 0.5) * STEP_S
    pitch = a.pitch_hz
    level = a.loudness_db
    speaking = a.speaking
    voiced = a.voiced
    # phonation as the syllable picker counts it (gaps bridged at the speaker's pace), per step
    phon_steps = a.phonation_frames
    syl = a.syllables

    # Centred rolling articulation rate.
    half = int(round(cfg.rate.window_s / STEP_S / 2))
    csyl = np.concatenate([[0.0], np.cumsum(syl)])
    cphon = np.concatenate([[0.0], np.cumsum(phon_steps * hop_s)])
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    phon_win = cphon[hi] - cphon[lo] if n else np.zeros(0)
    rate = np.full(n, np.nan)
    ok = phon_win >= cfg.rate.min_phonation_s
    rate[ok] = (csyl[hi] - csyl[lo])[ok] / phon_win[ok]

    pause_s = pause_threshold_s(a.words, cfg.rate)
    wpm = rolling_wpm(a.words, t, window_s=cfg.rate.window_s, pause_s=pause_s)

    agitation = a.agitation
    shift = int(round(cfg.agitation.window_s / 2 / STEP_S - 0.5))
    agitation_c = np.full(n, np.nan)
    if n > shift:
        agitation_c[: n - shift] = agitation[shift:]

    b = a.baseline
    with np.errstate(divide="ignore", invalid="ignore"):
        pitch_st = 12 * np.log2(pitch / b.pitch_median_hz) if b and b.pitch_median_hz else np.full(n, np.nan)
    level_rel = (
        np.where(speaking, level - b.loudness_median_db, np.nan)
        if b and b.loudness_median_db is not None
        else np.full(n, np.nan)
    )

    timeline = [
        {
            "t": round(float(t[k]), 2),
            "pitch_hz": clean(pitch[k], 1),
            "loudness_db": clean(level[k], 1),
            "wpm": clean(wpm[k], 1),
            "agitation": clean(agitation_c[k], 3),
            "pitch_st": clean(pitch_st[k], 2),
            "loudness_rel_db": clean(level_rel[k], 1),
            "syllables_per_s": clean(rate[k], 2),
            "speaking": bool(speaking[k]),
        }
        for k in range(n)
    ]

    voiced_pitch = pitch[np.isfinite(pitch)]
    talk = bridge_gaps(voiced, max_gap=int(round(cfg.rate.phonation_bridge_s / hop_s)))
    talk_time = talk_time_s(spans_from_mask(talk, hop_s=hop_s, bridge_gap_s=pause_s))
    known_ag = agitation[np.isfinite(agitation) & speaking]
    if not len(known_ag) and b is not None:
        known_ag = _step_agitation(level_rel, pitch_st, speaking, cfg)
    pitch_med = float(np.median(voiced_pitch)) if len(voiced_pitch) else None
    spread = None
    if len(voiced_pitch) >= 5:
        st = 12 * np.log2(voiced_pitch)
        spread = float(np.percentile(st, 90) - np.percentile(st, 10))
    level_med = float(np.median(level[speaking])) if speaking.any() else None
    phonation_s = float(phon_steps.sum() * hop_s)
    artic = float(syl.sum() / phonation_s) if phonation_s >= cfg.rate.min_phonation_s else None
    summary = {
        "talk_time_s": clean(talk_time, 2),
        "speaking_rate_wpm": clean(words_per_minute(a.words, pause_s=pause_s), 1),
        "articulation_rate_sps": clean(artic, 2),
        "pitch_median_hz": clean(pitch_med, 1),
        "pitch_spread_st": clean(spread, 2),
        "loudness_median_db": clean(level_med, 1),
        "agitation_mean": clean(float(known_ag.mean()) if len(known_ag) else None, 3),
        "calm_score": calm_score([float(x) for x in known_ag]),
        "word_count": len(a.words),
        "phonation_time_s": clean(phonation_s, 2),
        "pitch_vs_baseline_st": clean(12 * math.log2(pitch_med / b.pitch_median_hz), 2)
        if (b and b.pitch_median_hz and pitch_med)
        else None,
        "loudness_vs_baseline_db": clean(level_med - b.loudness_median_db, 1)
        if (b and level_med is not None and b.loudness_median_db is not None)
        else None,
        "articulation_vs_baseline": clean(artic / b.articulation_rate_sps, 2)
        if (b and artic and b.articulation_rate_sps)
        else None,
    }
    baseline: dict[str, object] = {
        "source": None,
        "pitch_median_hz": None,
        "loudness_median_db": None,
        "articulation_rate_sps": None,
    }
    if b is not None:
        baseline = {k: (clean(v, 2) if not isinstance(v, str) else v) for k, v in b.to_dict().items()}
    return {
        "words": [w.to_dict() for w in sorted(a.words, key=lambda w: w.start_s)],
        "timeline": timeline,
        "summary": summary,
        "baseline": baseline,
    }


def _step_agitation(level_rel: np.ndarray, pitch_st: np.ndarray, speaking: np.ndarray, cfg) -> np.ndarray:
    """Agitation of each speaking step from its own pitch and loudness against the baseline: the
    summary's fallback for a recording whose baseline only came at its end (too short to calibrate
    while it played, see ``SpeakerAnalyzer.finish``)."""
    out = []
    for k in np.flatnonzero(speaking):
        rel = float(level_rel[k]) if np.isfinite(level_rel[k]) else None
        st = float(pitch_st[k]) if np.isfinite(pitch_st[k]) else None
        graded = cues(
            loudness_rel_db=rel, pitch_st=st, rate_sps=None, baseline_rate_sps=None, config=cfg.agitation, graded=True
        )
        score = agitation_score(graded, cfg.agitation)
        if score is not None:
            out.append(score)
    return np.asarray(out, dtype=float)


def build_result(engine: Engine | EngineOutputs, *, source: str, model: str, separation: dict | None = None) -> dict:
    """The JSON result (schema_version 1) of a finished engine, from its public outputs alone.

    ``separation``: the ``separation`` section of a mono recording split into voices
    (``separation_section``); None for a two-channel call or a mono one analyzed as one voice."""
    out = engine.outputs() if isinstance(engine, Engine) else engine
    cfg = out.config
    agent = _speaker_result(out.voices["agent"], cfg)
    customer = _speaker_result(out.voices["customer"], cfg) if "customer" in out.voices else None
    warnings = [w.to_dict() for v in out.voices.values() for w in v.warnings]
    warnings.sort(key=lambda w: (w["start"], w["speaker"]))
    phrases = [m.to_dict() for m in out.phrases]
    _mark_phrases(agent["timeline"], phrases)
    events, conversation = [], None
    if out.conversation is not None:
        found = out.conversation.events
        events = [e.to_dict() for e in sorted(found, key=lambda e: (e.start_s, e.kind))]
        conversation = summarize_dynamics(out.conversation.agent_segments, out.conversation.customer_segments, found)
    config = cfg.to_dict()
    config["phrasebook"] = list(out.phrasebook_sources)
    result = {
        "schema_version": SCHEMA_VERSION,
        "source": source,
        "duration_s": round(out.duration_s, 3),
        "model": model,
        "config": config,
        "agent": agent,
        "customer": customer,
        "warnings": warnings,
        "events": events,
        "phrases": phrases,
        "conversation": conversation,
        "diagnostics": out.diagnostics.to_dict(),
        "separation": separation,
    }
    result["scorecard"] = build_scorecard(result)
    return result


def separation_section(sep, choice=None) -> dict:
    """The result's ``separation`` section from a ``voices.separate.Separation`` and, for two voices, the
    ``voices.naming.AgentChoice`` that named the agent's voice (None for one voice: it is the agent)."""
    names: dict[int, str] = {0: "agent"}
    agent_choice = None
    if choice is not None:
        names = {choice.voice: "agent", choice.customer: "customer"}
        similarity = None
        if choice.similarity is not None:
            similarity = {names[v]: clean(s, 3) for v, s in enumerate(choice.similarity)}
        agent_choice = {
            "method": choice.method,
            "voice": "first" if choice.voice == 0 else "second",
            "similarity": similarity,
            "margin": clean(choice.margin, 3),
            "uncertain": bool(choice.uncertain),
        }
    stretches = [
        {
            "start": round(float(st.start_s), 2),
            "end": round(float(st.end_s), 2),
            "voice": names.get(st.voice),
            "confidence": clean(st.confidence, 3),
        }
        for st in sep.stretches
    ]
    unattributed = sum(st.end_s - st.start_s for st in sep.stretches if st.voice not in names)
    return {
        "requested": sep.requested,
        "speakers": int(sep.speakers),
        "decision_confidence": clean(sep.decision_confidence, 3),
        "method": sep.method,
        "voices_similarity": clean(getattr(sep, "similarity", None), 3),
        "agent_choice": agent_choice,
        "unattributed_s": clean(unattributed, 2),
        "stretches": stretches,
    }


def _mark_phrases(timeline: list[dict], phrases: list[dict]) -> None:
    """Each timeline step inside a phrase gets ``phrase``: its category (else null)."""
    for entry in timeline:
        entry["phrase"] = None
    if not timeline:
        return
    for p in phrases:
        first = max(0, int(p["start"] / STEP_S))
        last = min(len(timeline) - 1, int(p["end"] / STEP_S))
        for k in range(first, last + 1):
            timeline[k]["phrase"] = p["category"]


def words_between(words: list[dict], start: float, end: float) -> str:
    """The text of the words overlapping [start, end]."""
    return " ".join(w["text"] for w in words if w["end"] >= start and w["start"] <= end)


def to_json(result: dict) -> str:
    return json.dumps(result, indent=1, allow_nan=False, ensure_ascii=False) + "\n"


def write_json(result: dict, path: str | Path) -> None:
    write_text_atomic(Path(path), to_json(result))


CSV_FIELDS = (
    "pitch_hz",
    "pitch_st",
    "loudness_db",
    "loudness_rel_db",
    "wpm",
    "syllables_per_s",
    "agitation",
    "speaking",
    "phrase",
)


def to_csv(result: dict) -> str:
    """The timeline, one row per 0.1 s step, with the warning active at each step.

    Columns: ``t``, then ``agent_<field>`` (and ``customer_<field>`` for two voices), then
    ``warning`` (kinds active then, ``;``-separated) and ``warning_message``.
    """
    speakers = [s for s in ("agent", "customer") if result.get(s)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["t"] + [f"{s}_{f}" for s in speakers for f in CSV_FIELDS] + ["warning", "warning_message"])
    rows = result["agent"]["timeline"]
    warnings = result.get("warnings", [])
    for k, row in enumerate(rows):
        t = row["t"]
        out = [t]
        for s in speakers:
            tl = result[s]["timeline"]
            entry = tl[k] if k < len(tl) else {}
            for f in CSV_FIELDS:
                v = entry.get(f)
                out.append("" if v is None else (int(v) if isinstance(v, bool) else v))
        active = [w for w in warnings if w["start"] <= t <= w["end"]]
        out.append(";".join(f"{w['speaker']}:{w['kind']}" for w in active))
        out.append(";".join(w["message"] for w in active))
        writer.writerow(out)
    return buf.getvalue()


def write_csv(result: dict, path: str | Path) -> None:
    write_text_atomic(Path(path), to_csv(result))
