"""The trainer's interactive HTML report: one self-contained file per analysed call.

``render_report(result, out_path)`` turns a schema-1 result (docs/CONTRACT.md) into a single HTML
file with plotly.js, CSS and JS inlined, so it opens offline from disk and loads nothing from the
network (a Content-Security-Policy in the page enforces that). The audio is either embedded as a
base64 data URI or linked by a path relative to the report's folder.

Every piece of text from the result is HTML-escaped here in Python; the page's script only reads
numbers and the figure from a JSON block (with ``<``, ``>`` and ``&`` escaped) and never writes
result text into the DOM.
"""

from __future__ import annotations

import base64
import bisect
import functools
import html
import json
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import quote

import numpy as np

from voice_coach import __version__
from voice_coach.errors import VoiceCoachError
from voice_coach.report._io import atomic_write_text

__all__ = ["ReportError", "ReportOptions", "decimate_minmax", "render_report"]


class ReportError(VoiceCoachError):
    """A report could not be written (e.g. the audio to embed is missing)."""


@dataclass(frozen=True)
class ReportOptions:
    """How the timeline is drawn. The calm bands are shading only; warnings come from the result."""

    pitch_band_st: float = 2.0
    """Calm pitch band: within this many semitones of the baseline."""
    loudness_band_db: float = 3.0
    """Calm loudness band: within this many dB of the baseline."""
    pace_band_wpm: tuple[float, float] = (120.0, 150.0)
    """Calm speaking rate, words per minute."""
    max_points_per_trace: int = 2000
    """Timelines longer than this are min/max-decimated (peaks kept); zooming in re-decimates the
    visible window from the full-resolution data embedded in the page."""
    low_probability: float = 0.5
    """Words the recogniser was less sure of than this are underlined as uncertain."""


WARNING_COLOURS = {
    "fast": "#f28e2b",
    "loud": "#e15759",
    "high_pitch": "#b07aa1",
    "agitated": "#ff9da7",
    "customer_agitated": "#9c755f",
    "mirroring": "#76b7b2",
}
_OTHER_COLOUR = "#8c8c8c"
_CALM_FILL = "rgba(89, 161, 79, 0.13)"

_SERIES_DECIMALS = {"pitch_st": 2, "pitch_hz": 1, "loudness_rel_db": 1, "loudness_db": 1,
                    "wpm": 1, "syllables_per_s": 2, "agitation": 3}


# --------------------------------------------------------------------------------------------------
# small formatting helpers


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: Any) -> float | None:
    """A finite float, or None for null / NaN / non-numbers (results may be hand-edited)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _clock(t_s: float | None, *, tenths: bool = False) -> str:
    """Seconds as m:ss (h:mm:ss past an hour), optionally with tenths."""
    if t_s is None:
        return "—"
    t_s = max(0.0, t_s)
    if tenths:
        whole = int(t_s)
        frac = int(round((t_s - whole) * 10))
        if frac == 10:
            whole, frac = whole + 1, 0
    else:
        whole, frac = int(round(t_s)), None
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    out = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    return out + (f".{frac}" if frac is not None else "")


def _fmt(value: Any, digits: int = 1, unit: str = "", *, signed: bool = False) -> str:
    v = _num(value)
    if v is None:
        return "—"
    text = f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"
    return f"{text}\u2009{unit}" if unit else text


def _css_token(value: Any) -> str:
    """A class-name-safe token from a kind/category/verdict string."""
    return re.sub(r"[^a-z0-9_-]+", "-", str(value).lower()).strip("-")[:40] or "other"


def _seek_attrs(start: float | None, end: float | None = None) -> str:
    if start is None:
        return ""
    attrs = f' data-t="{start:.3f}"'
    if end is not None and end > start:
        attrs += f' data-end="{end:.3f}"'
    return attrs


def _json_for_script(obj: Any) -> str:
    """JSON that is safe inside a <script> element: no '</script>' or '<!--' can appear."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    # An inline script ends at the first '</script' whatever the JS means; plotly's bundle has none
    # today, but guard so a future bundle cannot break the page.
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


