"""The ``voice-coach`` command. Heavy modules are imported inside the commands, so ``--help`` is quick.

Every ``VoiceCoachError`` becomes one line on stderr and a non-zero exit; never a traceback.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from voice_coach.cli.options import (
    AgentChannelOpt,
    AgentVoiceOpt,
    AsrDeviceOpt,
    ComputeTypeOpt,
    ConfigOpt,
    EmbedAudioOpt,
    LiveAsrDeviceOpt,
    ModelOpt,
    PhrasesOpt,
    ProfileOpt,
    SpeakersOpt,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    help=(
        "voice-coach: checks that a contact-centre agent talks slowly and calmly, in a low tone, "
        "against their own calm baseline. Offline: audio never leaves this machine.\n\n"
        "Start with: [bold]voice-coach analyze samples/calm_then_rushed.wav[/]"
    ),
)

AUDIO_SUFFIXES = {
    ".wav",
    ".flac",
    ".mp3",
    ".ogg",
    ".oga",
    ".opus",
    ".m4a",
    ".aac",
    ".mp4",
    ".webm",
    ".wma",
    ".aif",
    ".aiff",
}


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is logged (a test runner swaps it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _LevelFormatter(logging.Formatter):
    """``voice-coach: debug: ...``, ``voice-coach: warning: ...``: the level in lower case, like the
    error lines."""

    def format(self, record: logging.LogRecord) -> str:
        return f"voice-coach: {record.levelname.lower()}: {super().format(record)}"


@app.callback()
def _main(
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="Write debug lines to stderr: every word, decoding loop or stretch of audio the analysis drops or skips.",
    ),
) -> None:
    # Warnings always go to stderr as "voice-coach: warning: ..."; debug lines only when asked for.
    logger = logging.getLogger("voice_coach")
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(_LevelFormatter())
        logger.addHandler(handler)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"voice-coach: error: {message}", err=True)
    raise typer.Exit(code)


def _expand_inputs(paths: list[Path], *, recursive: bool = False) -> list[Path]:
    """Files as given; folders expand to the audio files inside them (sorted)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            found = sorted(f for f in p.glob(pattern) if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                out.append(p)  # reported as "is a directory" / no audio by the analyzer
            out.extend(found)
        else:
            out.append(p)
    return out


def _check_output(target: Path | None, many: bool, flag: str) -> None:
    if target is None:
        return
    if many:
        if target.exists() and not target.is_dir():
            _fail(f"{flag} {target}: with several inputs this must be a folder, and a file of that name exists")
    elif not target.is_dir() and not target.parent.exists():
        _fail(f"{flag} {target}: folder {target.parent} does not exist")


@app.command()
def analyze(
    files: list[Path] = typer.Argument(
        ..., help="Recordings (WAV, FLAC, MP3, OGG, M4A, ...) or folders of them.", show_default=False
    ),
    agent_channel: AgentChannelOpt = "0",
    speakers: SpeakersOpt = "auto",
    agent_voice: AgentVoiceOpt = None,
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    model: ModelOpt = None,
    phrases: PhrasesOpt = None,
    json_out: Path | None = typer.Option(
        None,
        "--json",
        help="Write the JSON result here (a folder when there are several inputs: <stem>.json).",
        show_default=False,
    ),
    csv_out: Path | None = typer.Option(
        None,
        "--csv",
        help="Write the timeline as CSV, one row per 0.1 s with the active warning (a folder for several inputs).",
        show_default=False,
    ),
    html_out: Path | None = typer.Option(
        None, "--html", help="Write the interactive HTML report (a folder for several inputs).", show_default=False
    ),
    embed_audio: EmbedAudioOpt = False,
    summary: Path | None = typer.Option(
        None,
        "--summary",
        help="Batch summary: one CSV row per call, plus an index page (same name, .html) linking each call's report, "
        "sortable by calm score.",
        show_default=False,
    ),
    agent_from: str | None = typer.Option(
        None,
        "--agent-from",
        help="Regular expression with a named group 'agent' matched on each file path, "
        "e.g. '(?P<agent>[^/]+)/[^/]+$' for one folder per agent.",
        show_default=False,
    ),
    agent_map: Path | None = typer.Option(
        None, "--agent-map", help="Sidecar CSV with columns 'file' and 'agent'.", show_default=False
    ),
    jobs: int | None = typer.Option(
        None,
        "--jobs",
        "-j",
        min=1,
        max=1024,
        help="Analyze this many files at once: worker processes, or Ray workers with --backend ray. "
        "Default: 1; with --backend ray, one per CPU of the cluster (one per GPU with --device cuda).",
        show_default=False,
    ),
    recursive: bool = typer.Option(
        False, "--recursive", "-r", help="Look for recordings in sub-folders of folder inputs."
    ),
    backend: str = typer.Option(
        "local",
        "--backend",
        help="local: worker processes on this machine. ray: Ray workers, on a local Ray runtime or the cluster "
        "of --ray-address (pip install 'voice-coach\\[ray]'; see docs/scale.md).",  # \\[: not Rich markup
    ),
    ray_address: str | None = typer.Option(
        None,
        "--ray-address",
        help="With --backend ray: join this Ray cluster (the address 'ray start --head' prints, or 'auto'). "
        "Default: start a Ray runtime on this machine for this run.",
        show_default=False,
    ),
    skip_existing: bool = typer.Option(
        False,
        "--skip-existing",
        help="Resume a batch: a call whose --json result exists and is newer than its recording is not analyzed "
        "again (it still counts in --summary). Needs --json.",
    ),
    date_from: str | None = typer.Option(
        None,
        "--date-from",
        help="Regular expression with a named group 'date' (YYYY-MM-DD, YYYYMMDD or YYYY-MM-DDTHH...) matched on "
        "each file path, for the call dates of --summary. Else the 'date' column of --agent-map, else the "
        "file's modification day.",
        show_default=False,
    ),
    device: AsrDeviceOpt = None,
    compute_type: ComputeTypeOpt = None,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No terminal summary (outputs and errors only)."),
) -> None:
    """Analyze recordings: transcript, pace, pitch and loudness against the calm baseline, warnings.

    Without --json/--csv/--html, prints a summary: key figures against the baseline and each warning
    with its time and the words spoken then.
    """
    inputs = _expand_inputs(files, recursive=recursive)
    many = len(inputs) > 1
    _check_outputs(json_out, csv_out, html_out, summary, many=many)
    cfg, base, identity = _analyze_settings(config, profile, agent_from, agent_map, phrases)
    cfg, dates = _batch_settings(
        cfg, device, compute_type, backend, ray_address, skip_existing, json_out, date_from, identity.dates
    )
    _check_voice_options(speakers, agent_voice)

    from dataclasses import replace

    from voice_coach.app.batch import Job, Outputs, output_names

    outputs = Outputs(json_out, csv_out, html_out, embed_audio)
    options = {"config": cfg, "agent_channel": agent_channel, "profile": base, "model": model}
    options.update(speakers=speakers, agent_voice=agent_voice)
    names = output_names(inputs)
    assets = html_out / "assets" if many and html_out is not None else None  # one plotting library for the batch
    job_list = [
        Job(p, identity(p), outputs.for_input(p, many, names[p]), options, embed_audio, phrases) for p in inputs
    ]
    job_list = [replace(j, date=_date(dates, j.path), shared_assets=assets) for j in job_list]
    show_summary = not quiet and not (json_out or csv_out or html_out or summary)
    batch = {"workers": jobs, "skip_existing": skip_existing, "backend": backend, "ray_address": ray_address}
    from voice_coach.errors import VoiceCoachError

    try:
        failures, rows, links = _run_jobs(job_list, many=many, quiet=quiet, show_summary=show_summary, **batch)
    except VoiceCoachError as exc:  # the backend as a whole (Ray cannot start, no GPU on the cluster)
        _fail(str(exc))
    if summary is not None and rows:
        _write_batch_summary(summary, rows, links, quiet=quiet)
    if failures:
        if many:
            typer.echo(f"voice-coach: {failures} of {len(inputs)} recordings failed", err=True)
        raise typer.Exit(1)


def _check_outputs(
    json_out: Path | None, csv_out: Path | None, html_out: Path | None, summary: Path | None, *, many: bool
) -> None:
    """Fail before any work when an output cannot be written where it was asked for."""
    for target, flag in ((json_out, "--json"), (csv_out, "--csv"), (html_out, "--html")):
        _check_output(target, many, flag)
    if summary is not None:
        if summary.is_dir():
            _fail(f"--summary {summary}: is a folder; give a file name such as {summary / 'summary.csv'}")
        summary.parent.mkdir(parents=True, exist_ok=True)


def _analyze_settings(
    config: Path | None, profile: Path | None, agent_from: str | None, agent_map: Path | None, phrases: Path | None
):
    """The configuration, the baseline profile and the agent identity, each checked before any work."""
    from voice_coach.errors import VoiceCoachError

    try:
        cfg, base = _load_settings(config, profile)
        from voice_coach.app.batch import AgentIdentity

        identity = AgentIdentity(agent_from, agent_map)
        if phrases is not None:
            from voice_coach.analysis.phrases import load_phrasebook

            load_phrasebook(phrases)  # fail early, with one line, before any work
    except VoiceCoachError as exc:
        _fail(str(exc))
    return cfg, base, identity


def _check_voice_options(speakers: str, agent_voice: str | None) -> None:
    """--speakers and --agent-voice, checked before any work."""
    from voice_coach.app.analyze import parse_speakers
    from voice_coach.errors import VoiceCoachError
    from voice_coach.voices.naming import parse_agent_voice

    try:
        parse_speakers(speakers)
        parse_agent_voice(agent_voice)
    except VoiceCoachError as exc:
        _fail(str(exc))
    if speakers == "1" and agent_voice is not None:
        _fail("--agent-voice needs two voices; it makes no sense with --speakers 1")


def _batch_settings(
    cfg,
    device: str | None,
    compute_type: str | None,
    backend: str,
    ray_address: str | None,
    skip_existing: bool,
    json_out: Path | None,
    date_from: str | None,
    agent_dates: dict,
):
    """The configuration with the ASR device and compute type, and the call dates; each checked before
    any work (one line and exit 2 on a problem)."""
    from voice_coach.errors import VoiceCoachError

    if backend not in ("local", "ray"):
        _fail(f"--backend {backend!r}: must be local or ray")
    if ray_address and backend != "ray":
        _fail("--ray-address needs --backend ray")
    if skip_existing and json_out is None:
        _fail("--skip-existing needs --json: a call counts as done when its JSON result exists and is newer")
    try:
        if backend == "ray":
            from voice_coach.app.ray_backend import import_ray

            import_ray()
        # a cluster's GPUs are counted on the cluster, once joined
        cfg = _asr_config(cfg, device, compute_type, resolve=not ray_address)
        from voice_coach.app.dating import CallDates

        dates = CallDates(date_from, agent_dates)
    except VoiceCoachError as exc:
        _fail(str(exc))
    return cfg, dates


def _asr_config(
    cfg, device: str | None, compute_type: str | None, *, resolve: bool = True, device_flag: str = "--device"
):
    """``cfg`` with --device (``device_flag``) and --compute-type over its [transcription] settings,
    resolved on this machine (``auto`` made concrete; ``cuda`` without a GPU raises ``ModelError``).
    An error names the flag a value came from, or the --config setting when no flag was given."""
    from dataclasses import replace

    from voice_coach.asr.model import check_device_names, resolve_config_device

    check_device_names(device, compute_type, device_name=device_flag)  # before the config checks them its own way
    t = cfg.transcription
    cfg = replace(cfg, transcription=replace(t, device=device or t.device, compute_type=compute_type or t.compute_type))
    if not resolve:
        return cfg
    return resolve_config_device(
        cfg,
        device_name=device_flag if device else "[transcription] device =",
        compute_type_name="--compute-type" if compute_type else "[transcription] compute_type =",
    )


def _date(dates, path: Path) -> str | None:
    from voice_coach.errors import VoiceCoachError

    try:
        return dates(path)[0]
    except VoiceCoachError as exc:
        _fail(str(exc))
    return None


def _run_jobs(job_list: list, *, many: bool, quiet: bool, show_summary: bool, **batch) -> tuple[int, list, dict]:
    """Analyze every job under a progress bar, reporting each call as it finishes (``batch``: the
    keyword arguments of ``run_batch``: workers, backend, skip_existing, ...).

    Returns the number of failures, the summary rows of every call (``failed_row`` for the ones that
    failed), and the reports by source.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from voice_coach.app.batch import run_batch
    from voice_coach.output.report import failed_row

    console = Console()
    job_of = {job.path: job for job in job_list}
    err = _stderr()
    failures, rows, links = 0, [], {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,  # a bar only on a terminal: into a file or a pipe it leaves a blank line
    ) as bar:
        first = job_list[0].path.name if job_list else ""
        overall = bar.add_task(f"{len(job_list)} recordings" if many else first, total=len(job_list) if many else None)

        def per_file(job):
            if many:
                return None
            return lambda done, total, stage="": bar.update(
                overall, completed=done, total=total, description=f"{first}: {stage}" if stage else first
            )

        for outcome in run_batch(job_list, keep_results=show_summary, progress=per_file, **batch):
            if many:
                bar.advance(overall)
            if outcome.error:
                failures += 1
                bar.console.print(
                    f"voice-coach: error: {outcome.error}", style="red", markup=False, highlight=False, soft_wrap=True
                )
                job = job_of.get(outcome.path)
                agent, date = (job.agent, job.date) if job else (None, None)
                rows.append(failed_row(str(outcome.path), agent=agent, date=date, error=outcome.error))
                continue
            rows.append(outcome.row)
            if "html" in outcome.written:
                links[outcome.row.get("source", str(outcome.path))] = str(Path(outcome.written["html"]).resolve())
            _show_outcome(outcome, bar.console, console, quiet=quiet, show_summary=show_summary)
    return failures, rows, links


def _show_outcome(outcome, bar_console, console, *, quiet: bool, show_summary: bool) -> None:
    """The terminal summary of one call, or its one-line tally (nothing when quiet)."""
    if show_summary and outcome.result is not None:
        from voice_coach.output.summary_view import render_result

        render_result(outcome.result, console)
    elif not quiet:
        r = outcome.row
        bar_console.print(
            f"{outcome.path}: {r.get('warnings_total', 0)} warning(s), calm score {r.get('calm_score')}"
            + (" (existing result)" if outcome.skipped else ""),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def _write_batch_summary(summary: Path, rows: list, links: dict, *, quiet: bool) -> None:
    """The batch CSV and its index page, rows sorted by source."""
    from voice_coach.output.report import render_index, write_summary_csv

    rows.sort(key=lambda r: str(r.get("source")))
    write_summary_csv(rows, summary)
    render_index(rows, summary.with_suffix(".html"), report_links=links)
    if not quiet:
        typer.echo(f"Batch summary: {summary} and {summary.with_suffix('.html')}", err=True)


def _load_settings(config: Path | None, profile: Path | None):
    from voice_coach.analysis.baseline import load_profile
    from voice_coach.config import load_config

    return load_config(config), (load_profile(profile) if profile else None)


@app.command()
def report(
    result_file: Path = typer.Argument(
        ..., help="A JSON result from 'voice-coach analyze --json' or 'voice-coach live'.", show_default=False
    ),
    html_out: Path = typer.Option(..., "--html", help="The HTML file to write.", show_default=False),
    audio: Path | None = typer.Option(
        None,
        "--audio",
        help="The call's audio (default: the result's source, when that file exists).",
        show_default=False,
    ),
    embed_audio: EmbedAudioOpt = False,
) -> None:
    """Write the interactive HTML report of an analysed call (one offline, self-contained file)."""
    import json

    from voice_coach.errors import VoiceCoachError

    try:
        result = json.loads(result_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"{result_file}: no such file")
    except (json.JSONDecodeError, UnicodeDecodeError):
        _fail(f"{result_file}: not a JSON result (invalid JSON)")
    except OSError as exc:
        _fail(f"{result_file}: cannot read ({exc.strerror})")
    from voice_coach.output.report._result import result_problem

    problem = result_problem(result)
    if problem is not None:
        _fail(f"{result_file}: {problem}")
    if not html_out.parent.exists():
        _fail(f"--html {html_out}: folder {html_out.parent} does not exist")
    if audio is None and result.get("source") and Path(result["source"]).is_file():
        audio = Path(result["source"])
    if audio is not None and not audio.is_file():
        _fail(f"--audio {audio}: no such file")
    try:
        from voice_coach.output.report import render_report

        render_report(result, html_out, audio_path=audio, embed_audio=embed_audio)
    except VoiceCoachError as exc:
        _fail(str(exc))
    typer.echo(f"Wrote {html_out}")


@app.command()
def calibrate(
    files: list[Path] = typer.Argument(
        ..., help="Recordings of the agent speaking calmly (30 s or more in all is best).", show_default=False
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the profile (JSON).", show_default=False),
    agent_channel: AgentChannelOpt = "0",
    config: ConfigOpt = None,
    no_voiceprint: bool = typer.Option(
        False,
        "--no-voiceprint",
        help="Leave the voice print out of the profile. A voice print (biometric data, kept only in the profile "
        "file; see docs/voiceprint.md) tells the agent's voice from the customer's in mono recordings.",
    ),
) -> None:
    """Make a calm-baseline profile, with the agent's voice print, from recordings of the agent's calm speech."""
    from voice_coach.errors import VoiceCoachError

    if not out.parent.exists():
        _fail(f"--out {out}: folder {out.parent} does not exist")
    try:
        from voice_coach.app.calibrate import calibrate_files

        cfg, _ = _load_settings(config, None)
        baseline = calibrate_files(
            _expand_inputs(files), config=cfg, agent_channel=agent_channel, out=out, voiceprint=not no_voiceprint
        )
    except VoiceCoachError as exc:
        _fail(str(exc), 1)
    typer.echo(
        f"Wrote {out}: pitch {baseline.pitch_median_hz or 0:.0f} Hz, loudness {baseline.loudness_median_db:.1f} dBFS, "
        f"articulation {baseline.articulation_rate_sps or 0:.2f} syll/s from {baseline.speech_s:.0f} s of voiced speech"
        + _voiceprint_note(baseline.voiceprint is not None, asked=not no_voiceprint)
    )


def _voiceprint_note(has: bool, *, asked: bool) -> str:
    if has:
        return "; with a voice print (biometric data, kept in this file only: docs/voiceprint.md)"
    if asked:
        return "; no voice print: under 2 s of speech detected for one (mono recordings fall back to --agent-voice)"
    return "; no voice print (--no-voiceprint)"


@app.command()
def live(
    device: str | None = typer.Option(
        None,
        "--device",
        "-d",
        help="Input device: index or part of its name (see 'voice-coach devices'). "
        "Default: the system's default input.",
        show_default=False,
    ),
    channels: int = typer.Option(1, "--channels", min=1, max=8, help="Channels to capture from the device."),
    agent_channel: AgentChannelOpt = "0",
    customer_channel: str | None = typer.Option(
        None,
        "--customer-channel",
        help="Channel that carries the customer (a two-channel device), analyzed with its own baseline.",
        show_default=False,
    ),
    customer_device: str | None = typer.Option(
        None,
        "--customer-device",
        help="A second input that carries the customer: a loopback or monitor "
        "(with PulseAudio, the monitor of the sink that plays the caller).",
        show_default=False,
    ),
    phrases: PhrasesOpt = None,
    profile: ProfileOpt = None,
    config: ConfigOpt = None,
    model: ModelOpt = None,
    asr_device: LiveAsrDeviceOpt = None,
    compute_type: ComputeTypeOpt = None,
    record: Path | None = typer.Option(
        None,
        "--record",
        help="Record the captured audio to this WAV file as it arrives (crash-safe: its header is kept up to date).",
        show_default=False,
    ),
    events: Path | None = typer.Option(
        None,
        "--events",
        help="Write every event as a JSON line, flushed as written (for overlays and softphone plugins).",
        show_default=False,
    ),
    json_out: Path | None = typer.Option(
        None,
        "--json",
        help="Where to write the result on stop. Default: next to --record, else voice-coach-live-<time>.json here.",
        show_default=False,
    ),
    duration: float | None = typer.Option(
        None,
        "--duration",
        min=0.1,
        help="Stop after this many seconds of audio. Default: run until Ctrl-C.",
        show_default=False,
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No live view (run headless with --events)."),
    bell: bool = typer.Option(False, "--bell", help="Ring the terminal bell when a warning starts."),
    replay: Path | None = typer.Option(
        None,
        "--replay",
        help="Play a recording in real time instead of a microphone (to try voice-coach without a call).",
        show_default=False,
    ),
    voice_filter: bool = typer.Option(
        True,
        "--voice-filter/--no-voice-filter",
        help="With one input channel and a --profile holding a voice print, silence speech that is clearly "
        "not the agent's (the caller leaking into the headset, a colleague nearby) before it is analyzed or "
        "transcribed. Adds about 0.2-0.6 s before the analyzer hears the agent (docs/voiceprint.md).",
    ),
) -> None:
    """Coach live beside a call: listens to the microphone and shows one clear cue.

    CALM while you talk at your calm baseline; a single cue ("Slow down", "Lower your voice",
    "Bring your pitch down") after about 2 s of rushed, loud or high speech, and CALM again when you
    settle. Stops on Ctrl-C or after --duration, then writes the same JSON result as 'analyze'.
    """
    from rich.console import Console

    from voice_coach.app.live import run_live
    from voice_coach.errors import VoiceCoachError

    console = Console()
    view = None
    if not quiet:
        from voice_coach.output.live_view import LiveView

        view = lambda source: LiveView(console, bell=bell, source=source)
    try:
        cfg, base = _load_settings(config, profile)
        cfg = _asr_config(cfg, asr_device, compute_type, device_flag="--asr-device")
        run = run_live(
            device=device,
            channels=channels,
            agent_channel=agent_channel,
            customer_channel=customer_channel,
            customer_device=customer_device,
            replay=replay,
            config=cfg,
            profile=base,
            model=model,
            phrasebook=phrases,
            record=record,
            events=events,
            json_path=json_out,
            duration_s=duration,
            view=view,
            voice_filter=voice_filter,
        )
    except VoiceCoachError as exc:
        _fail(str(exc))
    end = run.end
    vf = run.result["live"].get("voice_filter") or {}
    if vf.get("on"):
        typer.echo(
            f"voice-coach: voice filter on: {vf['other_s']:.1f} s of {vf['speech_s']:.1f} s of speech "
            "silenced as not the agent's voice",
            err=True,
        )
    if not quiet:
        from voice_coach.output.summary_view import render_result

        render_result(run.result, console)
    typer.echo(
        f"voice-coach: {end.reason}; result written to {run.json_path}"
        + (f"; recording in {record}" if record else ""),
        err=True,
    )
    if end.overflows:
        typer.echo(f"voice-coach: {end.overflows} input overflow(s): some audio was dropped by the device", err=True)
    if end.error:
        _fail(end.error, 1)


@app.command()
def devices() -> None:
    """List audio input devices: index, name, channels and default sample rate."""
    from rich.console import Console
    from rich.table import Table

    from voice_coach.errors import VoiceCoachError

    try:
        from voice_coach.sources.microphone import list_input_devices

        found = list_input_devices()
    except VoiceCoachError as exc:
        _fail(str(exc))
    if not found:
        typer.echo("No audio input devices found.")
        return
    table = Table("index", "name", "channels", "default rate (Hz)", "")
    for d in found:
        table.add_row(
            str(d["index"]),
            d["name"],
            str(d["max_input_channels"]),
            f"{d['default_samplerate']:.0f}",
            "default" if d.get("is_default") else "",
        )
    Console().print(table)


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("voice-coach: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
