"""Analyzing many recordings: one job per file, in worker processes that each load the model once.

``run_batch`` yields one ``FileOutcome`` per input as it completes. A worker writes that file's
outputs itself (CSV, HTML, then the JSON last) and sends back only a small summary row, so results
of long calls never cross process boundaries. A bad file is an outcome with an error, never the end
of the batch. Workers are local processes (``backend="local"``) or Ray actors (``backend="ray"``,
``voice_coach.app.ray_backend``), with the same outputs.

Resuming (``skip_existing``): every output is written atomically and the JSON result last, so a
JSON result newer than its audio means the call was finished; it is not analyzed again, its summary
row is rebuilt from the JSON, and a CSV or HTML output asked for but missing is written from it.
"""

from __future__ import annotations

import csv
import json
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice_coach.app.dating import DATE_FORMATS, by_file, parse_call_date, path_pattern
from voice_coach.errors import ConfigError, VoiceCoachError

log = logging.getLogger("voice_coach")

BACKENDS = ("local", "ray")
LOCAL_ATTEMPTS = 3
"""How many times a local worker may die on one call before the call is reported failed."""
DRIVER_POLL_S = 0.2
"""How often a worker checks that the batch's driver is still there (``exit_with_driver``)."""


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
    date: str | None = None
    """The call's ISO date (``voice_coach.app.dating``), for the summary row."""
    shared_assets: Path | None = None
    """Where the reports of a batch share one copy of the plotting library (None: each page inlines it)."""


@dataclass
class FileOutcome:
    path: Path
    error: str | None = None
    row: dict = field(default_factory=dict)
    result: dict | None = None  # only from in-process runs (for the terminal summary)
    written: dict = field(default_factory=dict)
    skipped: bool = False
    """True when an existing result was used (``skip_existing``) instead of analyzing the call."""


def run_job(job: Job, *, keep_result: bool = False, progress=None) -> FileOutcome:
    """Analyze one file and write its outputs. Never raises for a bad input: returns the error."""
    from voice_coach.app.analyze import analyze_file

    log.debug("analyzing %s", job.path)
    try:
        result = analyze_file(job.path, progress=progress, phrasebook=job.phrasebook, **job.options)
        written = write_outputs(job, result)
        return FileOutcome(job.path, None, _row(job, result), result if keep_result else None, written)
    except VoiceCoachError as exc:
        return FileOutcome(job.path, str(exc))
    except MemoryError:
        return FileOutcome(job.path, f"{job.path}: out of memory while analyzing")


def write_outputs(job: Job, result: dict, *, only_missing: bool = False) -> dict[str, Path]:
    """Write ``job``'s outputs of ``result``: CSV and HTML first and the JSON last, each atomically,
    so that a JSON result on disk means every output of its run was written. ``only_missing`` writes
    only the CSV and HTML files that do not exist (repairing a resumed call) and never the JSON."""
    from voice_coach.output.result import write_csv, write_json

    written: dict[str, Path] = {}
    target = job.outputs.get("csv")
    if target and not (only_missing and Path(target).exists()):
        write_csv(result, target)
    if target:
        written["csv"] = target
    target = job.outputs.get("html")
    if target and not (only_missing and Path(target).exists()):
        from voice_coach.output.report import render_report

        shared: dict[str, Any] = {"shared_assets_dir": job.shared_assets} if job.shared_assets else {}
        render_report(result, target, audio_path=job.path, embed_audio=job.embed_audio, **shared)
    if target:
        written["html"] = target
    target = job.outputs.get("json")
    if target and not only_missing:
        write_json(result, target)
    if target:
        written["json"] = target
    return written


def _row(job: Job, result: dict) -> dict:
    from voice_coach.output.report import summary_row

    return summary_row(result, agent=job.agent or "", date=job.date)


