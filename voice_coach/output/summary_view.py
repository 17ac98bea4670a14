"""The terminal summary of a result: key figures against the baseline, and the warnings with the
words spoken then. A consumer of the JSON result only."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from voice_coach.config import AgitationConfig
from voice_coach.output.format import clock, num, pace_band_wpm
from voice_coach.output.result import words_between


def fmt_time(seconds: float | None) -> str:
    """``m:ss.s`` (``h:mm:ss.s`` past an hour), ``-`` for None."""
    return clock(seconds, tenths=True, missing="-")


def _num(value, unit: str = "", nd: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:.{nd}f}{unit}"


def _pace_note(wpm: float | None, agitation_cfg: dict) -> str:
    """Rushed above ``rushed_wpm``, brisk above the comfortable band, else comfortable."""
    if wpm is None:
        return ""
    rushed = num(agitation_cfg.get("rushed_wpm"))
    if wpm > (AgitationConfig.rushed_wpm if rushed is None else rushed):
        return "[red]rushed[/]"
    return "[yellow]brisk[/]" if wpm > pace_band_wpm(agitation_cfg)[1] else "[green]comfortable[/]"


def _figures(voice: dict, agitation_cfg: dict) -> Table:
    s, b = voice["summary"], voice.get("baseline") or {}
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
    table.add_column("")
    table.add_column("this call", justify="right")
    table.add_column("calm baseline", justify="right")
    table.add_column("vs baseline", justify="right")
    wpm = s.get("speaking_rate_wpm")
    table.add_row(
        "Pace (words/min of talk)",
        _num(wpm, "", 0),
        "{:.0f}-{:.0f} norm".format(*pace_band_wpm(agitation_cfg)),
        _pace_note(wpm, agitation_cfg),
    )
    table.add_row(
        "Articulation (syll/s)",
        _num(s.get("articulation_rate_sps"), "", 2),
        _num(b.get("articulation_rate_sps"), "", 2),
        _num(s.get("articulation_vs_baseline"), "x", 2),
    )
    table.add_row(
        "Pitch (median)",
        _num(s.get("pitch_median_hz"), " Hz", 0),
        _num(b.get("pitch_median_hz"), " Hz", 0),
        _num(s.get("pitch_vs_baseline_st"), " st", 1),
    )
    table.add_row(
        "Loudness (median)",
        _num(s.get("loudness_median_db"), " dBFS", 1),
        _num(b.get("loudness_median_db"), " dBFS", 1),
        _num(s.get("loudness_vs_baseline_db"), " dB", 1),
    )
    table.add_row("Talk time", fmt_time(s.get("talk_time_s")), "", "")
    table.add_row("Agitation (mean, 0-1)", _num(s.get("agitation_mean"), "", 2), "", "")
    return table


def _clip_words(text: str, limit: int = 24) -> str:
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit]) + " ..."


def separation_line(sep: dict | None) -> str | None:
    """One line on how a mono recording was split into voices and how the agent was chosen; None for a
    two-channel call or one analyzed as one voice without separation."""
    if not sep:
        return None
    conf, requested = sep.get("decision_confidence"), str(sep.get("requested"))
    if requested == "auto":
        how = f" (confidence {conf:.2f})" if conf is not None else ""
    elif requested == str(sep.get("speakers")):
        how = " (as asked)"
    else:
        how = f" (asked for {requested}: too little speech to tell two voices apart)"
    if sep.get("speakers") != 2:
        return f"Mono recording: 1 voice{how}; all of it analyzed as the agent"
    choice = sep.get("agent_choice") or {}
    method = choice.get("method", "")
    if method == "voiceprint":
        sim = choice.get("similarity") or {}
        named = (
            f"agent = the voice nearer to the profile's voice print "
            f"(similarity {_num(sim.get('agent'), '', 2)} against {_num(sim.get('customer'), '', 2)})"
        )
    else:
        order = "first" if method.endswith("first") else "second"
        named = f"agent = {order} voice to speak (rule)"
    line = f"Mono recording: 2 voices{how}; {named}"
    if choice.get("uncertain"):
        line += "; uncertain: check who is who in the report"
    unattributed = sep.get("unattributed_s") or 0.0
    if unattributed >= 0.05:
        line += f"; {unattributed:.1f} s of speech given to neither voice (overlap, unsure)"
    return line


def render_result(result: dict, console: Console) -> None:
    agent = result["agent"]
    s = agent["summary"]
    calm = s.get("calm_score")
    colour = "green" if calm is not None and calm >= 80 else ("yellow" if calm is not None and calm >= 60 else "red")
    baseline_src = (agent.get("baseline") or {}).get("source") or "not established (too little speech)"
    title = Text.assemble((result["source"], "bold"), f"  {fmt_time(result['duration_s'])}  model {result['model']}")
    head = Text.assemble(
        "Calm score ",
        (f"{calm:.0f}/100" if calm is not None else "-", f"bold {colour}"),
        f"   baseline: {baseline_src}",
    )
    parts: list[RenderableType] = [head, Text(""), _figures(agent, result["config"]["agitation"])]
    voices = separation_line(result.get("separation"))
    if voices:
        parts[1:1] = [Text(voices, style="yellow" if "uncertain" in voices else "")]

    warnings = result.get("warnings", [])
    if warnings:
        wt = Table(
            show_header=True, header_style="bold", box=None, padding=(0, 2), title="Warnings", title_justify="left"
        )
        wt.add_column("when")
        wt.add_column("who")
        wt.add_column("cue")
        wt.add_column("words spoken then", overflow="fold")
        for w in warnings:
            voice = result.get(w["speaker"]) or agent
            said = _clip_words(words_between(voice["words"], w["start"], w["end"])) or "-"
            raised = f" (cue at {fmt_time(w['raised_at'])})" if w.get("raised_at") is not None else ""
            wt.add_row(
                f"{fmt_time(w['start'])}-{fmt_time(w['end'])}{raised}",
                w["speaker"],
                f"[bold]{w['message']}[/]",
                f'"{said}"',
            )
        parts += [Text(""), wt]
    else:
        parts += [Text(""), Text("No warnings: pace, pitch and loudness stayed near the calm baseline.", style="green")]

    card = result.get("scorecard")
    if card and card.get("items"):
        marks = {"good": "[green]✔[/]", "warn": "[yellow]![/]", "bad": "[red]✘[/]", "n/a": "[dim]-[/]"}
        overall = card.get("overall")
        st = Table(
            show_header=False,
            box=None,
            padding=(0, 1),
            title=f"De-escalation scorecard: {overall:.0f}/100" if overall is not None else "De-escalation scorecard",
            title_justify="left",
        )
        st.add_column(width=1)
        st.add_column(style="bold")
        st.add_column(overflow="fold")
        st.add_column(style="cyan")
        for item in card["items"]:
            moments = ", ".join(fmt_time(m) for m in item.get("moments", [])[:4])
            if len(item.get("moments", [])) > 4:
                moments += ", ..."
            st.add_row(marks.get(item["verdict"], "?"), item["advice"], item["value"], moments)
        parts += [Text(""), st]

    customer = result.get("customer")
    if customer:
        cs = customer["summary"]
        parts += [
            Text(""),
            Text.assemble(
                ("Customer", "bold"),
                f"  agitation mean {_num(cs.get('agitation_mean'), '', 2)}, "
                f"pace {_num(cs.get('speaking_rate_wpm'), ' wpm', 0)}, "
                f"talk time {fmt_time(cs.get('talk_time_s'))}",
            ),
        ]
    words = agent["words"]
    if words:
        preview = " ".join(w["text"] for w in words[:40]) + (" ..." if len(words) > 40 else "")
        parts += [Text(""), Text.assemble(("Transcript ", "bold"), (preview, "dim"))]
    console.print(Panel(Group(*parts), title=title, title_align="left"))
