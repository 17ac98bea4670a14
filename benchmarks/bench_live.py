"""Live coaching beside a call, in real time, through a real audio server (PulseAudio).

    python benchmarks/bench_live.py [--minutes 10] [--reference-minutes M] [--no-reference]
    python benchmarks/bench_live.py --minutes 30      # the full target run (about 35 minutes)

What it does
------------
1. Builds (and caches in ``benchmarks/.cache/live/``) a long recording: ``samples/calm_then_rushed.wav``
   (calm speech 0.5-37.6 s, rushed, loud and high from 38.5 s; exact spans in
   ``samples/calm_then_rushed.truth.json``) repeated end to end until ``--minutes`` is reached
   (10 minutes: 9 copies, 606 s; 30 minutes: 27 copies, 1818 s). The file times of every calm
   span and every rushed onset are known from the truth file.
2. Starts a private PulseAudio server with a null sink ``vmic`` whose monitor is the default
   source (``tests/pulse.py``), runs ``python -m voice_coach.cli.main live --device pulse --events EV
   --record REC --duration D --quiet`` in it, waits for its ``started`` event (model loaded, stream
   open), then plays the recording into the sink with ``paplay --device=vmic``. The live process's
   CPU times and RSS (with its children) are sampled every second with psutil, and every line of
   the events file is time-stamped as it appears.
3. Aligns stream time to file time by cross-correlating the first 20 s of the source against the
   ``--record`` WAV (and the last 20 s, to check that no audio was lost or stretched on the way).

Measured, from the events file (``lag_s`` of an event is the wall-clock delay between the audio at
its ``t`` being captured and the event being written):

* word lag, per committed word: ``lag_s + (t - word.end)`` of its ``words`` event, i.e. the wall
  time from the word's end being captured to the word being written. p50/p95 overall and per
  5-minute window; creep = p50 of the last window minus p50 of the first (and a least-squares
  slope). **Targets: p50 <= 2.5 s, p95 <= 4 s, creep <= 0.5 s** (no creep over a 30-minute session:
  run ``--minutes 30`` for the full target);
* ``metrics`` lag: ``lag_s`` of the agent's ``metrics`` events, p50/p95/max. **Target: p95 <= 0.5 s**;
* first-warning latency, per rushed onset: the first agent ``warning`` after it,
  ``(warning.t - onset) + warning.lag_s``. **Target: every onset warned within 3 s.** Warnings whose
  behaviour starts and is raised inside a calm span are counted as false alarms;
* CPU: CPU seconds of the live process (all threads, children included) over the playback's wall
  seconds. **Target: <= 1 core.** RSS: the highest sample and the kernel's high-water mark
  (``VmHWM``). **Target: <= 600 MB.**

Reference, in the same run: ``simulate_realtime`` (benchmarks/realtime_reference.py) on the same audio: the
same ``OnlineTranscriber`` settings as ``voice-coach live`` (bundled tiny.en, beam 1), fed in
50 ms blocks by a virtual clock that advances by the real wall time of every ``process()`` call, in
one thread, with no audio server, no prosody and no worker thread. Its word lag is what the
streaming algorithm plus this machine's transcription speed give; live minus reference is the cost
of the real-time path (audio server, capture, worker-thread hand-off, the engine beside it, skips).
``--reference-minutes`` limits it to the first M minutes (it runs at about 2x real time).

Writes ``docs/benchmarks/live.md`` and ``benchmarks/.cache/live/run_<minutes>min.json``; the
fragment lists every run on record (so a 30-minute run and a 10-minute one are both shown).
The machine is assumed to be shared: the load average is reported with the figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    REPO_ROOT,
    SAMPLES,
    SR,
    Report,
    cache_dir,
    fmt,
    git_revision,
    load_average,
    load_mono,
    machine_summary,
    md_table,
    rel,
    versions,
)

SOURCE = SAMPLES / "calm_then_rushed.wav"
TRUTH = SAMPLES / "calm_then_rushed.truth.json"
WINDOW_S = 300.0  # per-window figures: 5 minutes of stream time

WORD_P50_S = 2.5
WORD_P95_S = 4.0
CREEP_S = 0.5
METRICS_P95_S = 0.5
WARNING_S = 3.0
CPU_CORES = 1.0
RSS_MB = 600.0  # 600 * 10^6 bytes


# --------------------------------------------------------------------------- the recording
@dataclass
class LongRecording:
    path: Path
    repeats: int
    period_s: float
    duration_s: float
    calm: list  # [(start, end)] file seconds
    rushed: list  # [(start, end)] file seconds; start = the rushed onset
    truth_words: int  # words of the truth text in the whole recording

    def repeat_of(self, t_file: float) -> int:
        return int(t_file // self.period_s)

    def in_calm(self, t_file: float, *, margin_s: float = 0.0) -> bool:
        return any(a - margin_s <= t_file < b + margin_s for a, b in self.calm)


def long_recording(minutes: float) -> LongRecording:
    """``calm_then_rushed.wav`` tiled ``ceil(minutes * 60 / 67.35)`` times (16-bit samples copied
    as they are), cached in ``benchmarks/.cache/live/``."""
    import soundfile as sf

    truth = json.loads(TRUTH.read_text())
    y, sr = sf.read(str(SOURCE), dtype="int16")
    assert sr == SR and y.ndim == 1, "calm_then_rushed.wav is expected to be 16 kHz mono"
    period = len(y) / SR
    n = max(1, math.ceil(minutes * 60.0 / period - 1e-6))
    path = cache_dir("live") / f"calm_then_rushed_x{n}.wav"
    if not path.exists() or path.stat().st_mtime < SOURCE.stat().st_mtime:
        tmp = path.with_name(path.stem + ".partial.wav")
        with sf.SoundFile(str(tmp), "w", samplerate=SR, channels=1, subtype="PCM_16") as f:
            for _ in range(n):
                f.write(y)
        os.replace(tmp, path)
    calm = [(k * period + truth["calm"]["start"], k * period + truth["calm"]["end"]) for k in range(n)]
    rushed = [(k * period + truth["rushed"]["start"], k * period + truth["rushed"]["end"]) for k in range(n)]
    words = sum(len(u["text"].split()) for u in truth["utterances"])
    return LongRecording(path, n, period, n * period, calm, rushed, n * words)


# --------------------------------------------------------------------------- statistics
def section(rec: LongRecording, t_file: float) -> str:
    """'calm' or 'rushed': the part of its copy that a file time falls in (the pause between
    the calm and rushed parts counts as calm)."""
    pos = t_file % rec.period_s
    return "rushed" if pos >= rec.rushed[0][0] - 0.1 else "calm"


def pctl(xs, q: float):
    return float(np.percentile(xs, q)) if len(xs) else None


def windows(duration_s: float, width_s: float = WINDOW_S) -> list[tuple[float, float]]:
    """``[0, w), [w, 2w), ...`` over ``duration_s``; a last piece shorter than half a window is
    merged into the one before."""
    edges = [0.0]
    while edges[-1] + width_s < duration_s:
        edges.append(edges[-1] + width_s)
    edges.append(duration_s)
    if len(edges) > 2 and edges[-1] - edges[-2] < width_s / 2:
        del edges[-2]
    return list(zip(edges[:-1], edges[1:]))


def in_window(t: float, w: tuple[float, float], last: bool) -> bool:
    return w[0] <= t < w[1] or (last and t >= w[1])


def slope_s_per_hour(t: list[float], y: list[float]):
    if len(t) < 10 or max(t) - min(t) < 60:
        return None
    a = np.polyfit(np.asarray(t) / 3600.0, np.asarray(y), 1)
    return float(a[0])


def xcorr_offset(
    rec: np.ndarray, src: np.ndarray, *, src_from_s: float, src_len_s: float, rec_from_s: float, rec_len_s: float
) -> tuple[float, float]:
    """Where ``src[src_from_s : +src_len_s]`` lies in ``rec[rec_from_s : +rec_len_s]``: (offset of
    file time 0 in the recording in s, normalised correlation at the peak)."""
    a = src[int(src_from_s * SR) : int((src_from_s + src_len_s) * SR)].astype(np.float64)
    r0 = max(0, int(rec_from_s * SR))
    b = rec[r0 : r0 + int(rec_len_s * SR)].astype(np.float64)
    if len(b) < len(a) or not np.any(a) or not np.any(b):
        return float("nan"), 0.0
    n = 1 << int(math.ceil(math.log2(len(a) + len(b))))
    corr = np.fft.irfft(np.fft.rfft(b, n) * np.conj(np.fft.rfft(a, n)), n)[: len(b) - len(a) + 1]
    k = int(np.argmax(corr))
    seg = b[k : k + len(a)]
    quality = float(corr[k] / (np.linalg.norm(a) * np.linalg.norm(seg) + 1e-12))
    return (r0 + k) / SR - src_from_s, quality


# --------------------------------------------------------------------------- the live process
class Watcher(threading.Thread):
    """Samples a process's CPU time and RSS every ``every_s`` (children included) and time-stamps
    each new line of a file as it appears (polled every 20 ms)."""

    def __init__(self, pid: int, lines_path: Path, *, every_s: float = 1.0):
        super().__init__(daemon=True)
        import psutil

        self.proc = psutil.Process(pid)
        self.path = lines_path
        self.every_s = every_s
        self.samples: list[tuple[float, float, int, int]] = []  # (monotonic, cpu_s, rss_bytes, hwm_bytes)
        self.seen: list[float] = []  # monotonic time each line was first seen
        self.first_line: dict | None = None
        self.lines_seen = 0
        self._fh = None
        self._partial = ""
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        self._tail(time.monotonic())

    def run(self) -> None:
        next_sample = 0.0
        while not self._halt.is_set():
            now = time.monotonic()
            self._tail(now)
            if now >= next_sample:
                self._sample(now)
                next_sample = now + self.every_s
            time.sleep(0.02)

    def _tail(self, now: float) -> None:
        if self._fh is None:
            try:
                self._fh = open(self.path, encoding="utf-8")
            except OSError:
                return
        data = self._fh.read()
        if not data:
            return
        text = self._partial + data
        *done, self._partial = text.split("\n")
        for line in done:
            if self.first_line is None and line.strip():
                self.first_line = json.loads(line)
            self.seen.append(now)
        self.lines_seen = len(self.seen)

    def _sample(self, now: float) -> None:
        import psutil

        try:
            with self.proc.oneshot():
                ct = self.proc.cpu_times()
                cpu = ct.user + ct.system + ct.children_user + ct.children_system
                rss = self.proc.memory_info().rss
            for child in self.proc.children(recursive=True):
                try:
                    c = child.cpu_times()
                    cpu += c.user + c.system
                    rss += child.memory_info().rss
                except psutil.Error:
                    pass
            hwm = 0
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
            self.samples.append((now, cpu, rss, hwm))
        except (psutil.Error, OSError):
            pass


def _pulse_module():
    spec = importlib.util.spec_from_file_location("vc_tests_pulse", REPO_ROOT / "tests" / "pulse.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up while the class is made
    spec.loader.exec_module(mod)
    return mod


@dataclass
class LiveSessionRun:
    """One `voice-coach live` process that heard a file played into the virtual mic."""

    live: subprocess.Popen
    watcher: Watcher
    cmd: list[str]
    t_launch: float
    t_started: float  # the first event was written: model loaded, stream open
    t_play0: float
    t_play1: float


def play_into_live(mic, played: Path, work: Path, *, duration_s: float, label: str) -> LiveSessionRun:
    """Start ``voice-coach live`` on the virtual mic (events, record and result in ``work``), wait
    until its audio flows, play ``played`` into the mic in real time, and wait for the process to
    stop after ``duration_s`` of audio. Its stdout/stderr go to ``work/live.std{out,err}``."""
    cmd = [
        sys.executable, "-m", "voice_coach.cli.main", "live", "--device", "pulse",
        "--events", str(work / "events.jsonl"), "--record", str(work / "record.wav"),
        "--json", str(work / "record.json"), "--duration", f"{duration_s:.1f}", "--quiet",
    ]  # fmt: skip
    env = dict(mic.env, PYTHONUNBUFFERED="1")
    with open(work / "live.stdout", "w") as out_log, open(work / "live.stderr", "w") as err_log:
        t_launch = time.monotonic()
        live = subprocess.Popen(cmd, env=env, stdout=out_log, stderr=err_log, cwd=REPO_ROOT)
        watcher = Watcher(live.pid, work / "events.jsonl")
        watcher.start()
        while watcher.first_line is None:  # the model is loaded and the stream is open
            if live.poll() is not None:
                watcher.stop()
                tail = (work / "live.stderr").read_text()[-2000:]
                raise SystemExit(f"{label}: voice-coach live exited ({live.returncode}) before starting:\n{tail}")
            if time.monotonic() - t_launch > 180:
                live.kill()
                raise SystemExit(f"{label}: voice-coach live did not start within 180 s")
            time.sleep(0.02)
        t_started = time.monotonic()
        # The ALSA pulse device may start delivering a moment after the stream opens: play only
        # once audio flows (the first `metrics` event needs 0.25 s of it), then 1 s more.
        while watcher.lines_seen < 2 and live.poll() is None and time.monotonic() - t_started < 30:
            time.sleep(0.02)
        time.sleep(1.0)
        print(
            f"  live started after {t_started - t_launch:.1f} s; playing {rel(played)} ...", file=sys.stderr, flush=True
        )
        t_play0 = time.monotonic()
        player = mic.play(played)
        _out, player_err = player.communicate()
        t_play1 = time.monotonic()
        if player.returncode != 0:
            print(
                f"WARNING: paplay exited {player.returncode}: {player_err.decode(errors='replace')[-500:]}",
                file=sys.stderr,
            )
        try:
            live.wait(timeout=duration_s + 120)
        except subprocess.TimeoutExpired:
            live.kill()
            live.wait()
        watcher.stop()
    return LiveSessionRun(live, watcher, cmd, t_launch, t_started, t_play0, t_play1)


def run_live(rec: LongRecording, work: Path, *, tail_s: float = 20.0) -> dict:
    """Run ``voice-coach live`` on the virtual microphone while the recording plays into it."""
    pulse = _pulse_module()
    mic, why = pulse.start_virtual_mic()
    if mic is None:
        raise SystemExit(f"bench_live: cannot start a PulseAudio server: {why}")
    events, record, result = work / "events.jsonl", work / "record.wav", work / "record.json"
    for p in (events, record, result):
        p.unlink(missing_ok=True)
    duration = rec.duration_s + tail_s
    try:
        session = play_into_live(mic, rec.path, work, duration_s=duration, label="bench_live")
    finally:
        pulse.stop_virtual_mic(mic)
    live, watcher, cmd = session.live, session.watcher, session.cmd
    t_launch, t_started, t_play0, t_play1 = session.t_launch, session.t_started, session.t_play0, session.t_play1
    stderr = (work / "live.stderr").read_text()
    if live.returncode != 0:
        raise SystemExit(f"bench_live: voice-coach live exited {live.returncode}:\n{stderr[-2000:]}")
    raw = {
        "seen": watcher.seen,
        "samples": watcher.samples,
        "t_launch": t_launch,
        "t_started": t_started,
        "t_play0": t_play0,
        "t_play1": t_play1,
        "stderr": stderr,
        "cmd": cmd,
    }
    (work / "raw.json").write_text(json.dumps(raw) + "\n")
    return load_run(work)


def load_run(work: Path) -> dict:
    """A finished live run from its folder: the events, the recording, the result and ``raw.json``
    (what the watcher saw), so that ``--reanalyze`` can redo the figures without replaying."""
    raw = json.loads((work / "raw.json").read_text())
    lines = [json.loads(line) for line in (work / "events.jsonl").read_text().splitlines() if line.strip()]
    seen = raw["seen"][: len(lines)] + [float("nan")] * max(0, len(lines) - len(raw["seen"]))
    return dict(
        raw, events=lines, seen=seen, record=work / "record.wav", result=json.loads((work / "record.json").read_text())
    )


# --------------------------------------------------------------------------- analysis
def analyze_live(rec: LongRecording, run: dict) -> dict:
    src = load_mono(rec.path)
    recorded = load_mono(run["record"])
    # file 1-21 s (past the lead silence) searched in the first 60 s of the stream: an offset of
    # file time 0 from -1 s (capture began after playback) to +39 s is found
    offset, q0 = xcorr_offset(recorded, src, src_from_s=1.0, src_len_s=20.0, rec_from_s=0.0, rec_len_s=60.0)
    end_from = max(1.0, rec.duration_s - 25.0)
    offset_end, q1 = xcorr_offset(
        recorded, src, src_from_s=end_from, src_len_s=20.0, rec_from_s=offset + end_from - 5.0, rec_len_s=30.0
    )
    del src, recorded
    ev, seen = run["events"], run["seen"]
    t_play0 = run["t_play0"]

    words = []  # (file end s, lag s, end-to-end from paplay s)
    for e, s in zip(ev, seen):
        if e["type"] == "words" and e.get("speaker") == "agent":
            for w in e["words"]:
                lag = e["lag_s"] + (e["t"] - w["end"])
                e2e = s - (t_play0 + (w["end"] - offset))
                words.append((w["end"] - offset, lag, e2e))
    metrics = [(e["t"] - offset, e["lag_s"]) for e in ev if e["type"] == "metrics" and e.get("speaker") == "agent"]
    warnings = [
        dict(e, t_file=e["t"] - offset, start_file=e["start_s"] - offset)
        for e in ev
        if e["type"] == "warning" and e.get("speaker") == "agent"
    ]
    asr = [e for e in ev if e["type"] == "asr"]

    onsets = []
    for k, (r0, r1) in enumerate(rec.rushed):
        first = next((w for w in warnings if r0 <= w["t_file"] <= r1 + 2.0), None)
        latency = None if first is None else (first["t_file"] - r0) + first["lag_s"]
        onsets.append(
            {
                "repeat": k,
                "onset_file_s": r0,
                "latency_s": latency,
                "kind": first["kind"] if first else None,
                "start_rel_s": None if first is None else first["start_file"] - r0,
                "lag_s": first["lag_s"] if first else None,
            }
        )
    false_alarms = [w for w in warnings if rec.in_calm(w["t_file"]) and rec.in_calm(w["start_file"], margin_s=0.0)]

    samples = run["samples"]
    play = [s for s in samples if run["t_play0"] <= s[0] <= run["t_play1"]]
    cpu_play = (play[-1][1] - play[0][1]) / (play[-1][0] - play[0][0]) if len(play) > 1 else None
    cpu_all = (samples[-1][1] - samples[0][1]) / (samples[-1][0] - samples[0][0]) if len(samples) > 1 else None
    peak_rss = max((s[2] for s in samples), default=0)
    hwm = max((s[3] for s in samples), default=0)

    wins = windows(rec.duration_s)
    per_window = []
    for i, w in enumerate(wins):
        last = i == len(wins) - 1
        wl = [x[1] for x in words if in_window(x[0], w, last)]
        ml = [x[1] for x in metrics if in_window(x[0], w, last)]
        ws = [s for s in samples if in_window(s[0] - t_play0, w, last) and s[0] <= run["t_play1"]]
        cpu = (ws[-1][1] - ws[0][1]) / (ws[-1][0] - ws[0][0]) if len(ws) > 1 else None
        lat = [o["latency_s"] for o in onsets if in_window(o["onset_file_s"], w, last) and o["latency_s"] is not None]
        per_window.append(
            {
                "from_s": w[0],
                "to_s": w[1],
                "words": len(wl),
                "word_p50": pctl(wl, 50),
                "word_p95": pctl(wl, 95),
                "word_max": max(wl, default=None),
                "metrics_p50": pctl(ml, 50),
                "metrics_p95": pctl(ml, 95),
                "metrics_max": max(ml, default=None),
                "cpu_cores": cpu,
                "rss_max_mb": max((s[2] for s in ws), default=0) / 1e6,
                "warning_max_s": max(lat, default=None),
            }
        )

    lags = [x[1] for x in words]
    calm_l = [x[1] for x in words if section(rec, x[0]) == "calm"]
    rush_l = [x[1] for x in words if section(rec, x[0]) == "rushed"]
    e2e_minus_lag = [x[2] - x[1] for x in words if np.isfinite(x[2])]
    return {
        "offset_s": offset,
        "offset_end_s": offset_end,
        "xcorr_quality": [q0, q1],
        "words": len(words),
        "truth_words": rec.truth_words,
        "word_p50": pctl(lags, 50),
        "word_p95": pctl(lags, 95),
        "word_max": max(lags, default=None),
        "word_slope_s_per_h": slope_s_per_hour([x[0] for x in words], lags),
        "calm_p50": pctl(calm_l, 50),
        "calm_p95": pctl(calm_l, 95),
        "rushed_p50": pctl(rush_l, 50),
        "rushed_p95": pctl(rush_l, 95),
        "creep_s": (per_window[-1]["word_p50"] - per_window[0]["word_p50"])
        if len(per_window) > 1 and per_window[0]["word_p50"] is not None and per_window[-1]["word_p50"] is not None
        else None,
        "server_latency_s": pctl(e2e_minus_lag, 50),
        "metrics": len(metrics),
        "metrics_p50": pctl([m[1] for m in metrics], 50),
        "metrics_p95": pctl([m[1] for m in metrics], 95),
        "metrics_max": max((m[1] for m in metrics), default=None),
        "metrics_over": sum(1 for m in metrics if m[1] > METRICS_P95_S),
        "onsets": onsets,
        "warnings": [{k: w[k] for k in ("kind", "t_file", "start_file", "lag_s")} for w in warnings],
        "false_alarms": [{k: w[k] for k in ("kind", "t_file", "start_file")} for w in false_alarms],
        "asr_events": [{k: e.get(k) for k in ("t", "status", "behind_s", "skipped_s")} for e in asr],
        "cpu_play": cpu_play,
        "cpu_all": cpu_all,
        "peak_rss_mb": peak_rss / 1e6,
        "hwm_mb": hwm / 1e6,
        "per_window": per_window,
        "startup_s": run["t_started"] - run["t_launch"],
        "play_wall_s": run["t_play1"] - run["t_play0"],
        "overflows": run["result"].get("live", {}).get("overflows"),
        "stop_reason": run["result"].get("live", {}).get("stop_reason"),
        "stderr_tail": run["stderr"].strip().splitlines()[-3:],
    }


def run_reference(rec: LongRecording, minutes: float | None) -> dict:
    """``simulate_realtime`` on the first ``minutes`` of the recording (all of it when None)."""
    from realtime_reference import simulate_realtime

    from voice_coach.asr.model import load_model
    from voice_coach.config import Config

    cfg = Config()
    audio = load_mono(rec.path)
    if minutes is not None:
        audio = audio[: int(minutes * 60 * SR)]
    audio = np.concatenate([audio, np.zeros(3 * SR, np.float32)])  # so that no word waits for finish()
    model = load_model()
    print(f"reference: simulate_realtime on {len(audio) / SR / 60:.1f} min ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    run = simulate_realtime(
        model, audio, block_s=0.05, language=cfg.transcription.language, beam_size=cfg.transcription.live_beam_size
    )
    wall = time.perf_counter() - t0
    ends = [w.end_s for w in run.words[: len(run.lags_s)]]
    dur = len(audio) / SR
    per_window = []
    wins = windows(min(dur, rec.duration_s))
    for i, w in enumerate(wins):
        wl = [lag for t, lag in zip(ends, run.lags_s) if in_window(t, w, i == len(wins) - 1)]
        per_window.append(
            {"from_s": w[0], "to_s": w[1], "words": len(wl), "word_p50": pctl(wl, 50), "word_p95": pctl(wl, 95)}
        )
    calm_l = [lag for t, lag in zip(ends, run.lags_s) if section(rec, t) == "calm"]
    rush_l = [lag for t, lag in zip(ends, run.lags_s) if section(rec, t) == "rushed"]
    return {
        "minutes": dur / 60,
        "words": len(run.words),
        "calm_p50": pctl(calm_l, 50),
        "calm_p95": pctl(calm_l, 95),
        "rushed_p50": pctl(rush_l, 50),
        "rushed_p95": pctl(rush_l, 95),
        "at_finish": run.at_finish,
        "calls": run.calls,
        "cpu_per_audio_s": run.cpu_per_audio_s,
        "wall_s": wall,
        "word_p50": run.lag_percentile_s(50),
        "word_p95": run.lag_percentile_s(95),
        "word_max": max(run.lags_s, default=None),
        "per_window": per_window,
    }


# --------------------------------------------------------------------------- report
def write_report(
    args, rec: LongRecording, live: dict, ref: dict | None, load_before: str, load_after: str, command: str
) -> Report:
    rep = Report("live", "Live coaching beside a call: real time through PulseAudio", command)
    full = args.minutes >= 30
    span = f"{rec.duration_s / 60:.1f} min"
    rep.target(
        "Word lag p50 (word end captured -> `words` event written)",
        f"<= {WORD_P50_S} s",
        f"{fmt(live['word_p50'])} s",
        live["word_p50"] is not None and live["word_p50"] <= WORD_P50_S,
    )
    rep.target(
        "Word lag p95",
        f"<= {WORD_P95_S} s",
        f"{fmt(live['word_p95'])} s",
        live["word_p95"] is not None and live["word_p95"] <= WORD_P95_S,
    )
    creep_ok = None if live["creep_s"] is None else live["creep_s"] <= CREEP_S
    rep.target(
        f"No creep: word-lag p50 of the last 5-min window - first ({span}{'' if full else '; the full target needs --minutes 30'})",
        f"<= {CREEP_S} s",
        f"{fmt(live['creep_s'], 2)} s (slope {fmt(live['word_slope_s_per_h'], 2)} s/h)",
        creep_ok,
    )
    rep.target(
        "`metrics` lag p95 (max)",
        f"<= {METRICS_P95_S} s",
        f"{fmt(live['metrics_p95'], 3)} s ({fmt(live['metrics_max'], 3)} s)",
        live["metrics_p95"] is not None and live["metrics_p95"] <= METRICS_P95_S,
    )
    lat = [o["latency_s"] for o in live["onsets"]]
    missed = sum(1 for x in lat if x is None)
    got = [x for x in lat if x is not None]
    rep.target(
        "First warning after each rushed onset (worst of all onsets)",
        f"<= {WARNING_S} s",
        f"{fmt(max(got, default=None))} s (median {fmt(pctl(got, 50))} s; {len(got)}/{len(lat)} onsets warned)",
        bool(got) and missed == 0 and max(got) <= WARNING_S,
    )
    rep.target(
        "Average CPU of the live process while the call plays",
        f"<= {CPU_CORES:g} core",
        f"{fmt(live['cpu_play'])} cores",
        live["cpu_play"] is not None and live["cpu_play"] <= CPU_CORES,
    )
    rep.target(
        "Peak RSS of the live process (VmHWM)",
        f"<= {RSS_MB:g} MB",
        f"{live['hwm_mb']:.0f} MB (sampled peak {live['peak_rss_mb']:.0f} MB)",
        live["hwm_mb"] <= RSS_MB,
    )

    rep.add(
        f"Recording: `{rel(rec.path)}`, `samples/calm_then_rushed.wav` {rec.repeats} times end to end ({rec.duration_s:.1f} s = {span}; "
        f"each copy calm 0.5-37.6 s, rushed from 38.5 s), played in real time by `paplay --device=vmic` into a null sink of a private "
        f"PulseAudio server whose monitor is the default source; captured by `voice-coach live --device pulse --events EV.jsonl --record REC.wav --duration D --quiet` "
        f"(sounddevice -> ALSA `pulse`). Model: bundled tiny.en (int8, CPU), beam 1. "
        f"Machine: {machine_summary()}; load average {load_before} before the run, {load_after} after "
        f"(**the machine was shared with other jobs**: lags and CPU are measured under that load). {versions('faster-whisper', 'ctranslate2', 'numpy')}."
    )
    rep.add(
        f"Alignment: file time 0 is stream time {live['offset_s']:.3f} s (cross-correlation of the first 20 s against the `--record` WAV, "
        f"peak correlation {live['xcorr_quality'][0]:.2f}); the last 20 s give {live['offset_end_s']:.3f} s "
        f"({1000 * (live['offset_end_s'] - live['offset_s']):+.0f} ms over the run: "
        + (
            "no audio lost or stretched"
            if abs(live["offset_end_s"] - live["offset_s"]) < 0.05
            else "**audio was lost or stretched on the way**"
        )
        + f"). Input overflows: {live['overflows']}. Model load and stream open: {live['startup_s']:.1f} s. Stop: {live['stop_reason']}."
    )
    rows = [
        (
            "word lag p50 / p95 / max (s)",
            f"{fmt(live['word_p50'])} / {fmt(live['word_p95'])} / {fmt(live['word_max'])}",
            f"{fmt(ref['word_p50'])} / {fmt(ref['word_p95'])} / {fmt(ref['word_max'])}" if ref else "not run",
        ),
        (
            "word lag p50 / p95, calm parts (s)",
            f"{fmt(live['calm_p50'])} / {fmt(live['calm_p95'])}",
            f"{fmt(ref['calm_p50'])} / {fmt(ref['calm_p95'])}" if ref else "-",
        ),
        (
            "word lag p50 / p95, rushed parts (s)",
            f"{fmt(live['rushed_p50'])} / {fmt(live['rushed_p95'])}",
            f"{fmt(ref['rushed_p50'])} / {fmt(ref['rushed_p95'])}" if ref else "-",
        ),
        (
            "words committed (truth text: words)",
            f"{live['words']} ({live['truth_words']})",
            f"{ref['words']} in {ref['minutes']:.1f} min ({ref['at_finish']} only at finish)" if ref else "-",
        ),
        (
            "ASR skips (`asr` events)",
            str(sum(1 for a in live["asr_events"] if a["status"] == "skipped")),
            "never skips",
        ),
        (
            "CPU (cores)",
            f"{fmt(live['cpu_play'])} while playing; {fmt(live['cpu_all'])} over the process' life incl. model load",
            f"{fmt(ref['cpu_per_audio_s'])} CPU-s per audio s ({ref['calls']} whisper calls)" if ref else "-",
        ),
    ]
    rep.add(
        "Live against the reference (`simulate_realtime`, the same transcriber and settings fed by a virtual clock in one thread, "
        "no audio server; see the script's docstring):\n\n"
        + md_table(["", "live (PulseAudio)", "reference: simulate_realtime"], rows, align="lll")
    )
    ref_w = {(w["from_s"], w["to_s"]): w for w in (ref["per_window"] if ref else [])}
    wrows = []
    for w in live["per_window"]:
        r = ref_w.get((w["from_s"], w["to_s"]))
        wrows.append(
            (
                f"{w['from_s'] / 60:.0f}-{w['to_s'] / 60:.1f} min",
                w["words"],
                f"{fmt(w['word_p50'])} / {fmt(w['word_p95'])}",
                f"{fmt(r['word_p50'])} / {fmt(r['word_p95'])}" if r else "-",
                f"{fmt(w['metrics_p50'], 3)} / {fmt(w['metrics_p95'], 3)} / {fmt(w['metrics_max'], 3)}",
                fmt(w["warning_max_s"]),
                fmt(w["cpu_cores"]),
                f"{w['rss_max_mb']:.0f}",
            )
        )
    rep.add(
        "Per 5-minute window of the recording (creep check):\n\n"
        + md_table(
            [
                "window",
                "words",
                "word lag p50 / p95 (s)",
                "reference p50 / p95 (s)",
                "metrics lag p50 / p95 / max (s)",
                "worst first-warning (s)",
                "CPU (cores)",
                "RSS max (MB)",
            ],
            wrows,
        )
    )
    orow = [
        (
            o["repeat"] + 1,
            f"{o['onset_file_s']:.2f}",
            fmt(o["latency_s"]),
            o["kind"] or "missed",
            fmt(o["start_rel_s"]),
            fmt(o["lag_s"], 3),
        )
        for o in live["onsets"]
    ]
    kinds: dict[str, int] = {}
    for w in live["warnings"]:
        kinds[w["kind"]] = kinds.get(w["kind"], 0) + 1
    rep.add(
        "First warning after each rushed onset (latency = (warning.t - onset) + warning.lag_s; `start_s` is where the engine dates the behaviour, relative to the onset):\n\n"
        + md_table(
            ["copy", "onset (file s)", "latency (s)", "kind", "start_s - onset (s)", "lag_s of the event (s)"], orow
        )
        + f"\nAll agent warnings: {len(live['warnings'])} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}). "
        f"False alarms (raised during a calm span, for behaviour that began in it): **{len(live['false_alarms'])}**"
        + (
            ": " + ", ".join(f"{f['kind']} at {f['t_file']:.1f} s" for f in live["false_alarms"][:10])
            if live["false_alarms"]
            else ""
        )
        + "."
    )
    notes = [
        f"- Word lag as defined here starts when the word's end is *captured* (the PortAudio callback); the audio server's own latency comes before that. "
        f"Time-stamping each events line as it appeared and comparing with the moment `paplay` started puts that extra at {fmt(live['server_latency_s'])} s (median; includes paplay's start-up and the 20 ms polling).",
        f"- The metrics lag counts from the end of the 0.1 s step a `metrics` event describes; {live['metrics_over']} of {live['metrics']} metrics events were over {METRICS_P95_S} s.",
        "- CPU includes everything in the live process: capture, resampling (the ALSA `pulse` device opens at its default rate and is resampled to 16 kHz), prosody, the ASR worker thread, "
        "the events file and the crash-safe recorder. Whisper (CTranslate2) may use both cores for one call, so a single call can exceed 1 core for its duration; the target is the average.",
        "- False alarms: warnings raised while the agent is in a calm span of the recording, for behaviour that began inside it; the first copy's first 6 s are never warned (baseline).",
    ]
    if live["asr_events"]:
        notes.append(
            f"- ASR status events: {len(live['asr_events'])}; skipped audio in all {fmt(max(a['skipped_s'] or 0 for a in live['asr_events']))} s (the transcriber fell over "
            "`transcription.live_max_backlog_s` behind and jumped ahead; words in the skipped audio are lost, prosody and warnings are not)."
        )
    rep.add("Notes:\n\n" + "\n".join(notes))
    return rep


def runs_on_record() -> str:
    rows = []
    for p in sorted(cache_dir("live").glob("run_*min.json"), key=lambda p: float(p.stem[4:-3])):
        try:
            d = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        lv = d["live"]
        lat = [o["latency_s"] for o in lv["onsets"] if o["latency_s"] is not None]
        rows.append(
            (
                d["written"],
                d["commit"],
                f"{lv['duration_min']:.1f}",
                f"{fmt(lv['word_p50'])} / {fmt(lv['word_p95'])}",
                fmt(lv["creep_s"]),
                fmt(lv["metrics_p95"], 3),
                f"{fmt(max(lat, default=None))} ({len(lat)}/{len(lv['onsets'])})",
                len(lv["false_alarms"]),
                fmt(lv["cpu_play"]),
                f"{lv['hwm_mb']:.0f}",
                d["load"],
            )
        )
    if not rows:
        return ""
    return (
        "Runs on record (the latest of each length, from `benchmarks/.cache/live/`; `--minutes 30` is the full target run):\n\n"
        + md_table(
            [
                "date",
                "commit",
                "minutes",
                "word lag p50 / p95 (s)",
                "creep (s)",
                "metrics p95 (s)",
                "worst warning (s) (warned)",
                "false alarms",
                "CPU (cores)",
                "RSS (MB)",
                "load average before; after",
            ],
            rows,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--minutes", type=float, default=10.0, help="length of the played recording (30 = the full target run)"
    )
    parser.add_argument(
        "--reference-minutes",
        type=float,
        default=None,
        help="run the simulate_realtime reference on the first M minutes only (default: all)",
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the simulate_realtime reference")
    parser.add_argument("--no-write", action="store_true", help="print the figures, write no docs (smoke runs)")
    parser.add_argument(
        "--reanalyze", action="store_true", help="redo the figures from the last live run of this length (no replay)"
    )
    args = parser.parse_args()
    command = (
        "python benchmarks/bench_live.py"
        + (f" --minutes {args.minutes:g}" if args.minutes != 10 else "")
        + (f" --reference-minutes {args.reference_minutes:g}" if args.reference_minutes else "")
        + (" --no-reference" if args.no_reference else "")
    )

    rec = long_recording(args.minutes)
    work = cache_dir("live", f"run_{args.minutes:g}min")
    if args.reanalyze:
        run = load_run(work)
        load_before, load_after = run.get("load_before", "n/a"), run.get("load_after", "n/a")
    else:
        load_before = load_average()
        run = run_live(rec, work)
        load_after = load_average()
        raw = json.loads((work / "raw.json").read_text())
        (work / "raw.json").write_text(json.dumps(dict(raw, load_before=load_before, load_after=load_after)) + "\n")
    live = analyze_live(rec, run)
    live["duration_min"] = rec.duration_s / 60
    print(
        json.dumps(
            {k: v for k, v in live.items() if k not in ("onsets", "warnings", "per_window")}, indent=1, default=str
        ),
        file=sys.stderr,
    )
    cached = cache_dir("live") / f"run_{args.minutes:g}min.json"
    ref = None
    if args.reanalyze and not args.no_reference and cached.exists():
        ref = json.loads(cached.read_text()).get("reference")
        if ref is None or "calm_p50" not in ref:  # from an older version of this script
            ref = None
    if ref is None and not args.no_reference:
        ref = run_reference(rec, args.reference_minutes)
    if ref:
        print(json.dumps({k: v for k, v in ref.items() if k != "per_window"}, indent=1), file=sys.stderr)
    rep = write_report(args, rec, live, ref, load_before, load_after, command)
    if args.no_write:
        print(rep.markdown())
        return
    out = {
        "written": time.strftime("%Y-%m-%d %H:%M"),
        "commit": git_revision(),
        "command": command,
        "load": f"{load_before}; {load_after}",
        "live": live,
        "reference": ref,
    }
    cached.write_text(json.dumps(out, indent=1, default=str) + "\n")
    record = runs_on_record()
    if record:
        rep.add(record)
    rep.write()


if __name__ == "__main__":
    main()
