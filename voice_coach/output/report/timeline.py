"""The timeline figure: stacked lanes (pitch, loudness, pace, customer agitation) on one time axis.

A plotly.js figure written as plain dicts (the layout of plotly's ``make_subplots(shared_xaxes=True)``,
without the python package); calm bands are shaded rectangles per lane and warnings are spans across
all lanes. The traces carry no points: every series goes once, packed (packing.py), into the
page's data block; report.js unpacks it, min/max-decimates it for the first draw and re-decimates
the visible window from the full-resolution series when the trainer zooms.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from voice_coach.output.report._result import num, warnings_of
from voice_coach.output.report.options import ReportOptions
from voice_coach.output.report.packing import Packer

__all__ = ["SERIES_FORMAT", "WARNING_COLOURS", "X0_MS", "build_figure", "make_lanes", "speaker_timeline"]

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

X0_MS = 86_400_000.0
"""Where t = 0 sits on the plot's date axis (1970-01-02 00:00, in ms). Plotly reads a 2- or 4-digit
number on a date axis as a year, so elapsed milliseconds from 1970-01-01 would misplace points
between 1 and 10 s; a whole-day offset keeps every value 8+ digits and the clock labels unchanged."""

SERIES_FORMAT: dict[str, tuple[int, str]] = {
    "pitch_st": (10, ".1f"),
    "pitch_hz": (1, ".0f"),
    "loudness_rel_db": (10, ".1f"),
    "loudness_db": (10, ".1f"),
    "wpm": (1, ".0f"),
    "syllables_per_s": (100, ".2f"),
    "agitation": (100, ".2f"),
}
"""Per timeline column: (steps per unit it is kept to in the page, hover format). A series is
packed to the precision its hover label shows (0.1 st, 1 Hz, 0.1 dB, 1 wpm, 0.01 syll/s, 0.01
agitation); one step is about a pixel of the lane's height."""


@dataclass
class Speaker:
    """One speaker's timeline as arrays: times and the numeric columns that have any value."""

    name: str  # "agent" | "customer"
    t: np.ndarray  # seconds, shape (n,)
    cols: dict[str, np.ndarray]  # key -> values with NaN for null


def speaker_timeline(name: str, block: Mapping | None) -> Speaker | None:
    """The ``timeline`` of a result's agent/customer block, sorted by t; None when there is none."""
    if not isinstance(block, Mapping):
        return None
    rows = [r for r in (block.get("timeline") or []) if isinstance(r, Mapping) and num(r.get("t")) is not None]
    if not rows:
        return None
    rows.sort(key=lambda r: float(r["t"]))
    t = np.array([float(r["t"]) for r in rows])
    cols = {}
    for key in SERIES_FORMAT:
        vals = _column([r.get(key) for r in rows])
        if np.isfinite(vals).any():
            cols[key] = vals
    return Speaker(name, t, cols)


def _column(raw: list) -> np.ndarray:
    """Values as floats, NaN for what ``num`` calls no number; None, plain ints and floats take a fast
    path (an hour is 36 000 steps of 7 columns per voice)."""
    vals = np.array(
        [
            math.nan if v is None else v if type(v) is float or (type(v) is int and abs(v) < 2**53) else _number(v)
            for v in raw
        ],
        dtype=float,
    )
    vals[~np.isfinite(vals)] = math.nan
    return vals


def _number(value: object) -> float:
    try:
        f = num(value)
    except OverflowError:  # an int too large for a float
        return math.nan
    return math.nan if f is None else f


def _timebase(name: str, t: np.ndarray, packer: Packer) -> dict:
    """The time axis of a speaker: {t0, dt, n} when uniform (the contract's 0.1 s grid), else the
    key of its times (ms) in the packed block."""
    if t.size >= 2:
        dt = (t[-1] - t[0]) / (t.size - 1)
        if dt > 0 and np.max(np.abs(t - (t[0] + dt * np.arange(t.size)))) < 1e-3:
            return {"t0": round(float(t[0]), 4), "dt": round(float(dt), 6), "n": int(t.size)}
    packer.add(f"time.{name}", t, 1000)
    return {"key": f"time.{name}", "n": int(t.size)}


def _x(t_s: float) -> float:
    return round(X0_MS + t_s * 1000.0, 1)


@dataclass
class Lane:
    """One stacked subplot: its traces, calm band (y0, y1) and optional right-hand trace."""

    key: str
    title: str
    traces: list[tuple[str, str, str, dict]]  # (speaker, column, legend name, style)
    band: tuple[float, float] | None
    secondary: tuple[str, str, str, dict] | None = None  # drawn on a right-hand axis
    y_range: tuple[float, float] | None = None