def finished_result(job: Job) -> dict | None:
    """The result of ``job`` from an earlier run, or None when the call must be analyzed: no JSON
    output, a JSON older than the audio (the recording changed since), or one that cannot be read."""
    target = job.outputs.get("json")
    if not target:
        return None
    try:
        if Path(target).stat().st_mtime < job.path.stat().st_mtime:
            return None
        result = json.loads(Path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    from voice_coach.output.report._result import result_problem

    return result if result_problem(result) is None else None


def resume_job(job: Job, *, keep_result: bool = False) -> FileOutcome | None:
    """The outcome of a call finished by an earlier run (its missing CSV or HTML written from the
    JSON result), or None when it must be analyzed."""
    result = finished_result(job)
    if result is None:
        return None
    try:
        written = write_outputs(job, result, only_missing=True)
        row = _row(job, result)
    except VoiceCoachError as exc:
        return FileOutcome(job.path, str(exc))
    log.debug("%s: skipped, its result %s is newer than the recording", job.path, job.outputs["json"])
    return FileOutcome(job.path, None, row, result if keep_result else None, written, skipped=True)


def _init_worker(cpu_threads: int, driver_pid: int, log_level: int, log_formatter: logging.Formatter | None) -> None:
    """A local worker process: its CTranslate2 threads, its end with the driver's, and the driver's
    debug lines (``--verbose``), which a spawned process does not inherit."""
    os.environ["VOICE_COACH_CPU_THREADS"] = str(cpu_threads)
    exit_with_driver(driver_pid, parent=True)
    if log_formatter is not None:
        handler = logging.StreamHandler()
        handler.setFormatter(log_formatter)
        log.addHandler(handler)
        log.setLevel(log_level)


def exit_with_driver(pid: int, *, parent: bool = False) -> None:
    """End this worker process as soon as the batch's driver (process ``pid``) is gone.

    A driver killed mid-batch (``kill -9``, a lost terminal) would otherwise leave its workers
    finishing the calls already handed to them, holding the model in memory, and a rerun with
    ``--skip-existing`` started meanwhile would analyze those calls a second time. ``parent``: the
    driver is this process's parent (local workers), so its end shows as a new parent; otherwise
    (a Ray worker on the driver's machine) the process is looked up, and a zombie counts as gone.
    The call being analyzed is abandoned; its outputs are never half-written (atomic writes).
    """

    def gone() -> bool:
        if parent:
            return os.getppid() != pid
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        try:  # Linux: a killed process stays a zombie until its own parent reaps it
            with open(f"/proc/{pid}/stat", "rb") as fh:
                return fh.read().rsplit(b")", 1)[-1].split()[0] == b"Z"
        except (OSError, IndexError):
            return False

    def watch() -> None:
        while not gone():
            time.sleep(DRIVER_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="voice-coach-driver-watch", daemon=True).start()


def run_batch(
    jobs: list[Job],
    *,
    workers: int | None = 1,
    keep_results: bool = False,
    progress: Callable | None = None,
    skip_existing: bool = False,
    backend: str = "local",
    ray_address: str | None = None,
) -> Iterator[FileOutcome]:
    """Run ``jobs``, yielding each outcome as it completes.

    ``backend="local"``: with ``workers`` > 1 in that many processes (CTranslate2 threads shared out
    among them so the machine is not oversubscribed). ``backend="ray"``: on Ray actors, a local Ray
    runtime or the cluster at ``ray_address`` (see ``voice_coach.app.ray_backend.run_ray``; ``workers``
    None is one actor per CPU). ``skip_existing``: calls finished by an earlier run are not analyzed
    again (``resume_job``); they are yielded first.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"--backend {backend!r}: must be one of {', '.join(BACKENDS)}")
    todo = []
    for job in jobs:
        done = resume_job(job, keep_result=keep_results) if skip_existing else None
        if done is None:
            todo.append(job)
        else:
            yield done
    if backend == "ray":
        from voice_coach.app.ray_backend import run_ray

        yield from run_ray(todo, workers=workers, address=ray_address, keep_results=keep_results)
        return
    yield from _run_local(todo, workers=workers or 1, keep_results=keep_results, progress=progress)


def _run_local(
    jobs: list[Job], *, workers: int, keep_results: bool, progress, target: Callable[[Job], FileOutcome] = run_job
) -> Iterator[FileOutcome]:
    """``jobs`` in this process, or in ``workers`` processes that each run ``target(job)``."""
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_job(job, keep_result=keep_results, progress=progress(job) if progress else None)
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    # Fresh (spawned) workers, so that their numerical libraries start with the thread count set below:
    # a forked one inherits the parent's OpenBLAS pool, and the transcript's word times depend (by ~20 ms)
    # on how many threads numpy's matrix products use. Ray's workers are started the same way.
    spawn = multiprocessing.get_context("spawn")
    attempts = dict.fromkeys((id(job) for job in jobs), 0)
    todo = list(jobs)
    while todo:
        # A worker that dies (killed, out of memory) breaks the whole pool: every call still queued in it
        # fails with BrokenProcessPool. Those calls are run again in a fresh pool, each at most
        # LOCAL_ATTEMPTS times (as Ray retries a task), so one bad call cannot take the batch down.
        retry = []
        init = (threads, os.getpid(), log.level, _log_formatter())
        with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_init_worker, initargs=init) as pool:
            with _worker_threads(threads):  # workers start while the jobs are submitted
                futures = {pool.submit(target, job): job for job in todo}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    yield future.result()
                except BrokenProcessPool:
                    attempts[id(job)] += 1
                    if attempts[id(job)] < LOCAL_ATTEMPTS:
                        retry.append(job)
                    else:
                        yield FileOutcome(job.path, f"{job.path}: the analysis process died {LOCAL_ATTEMPTS} times")
                except Exception as exc:  # the job could not be sent or its outcome not returned
                    yield FileOutcome(job.path, f"{job.path}: the analysis process failed ({type(exc).__name__})")
        if retry:
            log.warning("an analysis process died; running %d unfinished call(s) again", len(retry))
        todo = retry


def _log_formatter() -> logging.Formatter | None:
    """The format of the driver's ``voice_coach`` log lines, for workers to write theirs alike (None:
    the driver writes none)."""
    return next((h.formatter for h in log.handlers if h.formatter is not None), None)


@contextmanager
def _worker_threads(threads: int) -> Iterator[None]:
    """``OMP_NUM_THREADS`` (which OpenBLAS and OpenMP read when they load) for processes started meanwhile,
    as Ray sets it for its workers; a value the user set is kept."""
    if "OMP_NUM_THREADS" in os.environ:
        yield
        return
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        yield
    finally:
        os.environ.pop("OMP_NUM_THREADS", None)


class AgentIdentity:
    """Who the agent of each recording is: a named group ``agent`` of a regular expression on the
    file path, or a sidecar CSV with columns ``file`` and ``agent`` (and optionally ``date``, the
    call's date, kept in ``dates`` for ``voice_coach.app.dating.CallDates``)."""

    def __init__(self, pattern: str | None = None, sidecar: Path | None = None):
        self.regex = path_pattern(pattern, group="agent", flag="--agent-from", example="(?P<agent>[^/]+)/[^/]+$")
        self.table: dict[str, str] = {}
        self.dates: dict[str, str] = {}
        if sidecar:
            self.table, self.dates = _read_sidecar(sidecar)

    def __call__(self, path: Path) -> str | None:
        listed = by_file(self.table, path)
        if listed is not None:
            return listed
        if self.regex:
            m = self.regex.search(path.as_posix())
            if m and m.group("agent"):
                return m.group("agent")
        return None


def _read_sidecar(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """``(agents, dates)`` by the ``file`` column; a ``date`` column is optional, and a date in it
    that is not one is a ``ConfigError`` naming the line."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"file", "agent"} <= set(reader.fieldnames):
                raise ConfigError(
                    f"--agent-map {path}: needs a header with columns 'file' and 'agent' (and optionally 'date')"
                )
            agents, dates = {}, {}
            for row in reader:
                name = (row.get("file") or "").strip()
                if not name:
                    continue
                agents[name] = (row.get("agent") or "").strip()
                when = (row.get("date") or "").strip()
                if when:
                    try:
                        dates[name] = parse_call_date(when).isoformat()
                    except ValueError:
                        raise ConfigError(
                            f"--agent-map {path} line {reader.line_num}: date {when!r} is not a date ({DATE_FORMATS})"
                        ) from None
            return agents, dates
    except FileNotFoundError:
        raise ConfigError(f"--agent-map {path}: file not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"--agent-map {path}: cannot read ({exc})") from None
