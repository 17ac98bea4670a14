"""Analyzing many recordings on Ray: a local Ray runtime, or a cluster many machines have joined.

``run_ray(jobs)`` yields one ``FileOutcome`` per job, like ``batch.run_batch`` with local worker
processes, and the outputs are the same: each job runs ``batch.run_job`` on a Ray actor, which
writes that call's files itself (so the inputs and outputs must be on paths every node sees, e.g.
an NFS mount) and sends back only the summary row.

Each actor is one worker process that loads the model once and analyzes one call at a time. It
asks Ray for as many CPUs as the CTranslate2 threads it runs (and for a GPU with ``device=cuda``),
so Ray never places more work on a node than it has cores, and only as many as the nodes have room
for. A worker that dies (the process is killed, runs out of memory) is restarted and its call
retried by Ray (``MAX_RESTARTS``, ``MAX_TASK_RETRIES``); a call whose worker Ray cannot bring back
(its node is gone and no other has room) goes to another worker (``CALL_ATTEMPTS``). A bad
recording is an outcome with an error, reported once, never retried, never the end of the batch.
A worker on the driver's machine ends when the driver does (``batch.exit_with_driver``); elsewhere
Ray ends a lost driver's workers itself.

Ray is an optional extra (``pip install 'voice-coach[ray]'``); this module imports it lazily.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from voice_coach.app.batch import FileOutcome, Job, exit_with_driver, run_job
from voice_coach.errors import ConfigError, VoiceCoachError

__all__ = [
    "CALL_ATTEMPTS",
    "MAX_RESTARTS",
    "MAX_TASK_RETRIES",
    "RAY_MISSING",
    "ActorPlan",
    "connect",
    "import_ray",
    "plan_actors",
    "run_ray",
]

log = logging.getLogger("voice_coach")

RAY_MISSING = "--backend ray needs Ray, an optional extra: pip install 'voice-coach[ray]'"
MAX_RESTARTS = 3
"""How often Ray restarts a worker that died (its node was lost, it was killed) before giving up on it."""
MAX_TASK_RETRIES = 3
"""How often Ray itself runs a call again on its restarted worker."""
CALL_ATTEMPTS = 3
"""How many times a call may lose its worker for good (Ray's restarts used up, or impossible) before it
is reported failed; each time it goes to another worker."""
START_TIMEOUT_S = 600.0
"""How long calls wait when no worker is up (none could be placed yet) before they are reported failed."""
_WAIT_STEP_S = 1.0
NOTICE_AFTER_S = 15.0
"""Joining a cluster that takes longer than this is said on one line (Ray's own retries are held back)."""
_OBJECT_STORE_BYTES = 128 * 2**20  # a local runtime: only summary rows travel through it


def import_ray() -> Any:
    """The ``ray`` module, or a one-line ``ConfigError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(RAY_MISSING) from None
    return ray


@dataclass(frozen=True)
class ActorPlan:
    """How many workers (actors) to start and what each asks Ray for."""

    count: int
    cpus: int
    """CPUs per actor, which is also its CTranslate2 ``cpu_threads``."""
    gpus: float
    """GPUs per actor (0 on the CPU; a fraction when several actors share a GPU)."""


def plan_actors(*, workers: int | None, device: str, node_cpus: Sequence[int], total_gpus: float = 0) -> ActorPlan:
    """The actors for a batch on a cluster whose live nodes have ``node_cpus`` CPUs each, and
    ``total_gpus`` GPUs in all.

    On the CPU, ``workers`` None is one actor per CPU, each with one thread (on a 2-core machine two
    one-thread workers match two one-thread processes, ``--jobs 2``); ``workers=N`` is N actors that
    share the CPUs out, never more threads than the largest node has. On CUDA, one actor per GPU
    (``workers`` None), or N actors sharing the GPUs (a fraction each when N exceeds them), with one
    CPU each for decoding and prosody. Never more actors than the nodes have room for: an actor
    that no node can hold would wait for ever.
    """
    total_cpus = sum(node_cpus)
    if device == "cuda":
        count = max(1, min(workers or int(total_gpus), total_cpus))
        return ActorPlan(count, 1, min(1.0, total_gpus / count) if total_gpus > 0 else 0.0)
    if workers is None:
        return ActorPlan(max(1, total_cpus), 1, 0.0)
    # the most CPUs each that still fits ``workers`` actors on the nodes (5 + 1 CPUs, 2 workers: 2 each)
    cpus = max(1, min(max(node_cpus, default=1), total_cpus // workers))
    while cpus > 1 and sum(n // cpus for n in node_cpus) < workers:
        cpus -= 1
    room = sum(n // cpus for n in node_cpus)
    return ActorPlan(max(1, min(workers, room)), cpus, 0.0)


class _Analyzer:
    """A Ray actor: one worker process that runs ``run_job`` for one call at a time."""

    def __init__(self, cpu_threads: int, cwd: str, options: dict, driver: tuple[str | None, int]):
        os.environ["VOICE_COACH_CPU_THREADS"] = str(cpu_threads)
        if os.path.isdir(cwd):  # relative input paths resolve as on the driver, when this node has its folder
            os.chdir(cwd)
        import ray

        node, pid = driver
        if node and ray.get_runtime_context().get_node_id() == node:  # elsewhere Ray ends a lost driver's workers
            exit_with_driver(pid)
        try:  # load the model now, once, through the path run_job takes (a failure is reported by each job)
            from voice_coach.app.analyze import file_transcriber_factory
            from voice_coach.config import Config

            file_transcriber_factory(options.get("model"), options.get("config") or Config())
        except VoiceCoachError:
            pass

    def ready(self) -> None:
        """Answers once the worker has started (and loaded the model)."""

    def run(self, job: Job, keep_result: bool) -> FileOutcome:
        return run_job(job, keep_result=keep_result)


def run_ray(
    jobs: list[Job],
    *,
    workers: int | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    keep_results: bool = False,
) -> Iterator[FileOutcome]:
    """Run ``jobs`` on Ray actors, yielding each outcome as it completes.

    Parameters
    ----------
    jobs : list of Job
        As for ``run_batch``. Their ``[transcription] device`` (``auto``, ``cpu``, ``cuda``) is
        resolved against the GPUs of the cluster, not of this machine.
    workers : int or None
        Actors to start (see ``plan_actors``); None: one per CPU (or per GPU with ``cuda``).
    address : str or None
        A running cluster to join (``ray start --head`` prints it; ``auto`` finds the one on this
        machine). None starts a local Ray runtime with ``num_cpus`` CPUs (default: this machine's
        cores), no dashboard and no usage statistics, and shuts it down at the end.

    Raises ``ConfigError`` when Ray is missing or the cluster cannot be joined, ``ModelError`` for
    ``cuda`` on a cluster without a GPU.
    """
    if not jobs:
        return
    ray = import_ray()
    started = connect(ray, address, num_cpus)
    try:
        jobs, plan = _prepare(ray, jobs, workers)
        yield from _dispatch(ray, jobs, plan, keep_results=keep_results)
    finally:
        if started:
            ray.shutdown()


def connect(ray: Any, address: str | None = None, num_cpus: int | None = None) -> bool:
    """Join ``address`` or start a local runtime of ``num_cpus`` CPUs (default: this machine's cores);
    True when this call started it (and must stop it), False when Ray was running in this process."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray would otherwise report usage over the network
    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address:
        _check_reachable(address)
    try:
        slow = f"still joining the Ray cluster at {address}" if address else "still starting Ray"
        with _stderr_held(f"{slow}; Ray keeps trying (Ctrl-C stops)", NOTICE_AFTER_S):
            if address:
                ray.init(address=address, **quiet)
            else:
                ray.init(
                    address="local",
                    num_cpus=num_cpus or os.cpu_count() or 1,
                    include_dashboard=False,
                    object_store_memory=_OBJECT_STORE_BYTES,
                    **quiet,
                )
    except Exception as exc:  # ConnectionError, ValueError, RuntimeError: Ray raises many kinds
        where = f"--ray-address {address}: cannot join the Ray cluster" if address else "cannot start Ray"
        raise ConfigError(f"{where} ({type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]})") from None
    return True


@contextmanager
def _stderr_held(notice: str, after_s: float) -> Iterator[None]:
    """Hold back what Ray's C++ core writes to file descriptor 2 meanwhile: it logs each retry of a
    cluster it cannot join there, for minutes where something other than a Ray head answers. What
    Python writes to ``sys.stderr`` (a progress bar, log lines) still goes out as it comes. The held
    lines are written out after all when the block succeeds, and dropped when it fails, which the
    caller says in one line. ``notice`` is written once if the block takes longer than ``after_s``."""
    sys.stderr.flush()
    saved = os.dup(2)
    python_stderr = sys.stderr
    timer: threading.Timer | None = None
    try:
        with tempfile.TemporaryFile() as held, open(saved, "w", closefd=False, buffering=1) as out:
            try:
                sys.stderr = out
                os.dup2(held.fileno(), 2)
                timer = threading.Timer(after_s, lambda: print(f"voice-coach: {notice}", file=out, flush=True))
                timer.daemon = True
                timer.start()
                yield
                failed = False
            except BaseException:
                failed = True
                raise
            finally:
                if timer is not None:
                    timer.cancel()
                    timer.join()
                os.dup2(saved, 2)
                sys.stderr = python_stderr
                if not failed:
                    held.seek(0)
                    text = held.read()
                    while text:
                        text = text[os.write(2, text) :]
    finally:
        os.close(saved)


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail in one line when nothing answers at a ``HOST:PORT`` address (Ray itself would retry for
    minutes, logging as it goes). ``auto`` and ``ray://`` addresses are left to Ray."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(
            f"--ray-address {address}: nothing answers there ({exc.strerror or type(exc).__name__}); "
            "is the cluster's head running ('ray start --head')?"
        ) from None


def _prepare(ray: Any, jobs: list[Job], workers: int | None) -> tuple[list[Job], ActorPlan]:
    """The jobs with their device resolved on the cluster's GPUs, and the actors to run them."""
    from voice_coach.asr.model import resolve_config_device
    from voice_coach.config import Config

    resources = ray.cluster_resources()
    total_gpus = float(resources.get("GPU", 0))
    config = jobs[0].options.get("config") or Config()
    resolved = resolve_config_device(config, gpus=int(total_gpus))
    if resolved is not config:
        jobs = [replace(j, options={**j.options, "config": resolved}) for j in jobs]
    node_cpus = [int(n.get("Resources", {}).get("CPU", 0)) for n in ray.nodes() if n.get("Alive")]
    cluster: dict[str, Any] = {
        "device": resolved.transcription.device,
        "node_cpus": node_cpus or [int(resources.get("CPU", 1))],
        "total_gpus": total_gpus,
    }
    plan = plan_actors(workers=workers, **cluster)
    if workers and plan.count < min(workers, len(jobs)):
        log.warning(
            "--jobs %d: the Ray cluster has room for %d worker(s) of %d CPU(s) only", workers, plan.count, plan.cpus
        )
    if plan.count > len(jobs):  # fewer calls than workers: fewer workers, each with more threads
        plan = plan_actors(workers=len(jobs), **cluster)
    log.debug("ray: %d worker(s), %d CPU and %.2g GPU each", plan.count, plan.cpus, plan.gpus)
    return jobs, plan


class _Workers:
    """The batch's actors, each starting (its ``ready`` call not answered yet), idle, or running a call."""

    def __init__(self, ray: Any, actors: list[Any]):
        self.ray = ray
        self.starting: dict[Any, Any] = {actor.ready.remote(): actor for actor in actors}
        self.idle: list[Any] = []
        self.running: dict[Any, tuple[Job, Any]] = {}

    def assign(self, queue: deque[Job], keep_results: bool) -> None:
        """A queued call to each idle actor."""
        while self.idle and queue:
            actor, job = self.idle.pop(), queue.popleft()
            self.running[actor.run.remote(job, keep_results)] = (job, actor)

    def next(self, timeout_s: float) -> Any:
        """The next call or start that ended within ``timeout_s`` (None: none did)."""
        done, _ = self.ray.wait([*self.running, *self.starting], num_returns=1, timeout=timeout_s)
        return done[0] if done else None

    def started(self, ref: Any) -> bool:
        """True when ``ref`` was an actor's start: it is idle now, or given up if it could not start."""
        actor = self.starting.pop(ref, None)
        if actor is None:
            return False
        try:
            self.ray.get(ref)
            self.idle.append(actor)
        except self.ray.exceptions.RayError as exc:  # it could not start, or is gone for good
            log.debug("ray: a worker is given up (%s)", type(exc).__name__)
        return True

    def finished(self, ref: Any, lost: dict[int, int], queue: deque[Job]) -> FileOutcome | None:
        """The outcome of a call that ended, or None when its worker was lost and it went back in the queue."""
        ray = self.ray
        job, actor = self.running.pop(ref)
        try:
            outcome = ray.get(ref)
        except ray.exceptions.RayActorError as exc:  # its worker is lost, after Ray's own restarts and retries
            self.starting[actor.ready.remote()] = actor  # back in service only if Ray brings it up again
            lost[id(job)] += 1
            if lost[id(job)] >= CALL_ATTEMPTS:
                return FileOutcome(
                    job.path, f"{job.path}: its Ray worker was lost {CALL_ATTEMPTS} times ({type(exc).__name__})"
                )
            log.warning("%s: its Ray worker was lost (%s); the call goes to another", job.path, type(exc).__name__)
            queue.append(job)
            return None
        except ray.exceptions.RayError as exc:  # an unexpected exception inside the analysis
            cause = getattr(exc, "cause", None) or exc
            outcome = FileOutcome(job.path, f"{job.path}: the analysis failed ({type(cause).__name__})")
        self.idle.append(actor)
        return outcome


def _dispatch(ray: Any, jobs: list[Job], plan: ActorPlan, *, keep_results: bool) -> Iterator[FileOutcome]:
    """One call per actor at a time; each outcome is yielded as it arrives.

    A call goes only to an actor that has answered ``ready``, so an actor Ray cannot place (no room
    left, its node gone) holds no call. A call whose worker is lost for good (Ray restarted it
    ``MAX_RESTARTS`` times, or could not: its node is gone and no other has room) is given to
    another worker, at most ``CALL_ATTEMPTS`` times in all; the lost actor takes calls again only if
    it answers ``ready`` again. With no worker up for ``START_TIMEOUT_S``, the calls left fail.
    """
    actor_class = ray.remote(_Analyzer).options(
        num_cpus=plan.cpus,
        num_gpus=plan.gpus,
        max_restarts=MAX_RESTARTS,
        max_task_retries=MAX_TASK_RETRIES,
    )
    driver = (_driver_node(ray), os.getpid())
    workers = _Workers(
        ray, [actor_class.remote(plan.cpus, os.getcwd(), jobs[0].options, driver) for _ in range(plan.count)]
    )
    queue = deque(jobs)
    lost = dict.fromkeys((id(job) for job in jobs), 0)
    waited = 0.0
    while queue or workers.running:
        workers.assign(queue, keep_results)
        if not workers.running and not workers.starting:
            yield from (FileOutcome(j.path, f"{j.path}: not analyzed, every Ray worker has failed") for j in queue)
            return
        ref = workers.next(_WAIT_STEP_S)
        if ref is None:
            if not workers.running:  # nothing up yet: Ray has not placed any worker
                waited += _WAIT_STEP_S
                if waited >= START_TIMEOUT_S:
                    yield from (FileOutcome(j.path, f"{j.path}: not analyzed, {_no_room(plan)}") for j in queue)
                    return
                if waited % 60 < _WAIT_STEP_S:
                    log.warning(
                        "waiting %.0f s for a Ray worker to start (no room on the cluster yet, or the model "
                        "is slow to load)",
                        waited,
                    )
            continue
        waited = 0.0
        if not workers.started(ref):
            outcome = workers.finished(ref, lost, queue)
            if outcome is not None:
                yield outcome


def _driver_node(ray: Any) -> str | None:
    """The Ray node this process runs on, for workers to tell whether they share its machine; None
    for a Ray Client (``ray://``) driver, which is on no node of the cluster (the context would name
    the head node, where this process's pid means nothing)."""
    try:
        from ray.util.client import ray as client

        if client.is_connected():
            return None
    except ImportError:  # pragma: no cover - every Ray release we support has it
        pass
    return ray.get_runtime_context().get_node_id()


def _no_room(plan: ActorPlan) -> str:
    """Why the calls left were not analyzed when no worker could start."""
    gpus = f" and {plan.gpus:g} GPU" if plan.gpus else ""
    needs = f"each needs {plan.cpus} CPU(s){gpus} free on one node, and the model loaded"
    return f"no Ray worker started within {START_TIMEOUT_S:.0f} s ({needs})"