def make_lanes(agent: Speaker | None, customer: Speaker | None, baseline: Mapping, opts: ReportOptions) -> list[Lane]:
    """The lanes this result has data for, top to bottom: pitch, loudness, pace, agitation.

    Relative columns (``pitch_st``, ``loudness_rel_db``) are preferred, with the calm band around
    0; without them the absolute ones are drawn (loudness banded around the baseline if known).
    The agitation lane appears only with a customer channel.
    """
    lanes: list[Lane] = []
    a = agent.cols if agent else {}
    blue = {"color": "#4e79a7", "width": 1.4}
    if "pitch_st" in a:
        lanes.append(
            Lane(
                "pitch",
                "Pitch (st vs baseline)",
                [("agent", "pitch_st", "Agent pitch", blue)],
                (-opts.pitch_band_st, opts.pitch_band_st),
            )
        )
    elif "pitch_hz" in a:
        lanes.append(Lane("pitch", "Pitch (Hz)", [("agent", "pitch_hz", "Agent pitch", blue)], None))
    if "loudness_rel_db" in a:
        lanes.append(
            Lane(
                "loudness",
                "Loudness (dB vs baseline)",
                [("agent", "loudness_rel_db", "Agent loudness", blue)],
                (-opts.loudness_band_db, opts.loudness_band_db),
            )
        )
    elif "loudness_db" in a:
        base = num(baseline.get("loudness_median_db"))
        band = (base - opts.loudness_band_db, base + opts.loudness_band_db) if base is not None else None
        lanes.append(Lane("loudness", "Loudness (dBFS)", [("agent", "loudness_db", "Agent loudness", blue)], band))
    sps_style = {"color": "#59a14f", "width": 1.0, "dash": "dot"}
    if "wpm" in a:
        sec = ("agent", "syllables_per_s", "Agent syllables/s", sps_style) if "syllables_per_s" in a else None
        lanes.append(
            Lane("pace", "Pace (wpm)", [("agent", "wpm", "Agent wpm", blue)], opts.pace_band_wpm, secondary=sec)
        )
    elif "syllables_per_s" in a:
        lanes.append(
            Lane("pace", "Pace (syllables/s)", [("agent", "syllables_per_s", "Agent syllables/s", blue)], None)
        )
    if customer is not None and "agitation" in customer.cols:
        traces = [("customer", "agitation", "Customer agitation", {"color": "#9c755f", "width": 1.6})]
        if "agitation" in a:
            dotted = {"color": "#4e79a7", "width": 1.0, "dash": "dot"}
            traces.append(("agent", "agitation", "Agent agitation", dotted))
        lanes.append(Lane("agitation", "Agitation (0–1)", traces, None, y_range=(0.0, 1.05)))
    return lanes


def _robust_range(columns: list[np.ndarray], band: tuple[float, float] | None) -> tuple[float, float] | None:
    """A y range that always shows the calm band and every peak above it, but not deep dips.

    Real tracks dip far below the band at each speech onset and offset (loudness 40-60 dB under the
    baseline), which would squash the band into a line. So the bottom stops at the 2nd percentile,
    and no lower than two band-widths under the band; the top is kept whole, because peaks above
    the band are what the trainer is looking for.
    """
    finite = [c[np.isfinite(c)] for c in columns]
    v = np.concatenate(finite) if finite else np.array([])
    if v.size == 0:
        return None
    lo, hi = float(np.percentile(v, 2)), float(v.max())
    if band:
        lo = min(band[0], max(lo, band[0] - 2 * (band[1] - band[0])))
        hi = max(hi, band[1])
    pad = 0.06 * ((hi - lo) or 1.0)
    return (round(lo - pad, 3), round(hi + pad, 3))


VERTICAL_SPACING = 0.045
"""Gap between lanes, as a fraction of the plot's height."""
SECONDARY_X_END = 0.94
"""Right end of the lanes' x domain when a lane has a right-hand axis (room for its tick labels)."""
_GRID = "#e1e4e8"  # report.css --line
_TEXT = "#1f2328"  # report.css --fg


def _axis_name(letter: str, n: int) -> tuple[str, str]:
    """(trace reference, layout key) of axis ``n``: ("x", "xaxis") for 1, ("x2", "xaxis2") after."""
    return (letter, f"{letter}axis") if n == 1 else (f"{letter}{n}", f"{letter}axis{n}")


def _lane_axes(lanes: list[Lane]) -> list[tuple[int, int, int | None]]:
    """(x axis, y axis, right-hand y axis or None) numbers of each lane, numbered top to bottom with
    a lane's right-hand axis right after its own: the numbering of plotly's ``make_subplots``."""
    out = []
    n_y = 0
    for k, lane in enumerate(lanes, start=1):
        n_y += 1
        y = n_y
        y2 = None
        if lane.secondary:
            n_y += 1
            y2 = n_y
        out.append((k, y, y2))
    return out


