"""Reading a schema-1 result tolerantly: every piece may be missing, null, or hand-edited.

The HTML report and the batch summaries share these readers, so both see the same warnings, words
and scorecard items. Nothing here formats HTML.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from voice_coach.output.format import clock, num  # one place for number and time formatting

READABLE_SCHEMA_VERSION = 1
"""The newest result ``schema_version`` this version reads (``voice_coach.output.result.SCHEMA_VERSION``)."""


def result_problem(result: Any) -> str | None:
    """Why a loaded JSON document cannot be read as a result by this version, in one line; None if it can.

    A result from a newer voice-coach (a higher ``schema_version``) or one without a
    ``schema_version`` is refused rather than half-read.
    """
    if not isinstance(result, dict) or ("agent" not in result and "schema_version" not in result):
        return f"not a voice-coach result (schema_version {READABLE_SCHEMA_VERSION})"
    version = result.get("schema_version")
    if version is None:
        return (
            f"no schema_version: not a voice-coach result this version reads (schema_version "
            f"{READABLE_SCHEMA_VERSION}); analyze the call again with 'voice-coach analyze --json'"
        )
    if isinstance(version, int) and not isinstance(version, bool) and version > READABLE_SCHEMA_VERSION:
        return (
            f"schema_version {version} is newer than this voice-coach reads ({READABLE_SCHEMA_VERSION}): "
            "upgrade voice-coach to make its report"
        )
    if version != READABLE_SCHEMA_VERSION or isinstance(version, bool):
        return f"schema_version {version!r} is not one this voice-coach reads ({READABLE_SCHEMA_VERSION})"
    if "agent" not in result:
        return "not a voice-coach result (no 'agent' object)"
    return None


__all__ = [
    "READABLE_SCHEMA_VERSION",
    "Intervals",
    "baseline_deltas",
    "clock",
    "css_token",
    "num",
    "result_problem",
    "scorecard_items",
    "semitones",
    "spans_of",
    "verdict_class",
    "warnings_of",
    "words_of",
]


def css_token(value: Any) -> str:
    """A class-name-safe token from a kind/category/verdict string."""
    return re.sub(r"[^a-z0-9_-]+", "-", str(value).lower()).strip("-")[:40] or "other"


def semitones(hz: float | None, base: float | None) -> float | None:
    if hz is None or base is None or hz <= 0 or base <= 0:
        return None
    return 12 * math.log2(hz / base)


def baseline_deltas(summary: Mapping, baseline: Mapping) -> dict[str, float | None]:
    """The agent against their calm baseline: pitch (st), loudness (dB), articulation rate (%).

    The analyzer's own figures (``pitch_vs_baseline_st``, ``loudness_vs_baseline_db`` and the ratio
    ``articulation_vs_baseline`` in the summary) win when present; otherwise they are computed from
    the medians, so hand-made or older results still get them.
    """
    pitch = num(summary.get("pitch_vs_baseline_st"))
    if pitch is None:
        pitch = semitones(num(summary.get("pitch_median_hz")), num(baseline.get("pitch_median_hz")))
    loud = num(summary.get("loudness_vs_baseline_db"))
    if loud is None:
        a, b = num(summary.get("loudness_median_db")), num(baseline.get("loudness_median_db"))
        loud = a - b if a is not None and b is not None else None
    ratio = num(summary.get("articulation_vs_baseline"))
    if ratio is None:
        a, b = num(summary.get("articulation_rate_sps")), num(baseline.get("articulation_rate_sps"))
        ratio = a / b if a is not None and b else None
    return {"pitch_st": pitch, "loudness_db": loud, "articulation_pct": (ratio - 1) * 100 if ratio else None}


def warnings_of(result: Mapping) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for w in result.get("warnings") or []:
        if not isinstance(w, Mapping):
            continue
        start = num(w.get("start"))
        if start is None:
            continue
        end = num(w.get("end"))
        raised = num(w.get("raised_at"))  # absent in results written before it existed
        out.append(
            {
                "start": start,
                "end": end if end is not None and end >= start else start,
                "raised_at": raised if raised is not None and raised >= start else None,
                "kind": str(w.get("kind") or "warning"),
                "speaker": str(w.get("speaker") or "agent"),
                "message": w.get("message"),
            }
        )
    out.sort(key=lambda w: w["start"])
    return out


def spans_of(result: Mapping, key: str) -> list[dict]:
    out = []
    for item in result.get(key) or []:
        start = num(item.get("start")) if isinstance(item, Mapping) else None
        if start is None:
            continue
        end = num(item.get("end"))
        out.append({**item, "start": start, "end": end if end is not None and end >= start else start})
    out.sort(key=lambda s: s["start"])
    return out


def words_of(result: Mapping) -> list[dict]:
    """Agent and (if present) customer words, interleaved by start time."""
    out = []
    for speaker in ("agent", "customer"):
        block = result.get(speaker)
        if not isinstance(block, Mapping):
            continue
        for w in block.get("words") or []:
            if not isinstance(w, Mapping):
                continue
            start = num(w.get("start"))
            text = str(w.get("text") or "").strip()
            if start is None or not text:
                continue
            end = num(w.get("end"))
            out.append(
                {
                    "speaker": speaker,
                    "start": start,
                    "end": end if end is not None and end >= start else start,
                    "text": text,
                    "p": num(w.get("probability")),
                }
            )
    out.sort(key=lambda w: (w["start"], w["speaker"]))
    return out


class Intervals:
    """Overlap lookup for sorted spans: which spans overlap [start, end]?"""

    def __init__(self, spans: Sequence[dict]):
        self.spans = sorted(spans, key=lambda s: s["start"])
        self.starts = [s["start"] for s in self.spans]
        self.max_len = max((s["end"] - s["start"] for s in self.spans), default=0.0)

    def overlapping(self, start: float, end: float) -> Iterable[dict]:
        lo = bisect.bisect_left(self.starts, start - self.max_len - 1e-9)
        hi = bisect.bisect_right(self.starts, end)
        for s in self.spans[lo:hi]:
            if s["start"] <= end and s["end"] >= start and (s["end"] > start or s["start"] == start):
                yield s


_VERDICT_CLASS = {
    "pass": "good",
    "passed": "good",
    "ok": "good",
    "good": "good",
    "true": "good",
    "met": "good",
    "yes": "good",
    "warn": "warn",
    "warning": "warn",
    "borderline": "warn",
    "partial": "warn",
    "attention": "warn",
    "fail": "bad",
    "failed": "bad",
    "bad": "bad",
    "false": "bad",
    "missed": "bad",
    "no": "bad",
}


def verdict_class(verdict: Any) -> str:
    """A scorecard verdict as "good", "warn", "bad", or "neutral" when it is none of them (n/a, None)."""
    return _VERDICT_CLASS.get(str(verdict).strip().lower(), "neutral") if verdict is not None else "neutral"


_LABEL_KEYS = ("label", "name", "title", "id", "key")
_ADVICE_KEYS = ("advice", "description", "check", "rule", "text")
_VERDICT_KEYS = ("verdict", "status", "result", "passed", "pass", "ok", "grade")
_VALUE_KEYS = ("value", "detail", "details", "evidence", "measured", "score", "summary")
_MOMENT_KEYS = ("moments", "times", "timestamps", "at", "spans")


def _moment(m: Any) -> tuple[float, float | None] | None:
    if isinstance(m, Mapping):
        starts = [num(m.get(k)) for k in ("start", "t", "time", "at", "start_s")]
        ends = [num(m.get(k)) for k in ("end", "end_s")]
        start = next((v for v in starts if v is not None), None)
        end = next((v for v in ends if v is not None), None)
        return (start, end) if start is not None else None
    if isinstance(m, (list, tuple)) and m:
        start = num(m[0])
        end = num(m[1]) if len(m) > 1 else None
        return (start, end) if start is not None else None
    v = num(m)
    return (v, None) if v is not None else None


def scorecard_items(result: Mapping) -> tuple[list[dict], Any]:
    """Normalise the scorecard, whatever its exact shape, to (items, overall).

    Accepts {"items": [...], "overall": x}, a bare list of items, or a dict of id -> item (or of
    id -> scalar verdict). Each item becomes {label, advice, verdict, cls, value, moments, extra}.
    """
    sc = result.get("scorecard")
    if sc is None:
        return [], None
    overall, raw = _scorecard_entries(sc)
    return [_scorecard_item(key, item) for key, item in raw], overall


def _scorecard_entries(sc: Any) -> tuple[Any, list[tuple[str | None, Any]]]:
    """The overall score and the (id, item) pairs of a scorecard of any of the accepted shapes."""
    if isinstance(sc, list):
        return None, [(None, it) for it in sc]
    if not isinstance(sc, Mapping):
        return None, []
    overall = next((sc[k] for k in ("overall", "score", "total", "overall_score") if k in sc), None)
    items = sc.get("items", sc.get("checks", sc.get("criteria")))
    if isinstance(items, Mapping):
        return overall, list(items.items())
    if isinstance(items, list):
        return overall, [(None, it) for it in items]
    skip = {"overall", "score", "total", "overall_score", "version", "schema_version"}
    return overall, [(k, v) for k, v in sc.items() if k not in skip]


def _pick(item: Mapping, keys: Sequence[str], used: set[str]) -> Any:
    """The first of ``keys`` that ``item`` has (not None, not taken yet); marks it taken."""
    for k in keys:
        if k in item and item[k] is not None and k not in used:
            used.add(k)
            return item[k]
    return None


def _scorecard_item(key: str | None, item: Any) -> dict:
    if not isinstance(item, Mapping):
        item = {"verdict": item} if isinstance(item, (bool, str)) else {"value": item}
    used: set[str] = set()
    label = _pick(item, _LABEL_KEYS, used) or key or "item"
    advice = _pick(item, _ADVICE_KEYS, used)
    verdict = _pick(item, _VERDICT_KEYS, used)
    value = _pick(item, _VALUE_KEYS, used)
    moments_raw = _pick(item, _MOMENT_KEYS, used) or []
    if not isinstance(moments_raw, list):
        moments_raw = [moments_raw]
    moments = [m for m in (_moment(x) for x in moments_raw) if m]
    if isinstance(verdict, bool):
        verdict = "pass" if verdict else "fail"
    cls = verdict_class(verdict)
    extra = [
        (k, v) for k, v in item.items() if k not in used and isinstance(v, (str, int, float, bool)) and v is not None
    ]
    return {
        "label": label,
        "advice": advice,
        "verdict": verdict,
        "cls": cls,
        "value": value,
        "moments": moments,
        "extra": extra,
    }


# --------------------------------------------------------------------------------------------------
# HTML sections


def mapping(obj: Mapping | None, key: str) -> Mapping:
    """``obj[key]`` when it is a mapping, else an empty one (a result read back may lack parts)."""
    value = obj.get(key) if obj else None
    return value if isinstance(value, Mapping) else {}


def mapping_or_none(obj: Mapping | None, key: str) -> Mapping | None:
    """``obj[key]`` when it is a mapping, else None (e.g. no customer in a one-voice result)."""
    value = obj.get(key) if obj else None
    return value if isinstance(value, Mapping) else None
