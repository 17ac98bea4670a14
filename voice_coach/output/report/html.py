"""The trainer's interactive HTML report: one self-contained file per analysed call.

``render_report(result, out_path)`` turns a schema-1 result (docs/CONTRACT.md) into a single HTML
file with plotly.js (the vendored basic bundle, plotlyjs.py, embedded deflated: the page inflates
it), CSS and JS inlined, so it opens offline from disk and loads nothing from the network (a
Content-Security-Policy in the page enforces that). In a batch folder the library may instead be
one shared file loaded by a relative path. The audio is either embedded as a base64 data URI or
linked by a path relative to the report's folder.

Every piece of text from the result is HTML-escaped here in Python. The page's script reads the
figure and numbers from a JSON block (with ``<``, ``>`` and ``&`` escaped; the long series and the
word times packed by packing.py) and never parses text as HTML: it splits the transcript's own text
nodes into word spans and sets marked words' titles as a DOM property.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from voice_coach import __version__
from voice_coach.output.files import write_text_atomic
from voice_coach.output.report import plotlyjs
from voice_coach.output.report._result import (
    Intervals,
    baseline_deltas,
    clock,
    css_token,
    mapping,
    mapping_or_none,
    num,
    scorecard_items,
    spans_of,
    warnings_of,
    words_of,
)
from voice_coach.output.report.options import ReportOptions
from voice_coach.output.report.packing import Packer
from voice_coach.output.report.page import ReportError, page_head
from voice_coach.output.report.page import asset as _asset
from voice_coach.output.report.page import esc as _esc
from voice_coach.output.report.timeline import (
    _OTHER_COLOUR,
    UNATTRIBUTED_FILL,
    WARNING_COLOURS,
    build_figure,
    make_lanes,
    speaker_timeline,
)

__all__ = ["ReportError", "ReportOptions", "render_report"]


def _fmt(value: Any, digits: int = 1, unit: str = "", *, signed: bool = False) -> str:
    v = num(value)
    if v is None:
        return "—"
    text = f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"
    return f"{text}\u2009{unit}" if unit else text


def _short(t: float) -> str:
    """A time to the millisecond in as few characters as it takes (31.2, not 31.200)."""
    return f"{t:.3f}".rstrip("0").rstrip(".")


def _seek_attrs(start: float | None, end: float | None = None) -> str:
    if start is None:
        return ""
    attrs = f' data-t="{_short(start)}"'
    if end is not None and end > start:
        attrs += f' data-end="{_short(end)}"'
    return attrs


def _json_for_script(obj: Any) -> str:
    """JSON that is safe inside a <script> element: no '</script>' or '<!--' can appear."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# --------------------------------------------------------------------------------------------------
# HTML sections


def _render_value(v: Any) -> str:
    if isinstance(v, float):
        return _esc(f"{v:.3g}")
    if isinstance(v, (dict, list)):
        return _esc(json.dumps(v, ensure_ascii=False)[:200])
    return _esc(v)