def build_figure(
    result: Mapping,
    speakers: dict[str, Speaker],
    lanes: list[Lane],
    duration_s: float,
    opts: ReportOptions,
    packer: Packer,
) -> tuple[dict, dict]:
    """The plotly figure (a JSON-able dict for plotly.js) and the page's data that fills its traces.

    Each drawn series is added once to ``packer`` (key ``speaker.column``); the figure's traces are
    empty and the data names, per trace, the series (or "clock") report.js fills it from.

    The figure is written here as plain dicts, without the python plotly package: one lane per row
    with its own x axis, all x axes matching the bottom one (one zoom for all), titles as
    annotations above each lane, calm bands as shapes on each lane and warnings as shapes across
    all of them. tests/test_report_library.py checks the layout against ``make_subplots``.
    """
    axes = _lane_axes(lanes)
    n = len(lanes)
    height = (1 - VERTICAL_SPACING * (n - 1)) / n
    x_end = SECONDARY_X_END if any(lane.secondary for lane in lanes) else 1.0
    bottom_x = _axis_name("x", n)[0]
    traces: list[dict] = []
    layout: dict[str, Any] = {}
    annotations: list[dict] = []
    bands: list[dict] = []
    trace_map: list[dict] = []
    packed: set[str] = set()
    for row, (lane, (nx, ny, ny2)) in enumerate(zip(lanes, axes, strict=True)):
        x_ref, x_key = _axis_name("x", nx)
        y_ref, y_key = _axis_name("y", ny)
        top = 1 - row * (height + VERTICAL_SPACING)
        lane_traces = [(*trace, False) for trace in lane.traces]
        if lane.secondary:
            lane_traces.append((*lane.secondary, True))
        for speaker, col, name, style, secondary in lane_traces:
            on_y = _axis_name("y", ny2)[0] if secondary and ny2 else y_ref
            traces.append(_series_trace(col, name, style, x_ref, on_y))
            key = f"{speaker}.{col}"
            trace_map.append({"i": len(traces) - 1, "key": key, "sp": speaker})
            if key not in packed:
                packer.add(key, speakers[speaker].cols[col], SERIES_FORMAT[col][0])
                packed.add(key)
        if lane.band:
            bands.append(
                dict(
                    type="rect",
                    xref=f"{x_ref} domain",
                    x0=0,
                    x1=1,
                    yref=y_ref,
                    y0=lane.band[0],
                    y1=lane.band[1],
                    fillcolor=_CALM_FILL,
                    line={"width": 0},
                    layer="below",
                )
            )
        traces.append(_clock_trace(x_ref, y_ref))
        trace_map.append({"i": len(traces) - 1, "key": "clock", "sp": None, "y": _clock_y(lane, speakers)})
        layout[x_key] = _x_axis(duration_s, y_ref, [0.0, x_end], None if nx == n else bottom_x)
        layout[y_key] = _y_axis(lane, speakers, x_ref, [round(top - height, 10), round(top, 10)])
        if ny2:
            layout[_axis_name("y", ny2)[1]] = {
                "anchor": x_ref,
                "overlaying": y_ref,
                "side": "right",
                "title": {"text": "syll/s"},
                "fixedrange": True,
                "showgrid": False,
                "tickformat": ".1f",
                "automargin": True,
            }
        annotations.append(
            {
                "text": lane.title,
                "x": 0,
                "xref": "paper",
                "xanchor": "left",
                "y": round(top, 10),
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 12, "color": "#444"},
            }
        )

    layout.update(
        annotations=annotations,
        shapes=bands + _unattributed_shapes(result),
        height=110 + 150 * n,
        margin=dict(l=52, r=52, t=24, b=64),
        hovermode="x unified",
        hoverlabel={"align": "left"},
        dragmode="zoom",
        paper_bgcolor="white",
        plot_bgcolor="white",
        legend=dict(orientation="h", yanchor="top", y=-0.04, xanchor="left", x=0, font={"size": 11}),
        font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=12, color=_TEXT),
    )
    data = {
        "traces": trace_map,
        "x0_ms": X0_MS,
        "max_points": opts.max_points_per_trace,
        "time": {name: _timebase(name, sp.t, packer) for name, sp in speakers.items()},
        "warning_shapes": _warning_shapes(result),
    }
    return {"data": traces, "layout": layout}, data


def _series_trace(col: str, name: str, style: dict, x_ref: str, y_ref: str) -> dict:
    """One speaker column as a line on axes ``x_ref``/``y_ref``; report.js fills its points."""
    return dict(
        type="scatter",
        mode="lines",
        name=name,
        x=[],
        y=[],
        line=dict(style),
        connectgaps=False,
        hovertemplate="%{y:" + SERIES_FORMAT[col][1] + "}<extra>" + html.escape(name) + "</extra>",
        xaxis=x_ref,
        yaxis=y_ref,
    )


