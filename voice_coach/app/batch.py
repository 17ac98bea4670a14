"""Analyzing many recordings: one job per file, in worker processes that each load the model once.

``run_batch`` yields one ``FileOutcome`` per input as it completes. A worker writes that file's
outputs itself (JSON, CSV, HTML) and sends back only a small summary row, so results of long calls
never cross process boundaries. A bad file is an outcome with an error, never the end of the batch.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from voice_coach.errors import ConfigError, VoiceCoachError


@dataclass(frozen=True)
class Outputs:
    """Where each input's outputs go (None: not written)."""

    json: Path | None = None
    csv: Path | None = None
    html: Path | None = None
    embed_audio: bool = False

    def for_input(self, src: Path, many: bool, name: str | None = None) -> dict[str, Path | None]:
        """Output paths of one input; ``name`` (from ``output_names``) replaces its stem."""

        def place(target: Path | None, suffix: str) -> Path | None:
            if target is None:
                return None
            if many or target.is_dir():
                path = target / f"{name or src.stem}{suffix}"
                path.parent.mkdir(parents=True, exist_ok=True)
                return path
            return target

        return {"json": place(self.json, ".json"), "csv": place(self.csv, ".csv"), "html": place(self.html, ".html")}


def output_names(paths: list[Path]) -> dict[Path, str]:
    """The name each input's outputs get in an output folder: its stem, as the contract says, unless
    two inputs share a stem (``alice/call1.wav``, ``bob/call1.wav``); then their path below the
    inputs' common folder, so that no output overwrites another."""
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return {p: p.stem for p in paths}
    resolved = [p.resolve() for p in paths]
    root = Path(os.path.commonpath([str(r.parent) for r in resolved]))
    names = {p: str(r.relative_to(root).with_suffix("")) for p, r in zip(paths, resolved, strict=True)}
    if len(set(names.values())) < len(names):  # call.wav and call.mp3 side by side
        names = {p: str(r.relative_to(root)) for p, r in zip(paths, resolved, strict=True)}
    return names


@dataclass(frozen=True)
class Job:
    path: Path
    agent: str | None
    outputs: dict
    options: dict  # analyze_file keyword arguments (picklable)
    embed_audio: bool = False
    phrasebook: Path | None = None


@dataclass
class FileOutcome:
    path: Path
    error: str | None = None
    row: dict = field(default_factory=dict)
    result: dict | None = None  # only from in-process runs (for the terminal summary)
    written: dict = field(default_factory=dict)


def run_job(job: Job, *, keep_result: bool = False, progress=None) -> FileOutcome:
    """Analyze one file and write its outputs. Never raises for a bad input: returns the error."""
    from voice_coach.app.analyze import analyze_file
    from voice_coach.output.result import write_csv, write_json

    try:
        result = analyze_file(job.path, progress=progress, phrasebook=job.phrasebook, **job.options)
        written = {}
        if job.outputs.get("json"):
            write_json(result, job.outputs["json"])
            written["json"] = job.outputs["json"]
        if job.outputs.get("csv"):
            write_csv(result, job.outputs["csv"])
            written["csv"] = job.outputs["csv"]
        if job.outputs.get("html"):
            from voice_coach.output.report import render_report

            render_report(result, job.outputs["html"], audio_path=job.path, embed_audio=job.embed_audio)
            written["html"] = job.outputs["html"]
        from voice_coach.output.report import summary_row

        row = summary_row(result, agent=job.agent or "")
        return FileOutcome(job.path, None, row, result if keep_result else None, written)
    except VoiceCoachError as exc:
        return FileOutcome(job.path, str(exc))
    except MemoryError:
        return FileOutcome(job.path, f"{job.path}: out of memory while analyzing")


def _init_worker(cpu_threads: int) -> None:
    os.environ["VOICE_COACH_CPU_THREADS"] = str(cpu_threads)


def run_batch(jobs: list[Job], *, workers: int = 1, keep_results: bool = False, progress=None) -> Iterator[FileOutcome]:
    """Run ``jobs``; with ``workers`` > 1 in that many processes (CTranslate2 threads shared out
    among them so the machine is not oversubscribed)."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_job(job, keep_result=keep_results, progress=progress(job) if progress else None)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(threads,)) as pool:
        futures = {pool.submit(run_job, job): job for job in jobs}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a worker died (killed, out of memory)
                job = futures[future]
                yield FileOutcome(job.path, f"{job.path}: the analysis process failed ({type(exc).__name__})")


class AgentIdentity:
    """Who the agent of each recording is: a named group ``agent`` of a regular expression on the
    file path, or a sidecar CSV with columns ``file`` and ``agent``."""

    def __init__(self, pattern: str | None = None, sidecar: Path | None = None):
        self.regex = None
        self.table: dict[str, str] = {}
        if pattern:
            try:
                self.regex = re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"--agent-from {pattern!r}: not a valid regular expression ({exc})") from None
            if "agent" not in self.regex.groupindex:
                raise ConfigError(f"--agent-from {pattern!r}: needs a named group, e.g. '(?P<agent>[^/]+)/[^/]+$'")
        if sidecar:
            self.table = _read_sidecar(sidecar)

    def __call__(self, path: Path) -> str | None:
        for key in (str(path), path.name, path.stem):
            if key in self.table:
                return self.table[key]
        if self.regex:
            m = self.regex.search(path.as_posix())
            if m and m.group("agent"):
                return m.group("agent")
        return None


def _read_sidecar(path: Path) -> dict[str, str]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"file", "agent"} <= set(reader.fieldnames):
                raise ConfigError(f"--agent-map {path}: needs a header with columns 'file' and 'agent'")
            return {row["file"].strip(): row["agent"].strip() for row in reader if row.get("file")}
    except FileNotFoundError:
        raise ConfigError(f"--agent-map {path}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"--agent-map {path}: cannot read ({exc})") from None