def _section_scorecard(result: Mapping) -> str:
    items, overall = scorecard_items(result)
    if not items and overall is None:
        return ""
    rows = []
    for it in items:
        moments = (
            " ".join(
                f'<button class="seek moment"{_seek_attrs(s, e)}>{clock(s, tenths=True)}</button>'
                for s, e in it["moments"]
            )
            or '<span class="muted">—</span>'
        )
        extra = "".join(f'<span class="kv">{_esc(k)}: {_render_value(v)}</span>' for k, v in it["extra"])
        rows.append(
            f'<tr class="sc-{it["cls"]}"><td><span class="verdict {it["cls"]}">'
            f"{_esc(it['verdict']) if it['verdict'] is not None else '—'}</span></td>"
            f"<td><strong>{_esc(str(it['label']).replace('_', ' '))}</strong>"
            f"{'<div class=advice>' + _esc(it['advice']) + '</div>' if it['advice'] is not None else ''}</td>"
            f"<td>{_render_value(it['value']) if it['value'] is not None else '—'}{extra}</td>"
            f'<td class="moments">{moments}</td></tr>'
        )
    overall_html = ""
    ov = num(overall)
    if overall is not None:
        overall_html = (
            f'<div class="overall"><span class="big {_score_class(ov)}">'
            f"{_esc(f'{ov:.0f}' if ov is not None else overall)}</span> overall</div>"
        )
    table = (
        (
            "<table class=scorecard><thead><tr><th>Verdict</th><th>Check</th><th>Value</th><th>Moments</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        )
        if rows
        else ""
    )
    return f'<section id="scorecard" class="card"><h2>Scorecard</h2>{overall_html}{table}</section>'


def _score_class(score: float | None) -> str:
    if score is None:
        return "neutral"
    return "good" if score >= 75 else "warn" if score >= 50 else "bad"


def _section_summary(result: Mapping, opts: ReportOptions) -> str:
    agent = mapping(result, "agent")
    cust = mapping_or_none(result, "customer")
    s = mapping(agent, "summary")
    b = mapping(agent, "baseline")
    cs = mapping(cust, "summary") if cust else None
    g = lambda d, k: num(d.get(k)) if d is not None else None  # noqa: E731

    lo, hi = opts.pace_band_wpm
    wpm = g(s, "speaking_rate_wpm")
    pace_note = (
        "—"
        if wpm is None
        else (
            "in calm range"
            if lo <= wpm <= hi
            else f"{wpm - hi:+.0f} above calm"
            if wpm > hi
            else f"{wpm - lo:+.0f} below calm"
        )
    )
    sps, sps_b = g(s, "articulation_rate_sps"), g(b, "articulation_rate_sps")
    delta = baseline_deltas(s, b)
    loud, loud_b = g(s, "loudness_median_db"), g(b, "loudness_median_db")
    rows = [
        ("Talk time", clock(g(s, "talk_time_s")), "", "", clock(g(cs, "talk_time_s")) if cs is not None else None),
        (
            "Speaking rate",
            _fmt(wpm, 0, "wpm"),
            f"calm {lo:.0f}–{hi:.0f}\u2009wpm",
            pace_note,
            _fmt(g(cs, "speaking_rate_wpm"), 0, "wpm") if cs is not None else None,
        ),
        (
            "Articulation rate",
            _fmt(sps, 2, "syll/s"),
            _fmt(sps_b, 2, "syll/s"),
            _fmt(delta["articulation_pct"], 0, "%", signed=True),
            _fmt(g(cs, "articulation_rate_sps"), 2, "syll/s") if cs is not None else None,
        ),
        (
            "Pitch median",
            _fmt(g(s, "pitch_median_hz"), 0, "Hz"),
            _fmt(g(b, "pitch_median_hz"), 0, "Hz"),
            _fmt(delta["pitch_st"], 1, "st", signed=True),
            _fmt(g(cs, "pitch_median_hz"), 0, "Hz") if cs is not None else None,
        ),
        (
            "Pitch spread",
            _fmt(g(s, "pitch_spread_st"), 1, "st"),
            "",
            "",
            _fmt(g(cs, "pitch_spread_st"), 1, "st") if cs is not None else None,
        ),
        (
            "Loudness median",
            _fmt(loud, 1, "dB"),
            _fmt(loud_b, 1, "dB"),
            _fmt(delta["loudness_db"], 1, "dB", signed=True),
            _fmt(g(cs, "loudness_median_db"), 1, "dB") if cs is not None else None,
        ),
        (
            "Agitation mean",
            _fmt(g(s, "agitation_mean"), 2),
            "",
            "0 calm … 1 agitated",
            _fmt(g(cs, "agitation_mean"), 2) if cs is not None else None,
        ),
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
    base_note = {
        "profile": "from the agent's calm profile",
        "self-calibrated": "self-calibrated from this call's calmest stretch",
    }.get(str(base_src), "no baseline" if base_src is None else str(base_src))
    return (
        '<section id="summary" class="card"><h2>Agent against calm baseline</h2>'
        f'<div class="scorebox"><span class="big {_score_class(score)}">{_fmt(score, 0)}</span>'
        f"<span>calm score<br><small class=muted>0–100, higher is calmer</small></span></div>"
        f'<p class="muted small">Baseline: {_esc(base_note)}.</p>'
        f"<table class=summary><thead>{head}</thead><tbody>{body}</tbody></table></section>"
    )


def _kind_label(kind: str) -> str:
    return kind.replace("_", " ")


def _warning_item(w: Mapping) -> str:
    """One warning of the list: its span (click to play), when the cue was raised, kind, voice, message."""
    raised = ""
    if w.get("raised_at") is not None:
        raised = f'<span class="raised">cue at {clock(w["raised_at"], tenths=True)}</span> '
    return (
        f'<li><button class="seek warning-item k-{css_token(w["kind"])}"'
        f'{_seek_attrs(w["start"], w["end"])} data-kind="{_esc(w["kind"])}">'
        f"{_list_swatch(w['kind'])}"
        f'<span class="kind">{_esc(_kind_label(w["kind"]))}</span> {raised}'
        f'<small>{_esc(w["speaker"])}</small> <span class="msg">{_esc(w["message"] or "")}</span>'
        f"</button></li>"
    )


def _list_swatch(kind: str) -> str:
    """The colour swatch of a warning in the list: report.css colours the known kinds (``.k-fast >
    .swatch``), so only another kind carries its colour inline."""
    if kind in WARNING_COLOURS:
        return '<span class="swatch"></span>'
    return f'<span class="swatch" style="background:{_OTHER_COLOUR}"></span>'


def _section_lists(result: Mapping) -> str:
    warnings = warnings_of(result)
    events = spans_of(result, "events")
    phrases = spans_of(result, "phrases")
    parts = []
    items = "".join(_warning_item(w) for w in warnings)
    parts.append(
        f'<div class="list-block"><h2>Warnings <small class=muted>({len(warnings)})</small></h2>'
        + (
            f'<ol id="warnings" class="seek-list">{items}</ol>'
            if warnings
            else '<p class="muted" id="warnings-empty">No warnings: the agent stayed within the calm range.</p>'
        )
        + "</div>"
    )
    if events:
        items = "".join(
            f'<li><button class="seek"{_seek_attrs(e["start"], e["end"])}>'
            f'<span class="kind">{_esc(_kind_label(str(e.get("kind") or "event")))}</span> '
            f"<small>{_esc(e.get('speaker') or '')}</small></button></li>"
            for e in events
        )
        parts.append(
            f'<div class="list-block"><h2>Events <small class=muted>({len(events)})</small></h2>'
            f'<ol id="events" class="seek-list">{items}</ol></div>'
        )
    if phrases:
        items = "".join(
            f'<li><button class="seek"{_seek_attrs(p["start"], p["end"])}>'
            f'<span class="cat ph-{css_token(p.get("category") or "phrase")}">'
            f"{_esc(p.get('category') or 'phrase')}</span> "
            f"<small>{_esc(p.get('speaker') or '')}</small> "
            f"<q>{_esc(p.get('text') or '')}</q></button></li>"
            for p in phrases
        )
        parts.append(
            f'<div class="list-block"><h2>Phrases <small class=muted>({len(phrases)})</small></h2>'
            f'<ol id="phrases" class="seek-list">{items}</ol></div>'
        )
    return '<section id="lists" class="card lists">' + "".join(parts) + "</section>"


def _section_transcript(result: Mapping, opts: ReportOptions, packer: Packer) -> tuple[str, dict | None]:
    """The transcript card, and the page data that times its words (None when there are none).

    Turns are plain text, one space between words (a space inside a word is written as a no-break
    space); consecutive words with the same marks (in a warning, matched phrase, uncertain) share
    one ``<span class="mk ...">`` with the marks' classes. The words' start and length (to 10 ms,
    in page order) go to ``packer`` as ``words.t`` and ``words.len``, and the recogniser's
    probability of the uncertain ones (below ``opts.low_probability``, else null) as
    ``words.lowp``. report.js splits the text into one clickable span per word, marks the
    uncertain ones (class ``lowp``, title ``p=0.43``), adds each turn's time stamp and speaker
    label, and titles a run by its classes from the data's ``titles`` (a run whose classes another
    title already has keeps its own ``title``).
    """
    words = words_of(result)
    warnings = {sp: Intervals([w for w in warnings_of(result) if w["speaker"] == sp]) for sp in ("agent", "customer")}
    phrases = {
        sp: Intervals([p for p in spans_of(result, "phrases") if (p.get("speaker") or "agent") == sp])
        for sp in ("agent", "customer")
    }
    legend = (
        '<div class="legend"><span class="w warn">in a warning</span>'
        '<span class="w ph">matched phrase</span><span class="w lowp">uncertain word</span>'
        '<span class="w focus">selected</span><span class="w now">playing</span>'
        '<span class="muted small">Click any word to play from there.</span></div>'
    )
    if not words:
        return (
            '<section id="transcript-card" class="card"><h2>Transcript</h2>'
            '<p class="muted" id="transcript-empty">No words were recognised.</p></section>'
        ), None
    starts: list[float] = []
    lengths: list[float] = []
    low_p: list[float] = []
    titles_of: dict[str, str] = {}
    html_turns = []
    for turn in _turns(words):
        speaker = turn[0]["speaker"]
        runs: list[tuple[tuple[str, str], list[str]]] = []
        for w in turn:
            classes = []
            titles = []
            warn = next(iter(warnings[speaker].overlapping(w["start"], w["end"])), None)
            if warn:
                classes += ["warn", f"k-{css_token(warn['kind'])}"]
                titles.append(_kind_label(warn["kind"]))
            ph = next(iter(phrases[speaker].overlapping(w["start"], w["end"])), None)
            if ph:
                classes += ["ph", f"ph-{css_token(ph.get('category') or 'phrase')}"]
                titles.append(f"phrase: {ph.get('category') or ''}")
            uncertain = w["p"] is not None and w["p"] < opts.low_probability
            low_p.append(w["p"] if uncertain else math.nan)
            marks = (" ".join(classes), ", ".join(titles))
            text = html.escape("\u00a0".join(w["text"].split()), quote=False)
            if runs and runs[-1][0] == marks:
                runs[-1][1].append(text)
            else:
                runs.append((marks, [text]))
            t0, t1 = round(w["start"] * 100), round(w["end"] * 100)
            starts.append(t0 / 100)
            lengths.append(max(0, t1 - t0) / 100)
        pieces = []
        for (cls, title), texts in runs:
            if not cls:
                pieces.append(" ".join(texts))
            elif titles_of.setdefault(cls, title) != title:
                pieces.append(f'<span class="mk {cls}" title="{_esc(title)}">{" ".join(texts)}</span>')
            else:
                pieces.append(f'<span class="mk {cls}">{" ".join(texts)}</span>')
        html_turns.append(f"<p class={speaker}>{' '.join(pieces)}</p>")
    packer.add("words.t", np.array(starts), 100)
    packer.add("words.len", np.array(lengths), 100)
    packer.add("words.lowp", np.array(low_p), 100)
    two_voices = isinstance(result.get("customer"), Mapping)
    return (
        f'<section id="transcript-card" class="card"><h2>Transcript</h2>{legend}'
        f'<div id="transcript">{"".join(html_turns)}</div></section>'
    ), {"n": len(starts), "labels": two_voices, "titles": titles_of}


TURN_GAP_S = 1.0
"""A pause longer than this (seconds) starts a new turn of the same speaker."""
TURN_CROSSTALK_WORDS = 3
"""So many words of the other speaker since a speaker's last word also start a new turn."""


def _turns(words: list[dict]) -> list[list[dict]]:
    """Group time-ordered words of both speakers into turns, in order of each turn's first word.

    Word-by-word interleaving turns overlapping speech into a ping-pong of one-word lines; instead
    a speaker's turn runs on through the other's backchannel ("yeah", "okay") and ends at a pause
    or once the other speaker has said a few words.
    """
    turns: list[list[dict]] = []
    open_turn: dict[str, list[dict]] = {}
    others_since: dict[str, int] = {}
    for w in words:
        sp = w["speaker"]
        cur = open_turn.get(sp)
        if cur is None or w["start"] - cur[-1]["end"] > TURN_GAP_S or others_since.get(sp, 0) >= TURN_CROSSTALK_WORDS:
            cur = open_turn[sp] = []
            turns.append(cur)
        cur.append(w)
        for other in others_since:
            others_since[other] += 1
        others_since[sp] = 0
    return turns


def _audio_src(audio_path: Path, out_path: Path, embed: bool) -> str:
    if embed:
        if not audio_path.is_file():
            raise ReportError(
                f"Cannot embed audio {audio_path}: no such file. Pass an existing audio "
                "file, or embed_audio=False to link it by path."
            )
        mime = {
            ".wav": "audio/wav",
            ".mp3": "audio/mpeg",
            ".ogg": "audio/ogg",
            ".oga": "audio/ogg",
            ".opus": "audio/ogg",
            ".flac": "audio/flac",
            ".m4a": "audio/mp4",
            ".mp4": "audio/mp4",
            ".aac": "audio/aac",
            ".webm": "audio/webm",
        }.get(audio_path.suffix.lower(), "application/octet-stream")
        return f"data:{mime};base64," + base64.b64encode(audio_path.read_bytes()).decode("ascii")
    return _relative_url(audio_path, out_path)


def render_report(
    result: dict,
    out_path: Path,
    *,
    audio_path: Path | None = None,
    embed_audio: bool = False,
    shared_assets_dir: Path | None = None,
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
    shared_assets_dir : Path, optional
        None (default) embeds the plotting library (deflated), so the report is one self-contained
        file (about 0.5 MB plus the call). A folder writes the library there once (``write_shared``:
        skipped when an identical copy exists) and the page loads it by a path relative to the
        report's folder, so a batch of reports shares one copy; keep the folders together.
    options : ReportOptions, optional
        Calm bands and decimation limits for the timeline.
    """
    if not isinstance(result, Mapping):
        raise ReportError(
            f"Cannot render a report from {type(result).__name__}: expected the result dict "
            "of `voice-coach analyze` (docs/CONTRACT.md)."
        )
    opts = options or ReportOptions()
    out_path = Path(out_path)

    speakers = _speaker_timelines(result)
    duration = _call_duration(result, speakers)
    agent_block = mapping(result, "agent")
    baseline = mapping(agent_block, "baseline")
    lanes = make_lanes(speakers.get("agent"), speakers.get("customer"), baseline, opts)

    packer = Packer()
    page_data: dict[str, Any] = {"duration_s": duration, "figure": None}
    if lanes:
        figure, extra = build_figure(result, speakers, lanes, duration, opts, packer)
        page_data.update(extra, figure=figure)
    transcript, page_data["words"] = _section_transcript(result, opts, packer)
    audio_html = _audio_player_html(audio_path, out_path, embed_audio)
    plot_script, shared_src = "", None
    if lanes:
        plot_script, shared_src = _plot_library_script(out_path, shared_assets_dir)
        if shared_src is not None:  # shown by the page if the shared file is missing
            page_data["plot_library"] = shared_src
    page_data["packed"] = packer.block()
    page = _page_html(
        result, opts, duration, page_data, audio_html, plot_script, transcript, embedded=shared_src is None
    )
    write_text_atomic(out_path, page)


def _relative_url(target: Path, out_path: Path) -> str:
    """``target`` as a URL relative to the folder of ``out_path`` (an absolute ``file:`` URL when no
    relative path exists, e.g. another drive on Windows)."""
    try:
        rel = os.path.relpath(target.resolve(), out_path.resolve().parent)
    except ValueError:
        return target.resolve().as_uri()
    return "/".join(quote(part) for part in Path(rel).as_posix().split("/"))


def _plot_library_script(out_path: Path, shared_assets_dir: Path | None) -> tuple[str, str | None]:
    """The ``<script>`` of the plotting library, embedded or loading the shared copy; and that copy's
    URL relative to the report (None when embedded).

    Embedded, it is a data block (a ``<script>`` of a type the browser does not run) holding the
    bundle deflated and base64 (``plotlyjs.packed_js``), with the inflated length in ``data-bytes``.
    It goes first in the body, followed by loader.js, which inflates it while the browser parses the
    rest of the page and runs it as an inline script; report.js draws once it has run. Base64 has
    no ``<``, so nothing in it can end the element."""
    if shared_assets_dir is None:
        block = f'<script type="application/octet-stream" id="vc-plotly" data-bytes="{len(plotlyjs.js_bytes())}">'
        return f"{block}{plotlyjs.packed_js()}</script>", None
    src = _relative_url(plotlyjs.write_shared(Path(shared_assets_dir)), out_path)
    return f'<script src="{_esc(src)}"></script>', src


def _speaker_timelines(result: Mapping) -> dict:
    """The timeline data of each speaker present in the result, keyed "agent" / "customer"."""
    speakers = {}
    for name in ("agent", "customer"):
        sp = speaker_timeline(name, result.get(name))
        if sp is not None:
            speakers[name] = sp
    return speakers


def _call_duration(result: Mapping, speakers: dict) -> float:
    """The call's duration: the result's own, else the end of the last frame or word (1 s if none)."""
    duration = num(result.get("duration_s"))
    if duration is None or duration <= 0:
        ends = [sp.t[-1] + 0.05 for sp in speakers.values()] + [w["end"] for w in words_of(result)]
        duration = max(ends, default=1.0)
    return duration


def _timeline_html(has_timeline: bool) -> str:
    """The timeline's plot container, or a note that the result has no timeline."""
    if not has_timeline:
        return '<p class="muted" id="timeline-empty">No timeline in this result.</p>'
    # The playback line is a DOM overlay, not a plotly shape: relayout of a shape recomputes the
    # whole figure (165 ms on a 1-minute call, 325 ms on an hour), far too slow for playback.
    return (
        '<div class="plot-wrap"><div id="timeline" class="plot"></div>'
        '<div id="playhead" class="playhead" hidden></div></div>'
    )


def _audio_player_html(audio_path: Path | None, out_path: Path, embed_audio: bool) -> str:
    """The header's audio player (hidden when there is no audio), embedding or linking the audio."""
    if audio_path is None:
        return '<div id="player" class="player" hidden></div>'
    src = _audio_src(Path(audio_path), out_path, embed_audio)
    return (
        f'<div id="player" class="player"><audio id="audio" controls preload="metadata" src="{_esc(src)}">'
        '</audio><span id="now" class="now-time">0:00.0</span>'
        f'<span class="muted small audio-name">{_esc(Path(audio_path).name)}</span>'
        '<span id="audio-error" class="error" hidden>Audio could not be loaded: keep the audio file next '
        "to this report (same relative path), or re-render with embedded audio.</span></div>"
    )


def _timeline_legend(result: Mapping) -> str:
    """The legend above the timeline: calm range, one swatch per warning kind present, playback line."""
    warn_kinds = sorted({w["kind"] for w in warnings_of(result)})
    warn_legend = "".join(
        f'<span class="lg"><span class="swatch" style="background:{WARNING_COLOURS.get(k, _OTHER_COLOUR)}"></span>'
        f"{_esc(_kind_label(k))}</span>"
        for k in warn_kinds
    )
    if _unattributed_speech(result):
        warn_legend += (
            f'<span class="lg"><span class="swatch" style="background:{UNATTRIBUTED_FILL};opacity:.5"></span>'
            "speech given to neither voice</span>"
        )
    return (
        '<div class="legend small"><span class="lg"><span class="swatch calm"></span>calm range</span>'
        f'{warn_legend}<span class="lg"><span class="swatch playline"></span>playback position</span>'
        '<span class="muted">Drag to zoom, double-click to reset, click to play from that moment.</span></div>'
    )


def _unattributed_speech(result: Mapping) -> bool:
    sep = result.get("separation")
    return isinstance(sep, Mapping) and sep.get("speakers") == 2 and (num(sep.get("unattributed_s")) or 0.0) > 0


def _voices_note(result: Mapping) -> str:
    """For a mono recording split into voices: how, and how the agent was chosen (uncertain in the warning
    colour); grey bands on the timeline mark speech given to neither voice."""
    sep = result.get("separation")
    if not isinstance(sep, Mapping):
        return ""
    from voice_coach.output.summary_view import separation_line

    line = separation_line(dict(sep))
    if not line:
        return ""
    choice = sep.get("agent_choice")
    uncertain = isinstance(choice, Mapping) and bool(choice.get("uncertain"))
    colour = ' style="color:var(--warn)"' if uncertain else ""
    note = " Grey bands: speech analyzed as neither voice's." if _unattributed_speech(result) else ""
    return f'<p id="voices" class="small"{colour}>{_esc(line + ".")}{_esc(note)}</p>'


def _header_meta(result: Mapping, duration: float) -> str:
    """The line under the title: length, model, schema and voice-coach version, escaped."""
    return " · ".join(
        _esc(x)
        for x in (
            f"{clock(duration)} long",
            f"model {result.get('model') or '?'}",
            f"schema {result.get('schema_version', '?')}",
            f"voice-coach {__version__}",
        )
        if x
    )


def _page_html(
    result: Mapping,
    opts: ReportOptions,
    duration: float,
    page_data: dict[str, Any],
    audio_html: str,
    plot_script: str,
    transcript: str,
    *,
    embedded: bool,
) -> str:
    """Assemble the whole HTML document: head, header with player, sections, data and scripts.

    ``plot_script`` is the plotting library's ``<script>`` element, empty when there is no timeline:
    ``embedded`` (the deflated data block), it goes first in the body, before loader.js, so that the
    library is inflated and compiled while the rest of the page is parsed; a shared library's
    ``<script src>`` goes just before report.js."""
    has_timeline = bool(plot_script)
    source = str(result.get("source") or "call")
    title = Path(source.replace("\\", "/")).name or source
    meta = _header_meta(result, duration)
    timeline_legend = _timeline_legend(result) if has_timeline else ""
    voices, legend = _voices_note(result), timeline_legend
    footer = (
        f'<footer class="muted small">Generated offline by voice-coach {_esc(__version__)}. '
        "Nothing in this page loads from the network.</footer>"
    )
    return (
        page_head(f"{title} · voice-coach report")
        + f"""<body>
{plot_script if embedded else ""}
<script>{_asset("loader.js")}</script>
<header class="top">
<div><h1>{_esc(title)}</h1><div class="muted small" title="{_esc(source)}">{meta}</div></div>
{audio_html}
</header>
<main>
<div class="grid">{_section_scorecard(result)}{_section_summary(result, opts)}</div>
<section id="timeline-card" class="card"><h2>Timeline</h2>{voices}{legend}{_timeline_html(has_timeline)}</section>
{_section_lists(result)}
{transcript}
</main>
{footer}
<script type="application/json" id="vc-data">{_json_for_script(page_data)}</script>
{"" if embedded else plot_script}
<script>{_asset("report.js")}</script>
</body>
</html>
"""
    )