def _asset(name: str) -> str:
    return resources.files("voice_coach.report").joinpath("assets", name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# timeline data


def decimate_minmax(
    t: np.ndarray, y: np.ndarray, max_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reduce a series to at most ``max_points`` points, keeping each bin's minimum and maximum.

    Parameters
    ----------
    t, y : np.ndarray, shape (n,)
        Times (any unit) and values; NaN marks unknown values (silence, unvoiced).
    max_points : int
        Upper bound on the output length (>= 2).

    Returns
    -------
    (t_out, y_out) : arrays of the same length <= max_points. A bin that holds only NaN yields one
    NaN point, so gaps longer than a bin stay gaps in the drawn line; peaks are never averaged away.
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    n = y.size
    if n <= max_points:
        return t, y
    nbins = max(1, max_points // 2)
    edges = np.linspace(0, n, nbins + 1).astype(int)
    out_t: list[float] = []
    out_y: list[float] = []
    for a, b in zip(edges[:-1], edges[1:]):
        if b <= a:
            continue
        seg = y[a:b]
        ok = np.flatnonzero(~np.isnan(seg))
        if ok.size == 0:
            out_t.append(float(t[(a + b - 1) // 2]))
            out_y.append(math.nan)
            continue
        i_min = a + ok[np.argmin(seg[ok])]
        i_max = a + ok[np.argmax(seg[ok])]
        for i in sorted({int(i_min), int(i_max)}):
            out_t.append(float(t[i]))
            out_y.append(float(y[i]))
    return np.array(out_t), np.array(out_y)


@dataclass
class _Speaker:
    name: str  # "agent" | "customer"
    t: np.ndarray  # seconds, shape (n,)
    cols: dict[str, np.ndarray]  # key -> values with NaN for null


def _speaker_timeline(name: str, block: Mapping | None) -> _Speaker | None:
    if not isinstance(block, Mapping):
        return None
    rows = [r for r in (block.get("timeline") or []) if isinstance(r, Mapping) and _num(r.get("t")) is not None]
    if not rows:
        return None
    rows.sort(key=lambda r: float(r["t"]))
    t = np.array([float(r["t"]) for r in rows])
    cols = {}
    for key in _SERIES_DECIMALS:
        vals = np.array([_num(r.get(key)) if _num(r.get(key)) is not None else math.nan for r in rows])
        if np.isfinite(vals).any():
            cols[key] = vals
    return _Speaker(name, t, cols)


def _timebase(t: np.ndarray) -> dict | list:
    """Compact encoding of the time axis: {t0, dt, n} when uniform (the contract's 0.1 s grid)."""
    if t.size >= 2:
        dt = (t[-1] - t[0]) / (t.size - 1)
        if dt > 0 and np.max(np.abs(t - (t[0] + dt * np.arange(t.size)))) < 1e-3:
            return {"t0": round(float(t[0]), 4), "dt": round(float(dt), 6), "n": int(t.size)}
    return [round(float(v), 3) for v in t]


def _rounded_list(values: np.ndarray, decimals: int) -> list:
    return [None if not math.isfinite(v) else round(float(v), decimals) for v in values]


@dataclass
class _Lane:
    key: str
    title: str
    traces: list[tuple[str, str, str, dict]]  # (speaker, column, legend name, style)
    band: tuple[float, float] | None
    secondary: tuple[str, str, str, dict] | None = None  # drawn on a right-hand axis
    y_range: tuple[float, float] | None = None


def _lanes(agent: _Speaker | None, customer: _Speaker | None, baseline: Mapping, opts: ReportOptions) -> list[_Lane]:
    lanes: list[_Lane] = []
    a = agent.cols if agent else {}
    blue = {"color": "#4e79a7", "width": 1.4}
    if "pitch_st" in a:
        lanes.append(_Lane("pitch", "Pitch (st vs baseline)", [("agent", "pitch_st", "Agent pitch", blue)],
                           (-opts.pitch_band_st, opts.pitch_band_st)))
    elif "pitch_hz" in a:
        lanes.append(_Lane("pitch", "Pitch (Hz)", [("agent", "pitch_hz", "Agent pitch", blue)], None))
    if "loudness_rel_db" in a:
        lanes.append(_Lane("loudness", "Loudness (dB vs baseline)",
                           [("agent", "loudness_rel_db", "Agent loudness", blue)],
                           (-opts.loudness_band_db, opts.loudness_band_db)))
    elif "loudness_db" in a:
        base = _num(baseline.get("loudness_median_db"))
        band = (base - opts.loudness_band_db, base + opts.loudness_band_db) if base is not None else None
        lanes.append(_Lane("loudness", "Loudness (dBFS)", [("agent", "loudness_db", "Agent loudness", blue)], band))
    sps_style = {"color": "#59a14f", "width": 1.0, "dash": "dot"}
    if "wpm" in a:
        sec = ("agent", "syllables_per_s", "Agent syllables/s", sps_style) if "syllables_per_s" in a else None
        lanes.append(_Lane("pace", "Pace (wpm)", [("agent", "wpm", "Agent wpm", blue)],
                           tuple(opts.pace_band_wpm), secondary=sec))
    elif "syllables_per_s" in a:
        lanes.append(_Lane("pace", "Pace (syllables/s)",
                           [("agent", "syllables_per_s", "Agent syllables/s", blue)], None))
    if customer is not None and "agitation" in customer.cols:
        traces = [("customer", "agitation", "Customer agitation", {"color": "#9c755f", "width": 1.6})]
        if "agitation" in a:
            traces.append(("agent", "agitation", "Agent agitation", {"color": "#4e79a7", "width": 1.0, "dash": "dot"}))
        lanes.append(_Lane("agitation", "Agitation (0–1)", traces, None, y_range=(0.0, 1.05)))
    return lanes


def _build_figure(result: Mapping, speakers: dict[str, _Speaker], lanes: list[_Lane],
                  duration_s: float, opts: ReportOptions) -> tuple[dict, dict]:
    """The plotly figure (as JSON-able dict) and the page's data block for zoom refinement."""
    from plotly.subplots import make_subplots

    nrows = len(lanes)
    specs = [[{"secondary_y": lane.secondary is not None}] for lane in lanes]
    fig = make_subplots(rows=nrows, cols=1, shared_xaxes=True, vertical_spacing=0.045,
                        subplot_titles=[lane.title for lane in lanes], specs=specs)
    refine = any(sp.t.size > opts.max_points_per_trace for sp in speakers.values())
    trace_map: list[dict] = []
    series: dict[str, list] = {}

    def add(lane_row: int, speaker: str, col: str, name: str, style: dict, secondary: bool) -> None:
        sp = speakers[speaker]
        t_s, y = decimate_minmax(sp.t, sp.cols[col], opts.max_points_per_trace)
        fig.add_trace(
            dict(type="scatter", mode="lines", name=name, x=[round(v * 1000.0, 1) for v in t_s],
                 y=_rounded_list(y, _SERIES_DECIMALS[col]), line=style, connectgaps=False,
                 hovertemplate="%{y:.2f}<extra>" + _esc(name) + "</extra>"),
            row=lane_row, col=1, **({"secondary_y": True} if secondary else {}),
        )
        key = f"{speaker}.{col}"
        trace_map.append({"i": len(fig.data) - 1, "key": key, "sp": speaker})
        if refine:
            series[key] = _rounded_list(sp.cols[col], _SERIES_DECIMALS[col])

    for row, lane in enumerate(lanes, start=1):
        for speaker, col, name, style in lane.traces:
            add(row, speaker, col, name, style, False)
        if lane.secondary:
            add(row, *lane.secondary, True)
        if lane.band:
            fig.add_hrect(y0=lane.band[0], y1=lane.band[1], row=row, col=1, fillcolor=_CALM_FILL,
                          line_width=0, layer="below")
        # An invisible, evenly spaced "clock" trace so a click anywhere on a lane (also in silence,
        # where the data lines have gaps) reports a time.
        sp0, col0 = lane.traces[0][0], lane.traces[0][1]
        vals = speakers[sp0].cols[col0]
        y_mid = float(np.nanmedian(vals)) if lane.band is None else sum(lane.band) / 2
        n_clock = min(opts.max_points_per_trace, max(2, int(duration_s * 10)))
        xs = np.linspace(0.0, duration_s, n_clock)
        fig.add_trace(dict(type="scatter", mode="markers", x=[round(v * 1000.0, 1) for v in xs],
                           y=[round(y_mid, 3)] * n_clock, marker={"opacity": 0, "size": 2},
                           hoverinfo="none", showlegend=False, name="clock"), row=row, col=1)
        trace_map.append({"i": len(fig.data) - 1, "key": "clock", "sp": None})
        fig.update_yaxes(title_text=None, row=row, col=1, fixedrange=True, zeroline=False,
                         **({"range": list(lane.y_range)} if lane.y_range else {}))
        if lane.secondary:
            fig.update_yaxes(title_text="syll/s", row=row, col=1, secondary_y=True, fixedrange=True,
                             showgrid=False)

    shapes = list(fig.layout.shapes or [])
    warnings = _warnings(result)
    for w in warnings:
        colour = WARNING_COLOURS.get(w["kind"], _OTHER_COLOUR)
        shapes.append(dict(type="rect", xref="x", yref="paper", x0=w["start"] * 1000.0,
                           x1=max(w["end"], w["start"] + 0.1) * 1000.0, y0=0, y1=1, fillcolor=colour,
                           opacity=0.22, line={"width": 0}, layer="below", name="warning"))
    shapes.append(dict(type="line", xref="x", yref="paper", x0=0, x1=0, y0=0, y1=1, visible=False,
                       line={"color": "#d62728", "width": 2}, name="playhead", layer="above"))

    hours = duration_s >= 3600
    prefix = "%H:" if hours else ""
    fig.update_xaxes(type="date", range=[0, duration_s * 1000.0], showspikes=True, spikemode="across",
                     spikethickness=1, spikecolor="#999", hoverformat=prefix + "%M:%S.%1f",
                     tickformatstops=[dict(dtickrange=[None, 1000], value=prefix + "%M:%S.%1f"),
                                      dict(dtickrange=[1000, None], value=prefix + "%M:%S")])
    fig.update_layout(
        template="plotly_white", height=80 + 165 * nrows, margin=dict(l=52, r=52, t=36, b=30),
        hovermode="x unified", dragmode="zoom", shapes=shapes,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1, font={"size": 11}),
        font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12),
    )
    for ann in fig.layout.annotations:
        ann.update(x=0, xanchor="left", font={"size": 12, "color": "#444"})
    figure = json.loads(fig.to_json())
    data = {
        "traces": trace_map,
        "refine": refine,
        "max_points": opts.max_points_per_trace,
        "time": {name: _timebase(sp.t) for name, sp in speakers.items()} if refine else {},
        "series": series,
    }
    return figure, data


# --------------------------------------------------------------------------------------------------
# result pieces, normalised


def _warnings(result: Mapping) -> list[dict]:
    out = []
    for w in result.get("warnings") or []:
        if not isinstance(w, Mapping):
            continue
        start = _num(w.get("start"))
        if start is None:
            continue
        end = _num(w.get("end"))
        out.append({"start": start, "end": end if end is not None and end >= start else start,
                    "kind": str(w.get("kind") or "warning"), "speaker": str(w.get("speaker") or "agent"),
                    "message": w.get("message")})
    out.sort(key=lambda w: w["start"])
    return out


def _spans(result: Mapping, key: str) -> list[dict]:
    out = []
    for item in result.get(key) or []:
        if not isinstance(item, Mapping) or _num(item.get("start")) is None:
            continue
        start = _num(item.get("start"))
        end = _num(item.get("end"))
        out.append({**item, "start": start, "end": end if end is not None and end >= start else start})
    out.sort(key=lambda s: s["start"])
    return out


def _words(result: Mapping) -> list[dict]:
    """Agent and (if present) customer words, interleaved by start time."""
    out = []
    for speaker in ("agent", "customer"):
        block = result.get(speaker)
        if not isinstance(block, Mapping):
            continue
        for w in block.get("words") or []:
            if not isinstance(w, Mapping):
                continue
            start = _num(w.get("start"))
            text = str(w.get("text") or "").strip()
            if start is None or not text:
                continue
            end = _num(w.get("end"))
            out.append({"speaker": speaker, "start": start,
                        "end": end if end is not None and end >= start else start,
                        "text": text, "p": _num(w.get("probability"))})
    out.sort(key=lambda w: (w["start"], w["speaker"]))
    return out


class _Intervals:
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
    "pass": "good", "passed": "good", "ok": "good", "good": "good", "true": "good", "met": "good", "yes": "good",
    "warn": "warn", "warning": "warn", "borderline": "warn", "partial": "warn", "attention": "warn",
    "fail": "bad", "failed": "bad", "bad": "bad", "false": "bad", "missed": "bad", "no": "bad",
}
_LABEL_KEYS = ("label", "name", "title", "id", "key")
_ADVICE_KEYS = ("advice", "description", "check", "rule", "text")
_VERDICT_KEYS = ("verdict", "status", "result", "passed", "pass", "ok", "grade")
_VALUE_KEYS = ("value", "detail", "details", "evidence", "measured", "score", "summary")
_MOMENT_KEYS = ("moments", "times", "timestamps", "at", "spans")


def _moment(m: Any) -> tuple[float, float | None] | None:
    if isinstance(m, Mapping):
        start = next((_num(m.get(k)) for k in ("start", "t", "time", "at", "start_s") if _num(m.get(k)) is not None), None)
        end = next((_num(m.get(k)) for k in ("end", "end_s") if _num(m.get(k)) is not None), None)
        return (start, end) if start is not None else None
    if isinstance(m, (list, tuple)) and m:
        start = _num(m[0])
        end = _num(m[1]) if len(m) > 1 else None
        return (start, end) if start is not None else None
    v = _num(m)
    return (v, None) if v is not None else None


def _scorecard(result: Mapping) -> tuple[list[dict], Any]:
    """Normalise the scorecard, whatever its exact shape, to (items, overall).

    Accepts {"items": [...], "overall": x}, a bare list of items, or a dict of id -> item (or of
    id -> scalar verdict). Each item becomes {label, advice, verdict, cls, value, moments, extra}.
    """
    sc = result.get("scorecard")
    if sc is None:
        return [], None
    overall = None
    raw: list[tuple[str | None, Any]] = []
    if isinstance(sc, Mapping):
        overall = next((sc[k] for k in ("overall", "score", "total", "overall_score") if k in sc), None)
        items = sc.get("items", sc.get("checks", sc.get("criteria")))
        if isinstance(items, Mapping):
            raw = list(items.items())
        elif isinstance(items, list):
            raw = [(None, it) for it in items]
        else:
            skip = {"overall", "score", "total", "overall_score", "version", "schema_version"}
            raw = [(k, v) for k, v in sc.items() if k not in skip]
    elif isinstance(sc, list):
        raw = [(None, it) for it in sc]
    out = []
    for key, item in raw:
        if not isinstance(item, Mapping):
            item = {"verdict": item} if isinstance(item, (bool, str)) else {"value": item}
        used: set[str] = set()

        def pick(keys: Sequence[str]) -> Any:
            for k in keys:
                if k in item and item[k] is not None and k not in used:
                    used.add(k)
                    return item[k]
            return None

        label = pick(_LABEL_KEYS) or key or "item"
        advice = pick(_ADVICE_KEYS)
        verdict = pick(_VERDICT_KEYS)
        value = pick(_VALUE_KEYS)
        moments_raw = pick(_MOMENT_KEYS) or []
        moments = [m for m in (_moment(x) for x in (moments_raw if isinstance(moments_raw, list) else [moments_raw])) if m]
        if isinstance(verdict, bool):
            verdict = "pass" if verdict else "fail"
        cls = _VERDICT_CLASS.get(str(verdict).strip().lower(), "neutral") if verdict is not None else "neutral"
        extra = [(k, v) for k, v in item.items()
                 if k not in used and isinstance(v, (str, int, float, bool)) and v is not None]
        out.append({"label": label, "advice": advice, "verdict": verdict, "cls": cls, "value": value,
                    "moments": moments, "extra": extra})
    return out, overall


# --------------------------------------------------------------------------------------------------
# HTML sections


def _render_value(v: Any) -> str:
    if isinstance(v, float):
        return _esc(f"{v:.3g}")
    if isinstance(v, (dict, list)):
        return _esc(json.dumps(v, ensure_ascii=False)[:200])
    return _esc(v)


def _section_scorecard(result: Mapping) -> str:
    items, overall = _scorecard(result)
    if not items and overall is None:
        return ""
    rows = []
    for it in items:
        moments = " ".join(
            f'<button type="button" class="seek moment"{_seek_attrs(s, e)}>{_clock(s, tenths=True)}</button>'
            for s, e in it["moments"]
        ) or '<span class="muted">—</span>'
        extra = "".join(f'<span class="kv">{_esc(k)}: {_render_value(v)}</span>' for k, v in it["extra"])
        rows.append(
            f'<tr class="sc-{it["cls"]}"><td><span class="verdict {it["cls"]}">'
            f'{_esc(it["verdict"]) if it["verdict"] is not None else "—"}</span></td>'
            f'<td><strong>{_esc(it["label"])}</strong>'
            f'{"<div class=advice>" + _esc(it["advice"]) + "</div>" if it["advice"] is not None else ""}</td>'
            f'<td>{_render_value(it["value"]) if it["value"] is not None else "—"}{extra}</td>'
            f'<td class="moments">{moments}</td></tr>'
        )
    overall_html = ""
    ov = _num(overall)
    if overall is not None:
        overall_html = (f'<div class="overall"><span class="big {_score_class(ov)}">'
                        f'{_esc(f"{ov:.0f}" if ov is not None else overall)}</span> overall</div>')
    table = ("<table class=scorecard><thead><tr><th>Verdict</th><th>Check</th><th>Value</th><th>Moments</th>"
             "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>") if rows else ""
    return f'<section id="scorecard" class="card"><h2>Scorecard</h2>{overall_html}{table}</section>'


def _score_class(score: float | None) -> str:
    if score is None:
        return "neutral"
    return "good" if score >= 75 else "warn" if score >= 50 else "bad"


def _semitones(hz: float | None, base: float | None) -> float | None:
    if hz is None or base is None or hz <= 0 or base <= 0:
        return None
    return 12 * math.log2(hz / base)


def _section_summary(result: Mapping, opts: ReportOptions) -> str:
    agent = result.get("agent") if isinstance(result.get("agent"), Mapping) else {}
    cust = result.get("customer") if isinstance(result.get("customer"), Mapping) else None
    s = agent.get("summary") if isinstance(agent.get("summary"), Mapping) else {}
    b = agent.get("baseline") if isinstance(agent.get("baseline"), Mapping) else {}
    cs = (cust.get("summary") if cust and isinstance(cust.get("summary"), Mapping) else {}) if cust else None
    g = lambda d, k: _num(d.get(k)) if d is not None else None  # noqa: E731

    lo, hi = opts.pace_band_wpm
    wpm = g(s, "speaking_rate_wpm")
    pace_note = "—" if wpm is None else ("in calm range" if lo <= wpm <= hi else
                                         f"{wpm - hi:+.0f} above calm" if wpm > hi else f"{wpm - lo:+.0f} below calm")
    sps, sps_b = g(s, "articulation_rate_sps"), g(b, "articulation_rate_sps")
    sps_note = f"{(sps / sps_b - 1) * 100:+.0f}\u2009%" if sps is not None and sps_b else "—"
    st = _semitones(g(s, "pitch_median_hz"), g(b, "pitch_median_hz"))
    loud, loud_b = g(s, "loudness_median_db"), g(b, "loudness_median_db")
    rows = [
        ("Talk time", _clock(g(s, "talk_time_s")), "", "", _clock(g(cs, "talk_time_s")) if cs is not None else None),
        ("Speaking rate", _fmt(wpm, 0, "wpm"), f"calm {lo:.0f}–{hi:.0f}\u2009wpm", pace_note,
         _fmt(g(cs, "speaking_rate_wpm"), 0, "wpm") if cs is not None else None),
        ("Articulation rate", _fmt(sps, 2, "syll/s"), _fmt(sps_b, 2, "syll/s"), sps_note,
         _fmt(g(cs, "articulation_rate_sps"), 2, "syll/s") if cs is not None else None),
        ("Pitch median", _fmt(g(s, "pitch_median_hz"), 0, "Hz"), _fmt(g(b, "pitch_median_hz"), 0, "Hz"),
         _fmt(st, 1, "st", signed=True), _fmt(g(cs, "pitch_median_hz"), 0, "Hz") if cs is not None else None),
        ("Pitch spread", _fmt(g(s, "pitch_spread_st"), 1, "st"), "", "",
         _fmt(g(cs, "pitch_spread_st"), 1, "st") if cs is not None else None),
        ("Loudness median", _fmt(loud, 1, "dB"), _fmt(loud_b, 1, "dB"),
         _fmt(loud - loud_b if loud is not None and loud_b is not None else None, 1, "dB", signed=True),
         _fmt(g(cs, "loudness_median_db"), 1, "dB") if cs is not None else None),
        ("Agitation mean", _fmt(g(s, "agitation_mean"), 2), "0 calm … 1 agitated", "",
         _fmt(g(cs, "agitation_mean"), 2) if cs is not None else None),
    ]
    head = "<tr><th>Measure</th><th>Agent</th><th>Calm baseline</th><th>Agent vs baseline</th>"
    head += "<th>Customer</th></tr>" if cs is not None else "</tr>"
    body = "".join(
        f"<tr><th scope=row>{_esc(name)}</th><td>{_esc(v)}</td><td class=muted>{_esc(base)}</td>"
        f"<td>{_esc(delta)}</td>" + (f"<td>{_esc(c)}</td>" if cs is not None else "") + "</tr>"
        for name, v, base, delta, c in rows
    )
    score = g(s, "calm_score")
    base_src = b.get("source")
    base_note = {"profile": "from the agent's calm profile",
                 "self-calibrated": "self-calibrated from this call's calmest stretch"}.get(
        str(base_src), "no baseline" if base_src is None else str(base_src))
    return (
        '<section id="summary" class="card"><h2>Agent against calm baseline</h2>'
        f'<div class="scorebox"><span class="big {_score_class(score)}">{_fmt(score, 0)}</span>'
        f'<span>calm score<br><small class=muted>0–100, higher is calmer</small></span></div>'
        f'<p class="muted small">Baseline: {_esc(base_note)}.</p>'
        f"<table class=summary><thead>{head}</thead><tbody>{body}</tbody></table></section>"
    )


def _kind_label(kind: str) -> str:
    return kind.replace("_", " ")


def _section_lists(result: Mapping) -> str:
    warnings = _warnings(result)
    events = _spans(result, "events")
    phrases = _spans(result, "phrases")
    parts = []
    items = "".join(
        f'<li><button type="button" class="seek warning-item k-{_css_token(w["kind"])}"{_seek_attrs(w["start"], w["end"])}'
        f' data-kind="{_esc(w["kind"])}"><span class="swatch" style="background:{WARNING_COLOURS.get(w["kind"], _OTHER_COLOUR)}"></span>'
        f'<span class="when">{_clock(w["start"], tenths=True)}–{_clock(w["end"], tenths=True)}</span> '
        f'<span class="kind">{_esc(_kind_label(w["kind"]))}</span> '
        f'<span class="who">{_esc(w["speaker"])}</span> <span class="msg">{_esc(w["message"] or "")}</span>'
        f"</button></li>"
        for w in warnings
    )
    parts.append(
        f'<div class="list-block"><h2>Warnings <small class=muted>({len(warnings)})</small></h2>'
        + (f'<ol id="warnings" class="seek-list">{items}</ol>' if warnings
           else '<p class="muted" id="warnings-empty">No warnings: the agent stayed within the calm range.</p>')
        + "</div>"
    )
    if events:
        items = "".join(
            f'<li><button type="button" class="seek event-item"{_seek_attrs(e["start"], e["end"])}>'
            f'<span class="when">{_clock(e["start"], tenths=True)}–{_clock(e["end"], tenths=True)}</span> '
            f'<span class="kind">{_esc(_kind_label(str(e.get("kind") or "event")))}</span> '
            f'<span class="who">{_esc(e.get("speaker") or "")}</span></button></li>'
            for e in events
        )
        parts.append(f'<div class="list-block"><h2>Events <small class=muted>({len(events)})</small></h2>'
                     f'<ol id="events" class="seek-list">{items}</ol></div>')
    if phrases:
        items = "".join(
            f'<li><button type="button" class="seek phrase-item"{_seek_attrs(p["start"], p["end"])}>'
            f'<span class="when">{_clock(p["start"], tenths=True)}</span> '
            f'<span class="cat ph-{_css_token(p.get("category") or "phrase")}">{_esc(p.get("category") or "phrase")}</span> '
            f'<span class="who">{_esc(p.get("speaker") or "")}</span> '
            f'<q>{_esc(p.get("text") or "")}</q></button></li>'
            for p in phrases
        )
        parts.append(f'<div class="list-block"><h2>Phrases <small class=muted>({len(phrases)})</small></h2>'
                     f'<ol id="phrases" class="seek-list">{items}</ol></div>')
    return '<section id="lists" class="card lists">' + "".join(parts) + "</section>"


def _section_transcript(result: Mapping, opts: ReportOptions) -> str:
    words = _words(result)
    warnings = {sp: _Intervals([w for w in _warnings(result) if w["speaker"] == sp]) for sp in ("agent", "customer")}
    phrases = {sp: _Intervals([p for p in _spans(result, "phrases") if (p.get("speaker") or "agent") == sp])
               for sp in ("agent", "customer")}
    legend = (
        '<div class="legend"><span class="w warn">in a warning</span>'
        '<span class="w ph">matched phrase</span><span class="w lowp">uncertain word</span>'
        '<span class="w focus">selected</span><span class="w now">playing</span>'
        '<span class="muted small">Click any word to play from there.</span></div>'
    )
    if not words:
        return (f'<section id="transcript-card" class="card"><h2>Transcript</h2>'
                f'<p class="muted" id="transcript-empty">No words were recognised.</p></section>')
    turns: list[str] = []
    current: list[str] = []
    speaker = None
    turn_start = 0.0
    two_voices = isinstance(result.get("customer"), Mapping)

    def close() -> None:
        if current:
            who = "Agent" if speaker == "agent" else "Customer"
            turns.append(
                f'<p class="turn {speaker}"><button type="button" class="seek stamp"{_seek_attrs(turn_start)}>'
                f'{_clock(turn_start)}</button>' + (f'<span class="spk">{who}</span>' if two_voices else "")
                + " ".join(current) + "</p>"
            )

    for w in words:
        if w["speaker"] != speaker:
            close()
            current, speaker, turn_start = [], w["speaker"], w["start"]
        classes = ["w"]
        titles = []
        warn = next(iter(warnings[w["speaker"]].overlapping(w["start"], w["end"])), None)
        if warn:
            classes += ["warn", f"k-{_css_token(warn['kind'])}"]
            titles.append(_kind_label(warn["kind"]))
        ph = next(iter(phrases[w["speaker"]].overlapping(w["start"], w["end"])), None)
        if ph:
            classes += ["ph", f"ph-{_css_token(ph.get('category') or 'phrase')}"]
            titles.append(f"phrase: {ph.get('category') or ''}")
        if w["p"] is not None and w["p"] < opts.low_probability:
            classes.append("lowp")
            titles.append(f"p={w['p']:.2f}")
        title = f' title="{_esc(", ".join(titles))}"' if titles else ""
        current.append(f'<span class="{" ".join(classes)}"{_seek_attrs(w["start"], w["end"])}{title}>'
                       f"{_esc(w['text'])}</span>")
    close()
    return (f'<section id="transcript-card" class="card"><h2>Transcript</h2>{legend}'
            f'<div id="transcript">{"".join(turns)}</div></section>')


def _audio_src(audio_path: Path, out_path: Path, embed: bool) -> str:
    if embed:
        if not audio_path.is_file():
            raise ReportError(f"Cannot embed audio {audio_path}: no such file. Pass an existing audio "
                              "file, or embed_audio=False to link it by path.")
        mime = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg",
                ".opus": "audio/ogg", ".flac": "audio/flac", ".m4a": "audio/mp4", ".mp4": "audio/mp4",
                ".aac": "audio/aac", ".webm": "audio/webm"}.get(audio_path.suffix.lower(), "application/octet-stream")
        return f"data:{mime};base64," + base64.b64encode(audio_path.read_bytes()).decode("ascii")
    try:
        rel = os.path.relpath(audio_path.resolve(), out_path.resolve().parent)
    except ValueError:  # another drive on Windows: no relative path exists
        return audio_path.resolve().as_uri()
    return "/".join(quote(part) for part in Path(rel).as_posix().split("/"))


_CSP = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
        "img-src data: blob:; font-src data:; media-src 'self' file: data: blob:; connect-src 'none'; "
        "form-action 'none'; base-uri 'none'")


def render_report(
    result: dict,
    out_path: Path,
    *,
    audio_path: Path | None = None,
    embed_audio: bool = False,
    options: ReportOptions | None = None,
) -> None:
    """Write the interactive HTML report for one analysed call.

    Parameters
    ----------
    result : dict
        A schema-1 result (docs/CONTRACT.md). Missing or null pieces are shown as absent.
    out_path : Path
        The HTML file to write (atomically: temp file in the same folder, then os.replace).
    audio_path : Path, optional
        The call's audio. None hides the player (clicks still select moments).
    embed_audio : bool
        True embeds the audio as a base64 data URI (the report grows by ~4/3 of the audio file);
        False links it by a path relative to the report's folder, so keep them together.
    options : ReportOptions, optional
        Calm bands and decimation limits for the timeline.
    """
    if not isinstance(result, Mapping):
        raise ReportError(f"Cannot render a report from {type(result).__name__}: expected the result dict "
                          "of `voice-coach analyze` (docs/CONTRACT.md).")
    opts = options or ReportOptions()
    out_path = Path(out_path)

    speakers = {}
    for name in ("agent", "customer"):
        sp = _speaker_timeline(name, result.get(name))
        if sp is not None:
            speakers[name] = sp
    agent_block = result.get("agent") if isinstance(result.get("agent"), Mapping) else {}
    baseline = agent_block.get("baseline") if isinstance(agent_block.get("baseline"), Mapping) else {}
    duration = _num(result.get("duration_s"))
    if duration is None or duration <= 0:
        ends = [sp.t[-1] + 0.05 for sp in speakers.values()] + [w["end"] for w in _words(result)]
        duration = max(ends, default=1.0)
    lanes = _lanes(speakers.get("agent"), speakers.get("customer"), baseline, opts)

    page_data: dict[str, Any] = {"duration_s": duration, "figure": None}
    if lanes:
        figure, extra = _build_figure(result, speakers, lanes, duration, opts)
        page_data.update(extra, figure=figure)
        timeline_html = '<div id="timeline" class="plot"></div>'
    else:
        timeline_html = '<p class="muted" id="timeline-empty">No timeline in this result.</p>'

    audio_html = '<div id="player" class="player" hidden></div>'
    if audio_path is not None:
        src = _audio_src(Path(audio_path), out_path, embed_audio)
        audio_html = (
            f'<div id="player" class="player"><audio id="audio" controls preload="metadata" src="{_esc(src)}">'
            "</audio><span id="now" class="now-time">0:00.0</span>"
            f'<span class="muted small audio-name">{_esc(Path(audio_path).name)}</span>'
            '<span id="audio-error" class="error" hidden>Audio could not be loaded: keep the audio file next '
            "to this report (same relative path), or re-render with embedded audio.</span></div>"
        )

    source = str(result.get("source") or "call")
    title = Path(source.replace("\\", "/")).name or source
    warn_kinds = sorted({w["kind"] for w in _warnings(result)})
    warn_legend = "".join(
        f'<span class="lg"><span class="swatch" style="background:{WARNING_COLOURS.get(k, _OTHER_COLOUR)}"></span>'
        f"{_esc(_kind_label(k))}</span>" for k in warn_kinds
    )
    timeline_legend = (
        '<div class="legend small"><span class="lg"><span class="swatch calm"></span>calm range</span>'
        f'{warn_legend}<span class="lg"><span class="swatch playhead"></span>playback position</span>'
        '<span class="muted">Drag to zoom, double-click to reset, click to play from that moment.</span></div>'
    )
    meta = " · ".join(_esc(x) for x in (
        f"{_clock(duration)} long", f"model {result.get('model') or '?'}",
        f"schema {result.get('schema_version', '?')}", f"voice-coach {__version__}") if x)

    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="voice-coach {_esc(__version__)}">
<link rel="icon" href="data:,">
<title>{_esc(title)} · voice-coach report</title>
<style>{_asset("report.css")}</style>
</head>
<body>
<header class="top">
<div><h1>{_esc(title)}</h1><div class="muted small" title="{_esc(source)}">{meta}</div></div>
{audio_html}
</header>
<main>
<div class="grid">{_section_scorecard(result)}{_section_summary(result, opts)}</div>
<section id="timeline-card" class="card"><h2>Timeline</h2>{timeline_legend}{timeline_html}</section>
{_section_lists(result)}
{_section_transcript(result, opts)}
</main>
<footer class="muted small">Generated offline by voice-coach {_esc(__version__)}. Nothing in this page loads from the network.</footer>
<script type="application/json" id="vc-data">{_json_for_script(page_data)}</script>
<script>{_plotly_js() if lanes else ""}</script>
<script>{_asset("report.js")}</script>
</body>
</html>
"""
    atomic_write_text(out_path, page)