def _clock_trace(x_ref: str, y_ref: str) -> dict:
    """An invisible, evenly spaced "clock" trace on a lane (report.js fills its points).

    A click anywhere on a lane (also in silence, where the data lines have gaps) then reports a time.
    """
    return dict(
        type="scatter",
        mode="markers",
        x=[],
        y=[],
        marker={"opacity": 0, "size": 2},
        hoverinfo="none",
        showlegend=False,
        name="clock",
        xaxis=x_ref,
        yaxis=y_ref,
    )


def _clock_y(lane: Lane, speakers: dict[str, Speaker]) -> float:
    """Where a lane's clock trace runs: mid-band, else the median of its first series."""
    if lane.band is not None:
        return round(sum(lane.band) / 2, 3)
    sp0, col0 = lane.traces[0][0], lane.traces[0][1]
    return round(float(np.nanmedian(speakers[sp0].cols[col0])), 3)


def _x_axis(duration_s: float, y_ref: str, domain: list[float], matches: str | None) -> dict:
    """A lane's time axis: clock ticks (hours only on long calls); lanes above the bottom one match
    it and hide their tick labels."""
    prefix = "%H:" if duration_s >= 3600 else ""
    axis: dict[str, Any] = {"anchor": y_ref, "domain": domain}
    if matches:
        axis.update(matches=matches, showticklabels=False)
    axis.update(
        type="date",
        range=[X0_MS, _x(duration_s)],
        showspikes=True,
        spikemode="across",
        spikethickness=1,
        spikecolor="#999",
        hoverformat=prefix + "%M:%S.%1f",
        tickformatstops=[
            dict(dtickrange=[None, 1000], value=prefix + "%M:%S.%1f"),
            dict(dtickrange=[1000, None], value=prefix + "%M:%S"),
        ],
        gridcolor=_GRID,
        linecolor=_GRID,
        automargin=True,
    )
    return axis


def _y_axis(lane: Lane, speakers: dict[str, Speaker], x_ref: str, domain: list[float]) -> dict:
    """A lane's y axis: fixed (zoom is on time only), a robust range around the calm band."""
    y_range = lane.y_range or _robust_range([speakers[s].cols[c] for s, c, _, _ in lane.traces], lane.band)
    axis: dict[str, Any] = {
        "anchor": x_ref,
        "domain": domain,
        "fixedrange": True,
        "zeroline": False,
        "gridcolor": _GRID,
        "linecolor": _GRID,
        "automargin": True,
    }
    if y_range:
        axis["range"] = list(y_range)
    return axis


WARNING_SHAPE = {
    "type": "rect",
    "xref": "x",
    "yref": "paper",
    "y0": 0,
    "y1": 1,
    "opacity": 0.22,
    "line": {"width": 0},
    "layer": "below",
    "name": "warning",
}
"""A warning's full-height rectangle; report.js adds x0, x1 and the kind's fillcolor."""


def _warning_shapes(result: Mapping) -> dict:
    """One translucent full-height rectangle per warning, coloured by its kind (at least 0.1 s wide),
    written compactly: the shared ``style``, the ``colours`` and per warning [start s, end s, colour
    index] (an hour's 120 warnings as full shapes were 21 KB of the page)."""
    colours: list[str] = []
    spans = []
    for w in warnings_of(result):
        colour = WARNING_COLOURS.get(w["kind"], _OTHER_COLOUR)
        if colour not in colours:
            colours.append(colour)
        spans.append([round(w["start"], 3), round(max(w["end"], w["start"] + 0.1), 3), colours.index(colour)])
    return {"style": WARNING_SHAPE, "colours": colours, "spans": spans}


UNATTRIBUTED_FILL = "#8c8c8c"
"""Grey bands over speech of a mono recording given to neither voice (overlap, unsure)."""


def _unattributed_shapes(result: Mapping) -> list[dict]:
    """One grey full-height band per stretch of a mono recording's speech that was given to neither voice."""
    sep = result.get("separation")
    if not isinstance(sep, Mapping) or sep.get("speakers") != 2:
        return []
    shapes = []
    for st in sep.get("stretches") or []:
        if not isinstance(st, Mapping) or st.get("voice") is not None:
            continue
        start, end = num(st.get("start")), num(st.get("end"))
        if start is None or end is None:
            continue
        shapes.append(
            dict(
                type="rect",
                xref="x",
                yref="paper",
                x0=_x(start),
                x1=_x(max(end, start + 0.1)),
                y0=0,
                y1=1,
                fillcolor=UNATTRIBUTED_FILL,
                opacity=0.3,
                line={"width": 1, "color": UNATTRIBUTED_FILL, "dash": "dot"},
                layer="below",
                name="unattributed",
            )
        )
    return shapes
