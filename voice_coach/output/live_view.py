"""The agent's live view: one big state line (CALM or the current cue), three gauges, the last
transcript lines. A consumer of engine events; rendering is a pure function of ``ViewState``."""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

REFRESH_PER_SECOND = 8


@dataclass
class ViewState:
    speaker: str = "agent"
    warning: tuple[str, str] | None = None  # (kind, message)
    customer_upset: bool = False
    metrics: dict = field(default_factory=dict)
    baseline: dict | None = None
    lines: deque = field(default_factory=lambda: deque(maxlen=4))
    t: float = 0.0
    asr_note: str = ""
    overflows: int = 0
    calm_since: float | None = None
    note: tuple[float, str] | None = None  # (until t, text): a passing conversation notice

    def handle(self, event, lag_s: float = 0.0) -> None:
        kind = event.type
        self.t = max(self.t, event.t)
        if kind == "metrics" and event.speaker == self.speaker:
            self.metrics = {
                k: getattr(event, k)
                for k in ("wpm", "syllables_per_s", "pitch_st", "loudness_rel_db", "agitation", "speaking")
            }
        elif kind == "warning":
            if event.speaker == self.speaker:
                self.warning = (event.kind, event.message)
            else:
                self.customer_upset = True
        elif kind == "warning_end":
            if event.speaker == self.speaker:
                self.warning = None
                self.calm_since = event.t
            else:
                self.customer_upset = False
        elif kind == "baseline" and event.speaker == self.speaker:
            self.baseline = event.baseline
        elif kind == "words" and event.speaker == self.speaker:
            text = " ".join(w.text for w in event.words)
            if self.lines and len(self.lines[-1]) + len(text) < 90:
                self.lines[-1] = self.lines[-1] + " " + text
            else:
                self.lines.append(text)
        elif kind == "conversation" and event.end_s is None:
            self.note = (event.t + 4.0, event.message)
        elif kind == "phrase" and event.polarity == "negative":
            self.note = (event.t + 4.0, f'Avoid "{event.text}": it sounds defensive')
        elif kind == "asr":
            self.asr_note = (
                f"transcript {event.status.replace('_', ' ')} ({event.skipped_s:.0f} s skipped in all)"
                if event.status != "caught_up"
                else ""
            )


def _bar(value: float | None, lo: float, hi: float, *, width: int = 24, warn_from: float | None = None) -> Text:
    if value is None:
        return Text("·" * width, style="dim")
    frac = min(1.0, max(0.0, (value - lo) / (hi - lo)))
    filled = int(round(frac * width))
    style = "red" if warn_from is not None and value >= warn_from else "green"
    return Text("█" * filled, style=style) + Text("░" * (width - filled), style="dim")


def _fmt(value, spec: str, unit: str = "") -> str:
    return "  -" if value is None else f"{value:{spec}}{unit}"


def render(state: ViewState) -> Panel:
    if state.warning:
        head = Text(f"  {state.warning[1].upper()}  ", style="bold white on red", justify="center")
    elif state.baseline is None:
        head = Text("  LISTENING: learning your calm baseline  ", style="bold black on yellow", justify="center")
    else:
        head = Text("  CALM  ", style="bold white on green", justify="center")
    parts: list[RenderableType] = [head]
    if state.note and state.note[0] >= state.t:
        parts.append(Text(state.note[1], style="bold magenta", justify="center"))
    if state.customer_upset:
        parts.append(
            Text("Customer is upset: slow down, lower your voice, acknowledge", style="bold yellow", justify="center")
        )
    m = state.metrics
    g = Table.grid(padding=(0, 2))
    g.add_column(style="bold")
    g.add_column()
    g.add_column(justify="right")
    g.add_row(
        "Pace",
        _bar(m.get("syllables_per_s"), 2.0, 8.0, warn_from=5.5),
        f"{_fmt(m.get('wpm'), '.0f', ' wpm')}  {_fmt(m.get('syllables_per_s'), '.1f', ' syl/s')}",
    )
    g.add_row(
        "Pitch", _bar(m.get("pitch_st"), -3.0, 8.0, warn_from=3.0), f"{_fmt(m.get('pitch_st'), '+.1f', ' st')} vs calm"
    )
    g.add_row(
        "Loudness",
        _bar(m.get("loudness_rel_db"), -6.0, 12.0, warn_from=6.0),
        f"{_fmt(m.get('loudness_rel_db'), '+.1f', ' dB')} vs calm",
    )
    parts += [Text(""), g, Text("")]
    for line in state.lines:
        parts.append(Text(line, style="dim", overflow="ellipsis", no_wrap=True))
    status = f"{int(state.t // 60)}:{state.t % 60:04.1f}"
    if state.overflows:
        status += f"  input overflows: {state.overflows}"
    if state.asr_note:
        status += f"  {state.asr_note}"
    return Panel(Group(*parts), title="voice-coach live", subtitle=status, subtitle_align="right")


class LiveView:
    """Shows ``render(state)`` with rich.Live at ``REFRESH_PER_SECOND``; rings the bell on a new
    warning when asked."""

    def __init__(self, console, *, bell: bool = False, source=None):
        from rich.live import Live

        self.state = ViewState()
        self.bell = bell
        self.source = source
        self.console = console
        self.live = Live(render(self.state), console=console, refresh_per_second=REFRESH_PER_SECOND, transient=False)
        self.live.start()

    def handle(self, event, lag_s: float) -> None:
        was = self.state.warning
        self.state.handle(event, lag_s)
        if self.bell and event.type == "warning" and self.state.warning and not was:
            sys.stdout.write("\a")
            sys.stdout.flush()
        if self.source is not None:
            self.state.overflows = getattr(self.source, "overflow_count", 0)
        self.live.update(render(self.state))

    def close(self) -> None:
        self.live.stop()
