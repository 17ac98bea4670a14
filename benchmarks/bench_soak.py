"""Soak: 30+ minutes of a call through the engine with the live transcriber, faster than real time.

    python benchmarks/bench_soak.py [--minutes 30] [--speed 4] [--only a|b] [--reuse]

The recording is ``bench_live.py``'s: ``samples/calm_then_rushed.wav`` repeated end to end
(30 minutes: 27 copies, 1818 s, cached in ``benchmarks/.cache/live/``). Each mode runs in a fresh
subprocess, so that its memory is its own; RSS is sampled with psutil every 10 s of wall time.

(a) Synchronous, stream time. ``voice_coach.engine.core.Engine`` with a bare
    ``streaming_asr.OnlineTranscriber`` (the live settings: bundled tiny.en, beam 1), fed 50 ms
    blocks as fast as it goes. The engine calls the transcriber's ``process()`` after every block
    in the same thread, and ``process()`` transcribes whenever 1 s of new audio has arrived, so the
    ASR never skips and never waits. Word commit lag in *stream time* = stream time at the commit
    minus the word's end: what the streaming algorithm itself costs, whatever the machine's speed.
    Reported per 5-minute window (p50/p95), with the transcriber's buffer length (``buffer_s``,
    sampled every 10 s of stream) and the wall time of each whisper call, so that creep in lag, in
    buffer or in cost would show. **Targets: word commit lag p50 of the last window within 0.5 s of
    the first; buffer_s never above ``max_buffer_s`` (25 s) and its last-window mean within 1 s of
    the first.**

(b) The engine as ``voice-coach live`` runs it: each voice's ``OnlineTranscriber`` behind
    ``AsyncTranscriber(max_backlog_s=transcription.live_max_backlog_s)`` (``voice_coach/app/live.py``), fed by
    ``voice_coach.app.live.ReplaySource(path, speed=--speed)`` through ``LiveSession``. If the ASR
    falls more than ``max_backlog_s`` behind it skips (``asr`` status events, reported; with
    ``AsyncTranscriber`` batching all queued audio into one call it usually keeps up even at 4x);
    prosody and warnings must not care. Reported: RSS every minute of stream, the ``metrics`` events' lag (wall
    seconds from the audio being "captured" by the replay to the event), the ``asr`` events.
    **Targets: metrics lag p95 <= 0.5 s; prosody warnings identical in kind and timing (start,
    end, and the stream time each was raised) to ``voice_coach.app.analyze.analyze_file(path,
    transcribe=False)``,** which is also checked for (a).

Memory, both modes: **flat = the highest RSS in the last quarter of the run within 10 % (or
50 MB, whichever is larger) of the highest in the second quarter.**

Writes ``docs/benchmarks/soak.md`` (and ``benchmarks/.cache/soak/``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_live import in_window, long_recording, pctl, slope_s_per_hour, windows  # noqa: E402
from common import Report, cache_dir, fmt, git_revision, load_average, machine_summary, md_table, rel, versions  # noqa: E402

CREEP_S = 0.5
BUFFER_CREEP_S = 1.0
METRICS_P95_S = 0.5
FLAT_FRACTION, FLAT_MB = 0.10, 50.0


# --------------------------------------------------------------------------- in the child
class RssSampler(threading.Thread):
    """RSS of this process every ``every_s`` of wall time, with the stream time reached then."""

    def __init__(self, state: dict, every_s: float = 10.0):
        super().__init__(daemon=True)
        self.state = state
        self.every_s = every_s
        self.samples: list[tuple[float, float, float]] = []  # (wall s since start, stream s, rss MB)
        self._halt = threading.Event()
        self._t0 = time.perf_counter()

    def sample(self) -> None:
        import psutil

        self.samples.append(
            (time.perf_counter() - self._t0, float(self.state.get("t", 0.0)), psutil.Process().memory_info().rss / 1e6)
        )

    def run(self) -> None:
        while not self._halt.is_set():
            self.sample()
            self._halt.wait(self.every_s)

    def stop(self) -> list:
        self._halt.set()
        self.join(timeout=5)
        self.sample()
        return self.samples


def _hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def _warning_events(events) -> list:
    return [(e.kind, round(e.t, 3), round(e.start_s, 3)) for e in events if getattr(e, "type", "") == "warning"]


def child_sync(path: Path) -> dict:
    """Mode (a): Engine + bare OnlineTranscriber, one thread, stream time."""
    from voice_coach.asr.model import load_model
    from voice_coach.asr.streaming import OnlineTranscriber
    from voice_coach.config import Config
    from voice_coach.engine.core import ChannelMap, Engine
    from voice_coach.output.result import build_result
    from voice_coach.sources.decode import iter_audio

    cfg = Config()
    model = load_model()
    made: dict = {}

    def make(speaker):
        made[speaker] = OnlineTranscriber(
            model, language=cfg.transcription.language, beam_size=cfg.transcription.live_beam_size
        )
        return made[speaker]

    engine = Engine(config=cfg, channels=ChannelMap(0, None), transcriber=make)
    tr = made["agent"]
    state = {"t": 0.0}
    sampler = RssSampler(state)
    sampler.start()
    words, finish_words, buffers, calls, warn_events = [], 0, [], [], []
    next_buffer = 10.0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for chunk in iter_audio(path, chunk_s=0.05):
        c0, t0 = tr.calls, time.perf_counter()
        events = engine.feed(chunk)
        if tr.calls > c0:
            calls.append((engine.t, time.perf_counter() - t0))
        state["t"] = engine.t
        for e in events:
            if e.type == "words":
                words += [(w.end_s, e.t - w.end_s) for w in e.words]
        warn_events += _warning_events(events)
        if engine.t >= next_buffer:
            buffers.append((engine.t, tr.buffer_s))
            next_buffer += 10.0
    events = engine.finish()
    finish_words = sum(len(e.words) for e in events if e.type == "words")
    warn_events += _warning_events(events)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    rss = sampler.stop()
    result = build_result(engine, source=str(path), model="bundled:tiny.en")
    return {
        "mode": "a",
        "duration_s": engine.t,
        "wall_s": wall,
        "cpu_s": cpu,
        "words": words,
        "finish_words": finish_words,
        "buffers": buffers,
        "calls": calls,
        "whisper_calls": tr.calls,
        "rss": rss,
        "hwm_mb": _hwm_mb(),
        "warnings": result["warnings"],
        "warning_events": warn_events,
        "max_buffer_s": tr.max_buffer_s,
    }


class Collector:
    """A LiveSession consumer that keeps what the soak reports."""

    def __init__(self, state: dict):
        self.state = state
        self.metrics: list[tuple[float, float]] = []  # (t, lag)
        self.words: list[tuple[float, float]] = []  # (end, stream commit lag)
        self.asr: list[dict] = []
        self.warning_events: list[tuple] = []

    def handle(self, e, lag: float) -> None:
        self.state["t"] = max(self.state.get("t", 0.0), e.t)
        if e.type == "metrics" and e.speaker == "agent":
            self.metrics.append((e.t, lag))
        elif e.type == "words":
            self.words += [(w.end_s, e.t - w.end_s) for w in e.words]
        elif e.type == "asr":
            self.asr.append({"t": e.t, "status": e.status, "behind_s": e.behind_s, "skipped_s": e.skipped_s})
        elif e.type == "warning":
            self.warning_events.append((e.kind, round(e.t, 3), round(e.start_s, 3)))

    def close(self) -> None:
        pass


def child_live(path: Path, speed: float) -> dict:
    """Mode (b): the engine as the live command builds it, fed by ReplaySource at ``speed``."""
    from voice_coach.app.live import LiveSession, ReplaySource
    from voice_coach.asr.model import load_model
    from voice_coach.asr.streaming import OnlineTranscriber
    from voice_coach.asr.transcribe import AsyncTranscriber
    from voice_coach.config import Config
    from voice_coach.engine.core import ChannelMap, Engine
    from voice_coach.output.result import build_result

    cfg = Config()
    model = load_model()
    made: dict = {}

    def make(speaker):
        inner = OnlineTranscriber(
            model, language=cfg.transcription.language, beam_size=cfg.transcription.live_beam_size
        )
        made[speaker] = AsyncTranscriber(inner, max_backlog_s=cfg.transcription.live_max_backlog_s)
        return made[speaker]

    engine = Engine(config=cfg, channels=ChannelMap(0, None), transcriber=make)
    state = {"t": 0.0}
    collector = Collector(state)
    source = ReplaySource(path, speed=speed)
    audio_mb = source.audio.nbytes / 1e6
    sampler = RssSampler(state)
    sampler.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with source:
        session = LiveSession(engine=engine, source=source, consumers=[collector], channels_in=1)
        end = session.run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    rss = sampler.stop()
    result = build_result(engine, source=str(path), model="bundled:tiny.en")
    return {
        "mode": "b",
        "speed": speed,
        "duration_s": engine.t,
        "wall_s": wall,
        "cpu_s": cpu,
        "stop_reason": end.reason,
        "metrics": collector.metrics,
        "words": collector.words,
        "asr": collector.asr,
        "rss": rss,
        "hwm_mb": _hwm_mb(),
        "warnings": result["warnings"],
        "warning_events": collector.warning_events,
        "replay_audio_mb": audio_mb,
        "backlog_s": cfg.transcription.live_max_backlog_s,
        "skipped_s": made["agent"].skipped_s,
    }


# --------------------------------------------------------------------------- in the parent
def run_child(mode: str, args, out: Path) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        mode,
        "--minutes",
        f"{args.minutes:g}",
        "--speed",
        f"{args.speed:g}",
        "--out",
        str(out),
    ]
    print(f"soak ({mode}) ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    print(f"soak ({mode}) done in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return json.loads(out.read_text())


def reference(path: Path) -> dict:
    from voice_coach.app.analyze import analyze_file

    events = []
    t0 = time.perf_counter()
    result = analyze_file(path, transcribe=False, on_event=events.append)
    return {
        "warnings": result["warnings"],
        "warning_events": _warning_events(events),
        "wall_s": time.perf_counter() - t0,
    }


def rss_flat(rss: list) -> tuple[float, float, bool]:
    """(max MB in the second quarter, max MB in the last quarter, flat?) by wall time."""
    wall = [s[0] for s in rss]
    end = max(wall)
    q2 = [s[2] for s in rss if end / 4 <= s[0] < end / 2] or [rss[len(rss) // 2][2]]
    q4 = [s[2] for s in rss if s[0] >= 3 * end / 4] or [rss[-1][2]]
    a, b = max(q2), max(q4)
    return a, b, b <= a + max(FLAT_FRACTION * a, FLAT_MB)


def same_warnings(mine: dict, ref: dict) -> tuple[bool, str]:
    key = lambda w: (w["kind"], w["speaker"], w["start"], w["end"])  # noqa: E731
    a, b = [key(w) for w in mine["warnings"]], [key(w) for w in ref["warnings"]]
    ea, eb = [tuple(x) for x in mine["warning_events"]], [tuple(x) for x in ref["warning_events"]]
    if a == b and ea == eb:
        return True, f"identical: {len(a)} warnings, same kind, start, end and raise time"
    diff = [f"{x} vs {y}" for x, y in zip(a, b) if x != y][:3]
    return False, f"{len(a)} vs {len(b)} warnings, {len(ea)} vs {len(eb)} raise events differ" + (
        f"; first differences: {'; '.join(diff)}" if diff else ""
    )


def per_window_rss(rss: list, w, last: bool):
    xs = [s[2] for s in rss if in_window(s[1], w, last)]
    return max(xs) if xs else None


def report_a(rep: Report, a: dict, ref: dict) -> None:
    lags = [x[1] for x in a["words"]]
    wins = windows(a["duration_s"])
    rows, p50s, buf_means = [], [], []
    for i, w in enumerate(wins):
        last = i == len(wins) - 1
        wl = [x[1] for x in a["words"] if in_window(x[0], w, last)]
        bl = [b[1] for b in a["buffers"] if in_window(b[0], w, last)]
        cl = [c[1] for c in a["calls"] if in_window(c[0], w, last)]
        p50s.append(pctl(wl, 50))
        buf_means.append(float(np.mean(bl)) if bl else None)
        rows.append(
            (
                f"{w[0] / 60:.0f}-{w[1] / 60:.1f} min",
                len(wl),
                f"{fmt(pctl(wl, 50))} / {fmt(pctl(wl, 95))} / {fmt(max(wl, default=None))}",
                f"{fmt(buf_means[-1], 1)} / {fmt(max(bl, default=None), 1)}",
                len(cl),
                f"{fmt(1000 * np.mean(cl) if cl else None, 0)} / {fmt(1000 * pctl(cl, 95) if cl else None, 0)}",
                fmt(per_window_rss(a["rss"], w, last), 0),
            )
        )
    creep = p50s[-1] - p50s[0] if len(p50s) > 1 and None not in (p50s[0], p50s[-1]) else None
    rep.target(
        "(a) word commit lag p50 / p95, stream time (informative)",
        "-",
        f"{fmt(pctl(lags, 50))} / {fmt(pctl(lags, 95))} s",
        None,
    )
    rep.target(
        "(a) word-lag creep: p50 of the last 5-min window - first",
        f"<= {CREEP_S} s",
        f"{fmt(creep)} s (slope {fmt(slope_s_per_hour([x[0] for x in a['words']], lags), 2)} s/h)",
        None if creep is None else creep <= CREEP_S,
    )
    bmax = max((b[1] for b in a["buffers"]), default=0.0)
    bcreep = buf_means[-1] - buf_means[0] if len(buf_means) > 1 and None not in (buf_means[0], buf_means[-1]) else None
    rep.target(
        "(a) ASR buffer (`buffer_s`): max; last-window mean - first",
        f"<= {a['max_buffer_s']:g} s; <= {BUFFER_CREEP_S:g} s",
        f"{fmt(bmax, 1)} s; {fmt(bcreep)} s",
        None if bcreep is None else (bmax <= a["max_buffer_s"] + 1.0 and bcreep <= BUFFER_CREEP_S),
    )
    q2, q4, flat = rss_flat(a["rss"])
    rep.target(
        "(a) RSS flat: max of the last quarter vs the second",
        f"<= +{FLAT_FRACTION:.0%} or +{FLAT_MB:g} MB",
        f"{q4:.0f} vs {q2:.0f} MB (VmHWM {a['hwm_mb']:.0f} MB)",
        flat,
    )
    ok, text = same_warnings(a, ref)
    rep.target("(a) warnings = analyze_file(transcribe=False)", "identical", text, ok)
    a["_rows"] = rows


def report_b(rep: Report, b: dict, ref: dict) -> None:
    ml = [m[1] for m in b["metrics"]]
    rep.target(
        f"(b) `metrics` lag p95 (max), {b['speed']:g}x real time",
        f"<= {METRICS_P95_S} s",
        f"{fmt(pctl(ml, 95), 3)} s ({fmt(max(ml, default=None), 3)} s)",
        bool(ml) and pctl(ml, 95) <= METRICS_P95_S,
    )
    q2, q4, flat = rss_flat(b["rss"])
    rep.target(
        "(b) RSS flat: max of the last quarter vs the second",
        f"<= +{FLAT_FRACTION:.0%} or +{FLAT_MB:g} MB",
        f"{q4:.0f} vs {q2:.0f} MB (VmHWM {b['hwm_mb']:.0f} MB)",
        flat,
    )
    ok, text = same_warnings(b, ref)
    rep.target("(b) warnings = analyze_file(transcribe=False)", "identical", text, ok)
    skips = [x for x in b["asr"] if x["status"] == "skipped"]
    rep.target(
        "(b) ASR skips at this speed (informative)",
        "-",
        f"{len(skips)} skips, {fmt(b['skipped_s'], 0)} s of {b['duration_s']:.0f} s skipped",
        None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the recording (default 30)")
    parser.add_argument("--speed", type=float, default=4.0, help="(b): replay speed, x real time (default 4)")
    parser.add_argument(
        "--only", choices=["a", "b"], help="run one mode (the other is reused from the last run when cached)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="rewrite the report from the last runs of both modes (no new run)"
    )
    parser.add_argument("--no-write", action="store_true", help="print the figures, write no docs")
    parser.add_argument("--child", choices=["a", "b"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    rec = long_recording(args.minutes)
    if args.child:
        data = child_sync(rec.path) if args.child == "a" else child_live(rec.path, args.speed)
        args.out.write_text(json.dumps(data) + "\n")
        return

    folder = cache_dir("soak")
    load_before = load_average()
    out = {}
    for mode in ("a", "b"):
        path = folder / f"mode_{mode}_{args.minutes:g}min.json"
        if ((args.only and args.only != mode) or args.reuse) and path.exists():
            out[mode] = json.loads(path.read_text())
            continue
        if args.only and args.only != mode:
            continue
        before = load_average()
        out[mode] = run_child(mode, args, path)
        out[mode].update(load_before=before, load_after=load_average())
        path.write_text(json.dumps(out[mode]) + "\n")
    load_after = load_average()
    modes = [out[m] for m in ("a", "b") if m in out]
    if modes and "load_before" in modes[0]:  # the load while the runs ran, also when reused
        load_before, load_after = modes[0]["load_before"], modes[-1].get("load_after", load_after)
    ref = reference(rec.path)
    command = (
        "python benchmarks/bench_soak.py"
        + (f" --minutes {args.minutes:g}" if args.minutes != 30 else "")
        + (f" --speed {args.speed:g}" if args.speed != 4 else "")
    )
    rep = Report(
        "soak", "Soak: 30+ minutes through the engine with the live transcriber, faster than real time", command
    )
    if "a" in out:
        report_a(rep, out["a"], ref)
    if "b" in out:
        report_b(rep, out["b"], ref)
    rep.add(
        f"Recording: `{rel(rec.path)}`, `samples/calm_then_rushed.wav` {rec.repeats} times end to end ({rec.duration_s:.1f} s = {rec.duration_s / 60:.1f} min). "
        f"Model: bundled tiny.en (int8, CPU), beam 1. Machine: {machine_summary()}; load average {load_before} before, {load_after} after "
        f"(shared with other jobs). {versions('faster-whisper', 'ctranslate2', 'numpy')}. "
        f"Reference: `analyze_file(path, transcribe=False)` took {ref['wall_s']:.1f} s and raised {len(ref['warnings'])} warnings."
    )
    if "a" in out:
        a = out["a"]
        rep.add(
            f"**(a) synchronous, stream time**: {a['duration_s']:.0f} s of audio in {a['wall_s']:.0f} s wall ({a['duration_s'] / a['wall_s']:.1f}x real time), "
            f"{a['cpu_s'] / a['duration_s']:.2f} CPU-s per audio s, {a['whisper_calls']} whisper calls, {len(a['words'])} words committed while streaming "
            f"(+{a['finish_words']} at finish; the truth text has {rec.truth_words}). Per 5-minute window of stream time:\n\n"
            + md_table(
                [
                    "window",
                    "words",
                    "commit lag p50 / p95 / max (s)",
                    "buffer_s mean / max (s)",
                    "whisper calls",
                    "wall per call mean / p95 (ms)",
                    "RSS max (MB)",
                ],
                a["_rows"],
            )
        )
        rep.add("RSS (MB) every 10 s of wall time, thinned to one value per stream minute: " + rss_by_minute(a["rss"]))
    if "b" in out:
        b = out["b"]
        ml = [m[1] for m in b["metrics"]]
        wins = windows(b["duration_s"])
        rows = []
        for i, w in enumerate(wins):
            last = i == len(wins) - 1
            mw = [m[1] for m in b["metrics"] if in_window(m[0], w, last)]
            sk = [x for x in b["asr"] if x["status"] == "skipped" and in_window(x["t"], w, last)]
            wl = [x for x in b["words"] if in_window(x[0], w, last)]
            rows.append(
                (
                    f"{w[0] / 60:.0f}-{w[1] / 60:.1f} min",
                    f"{fmt(pctl(mw, 50), 3)} / {fmt(pctl(mw, 95), 3)} / {fmt(max(mw, default=None), 3)}",
                    len(sk),
                    f"{fmt(sum(x['behind_s'] for x in sk), 0)}",
                    len(wl),
                    fmt(per_window_rss(b["rss"], w, last), 0),
                )
            )
        rep.add(
            f"**(b) as `voice-coach live` runs it**, `ReplaySource(speed={b['speed']:g})` + `LiveSession`, `AsyncTranscriber(max_backlog_s={b['backlog_s']:g})`: "
            f"{b['duration_s']:.0f} s of audio in {b['wall_s']:.0f} s wall, {b['cpu_s'] / b['wall_s']:.2f} cores on average; stop: {b['stop_reason']}. "
            f"{len(b['words'])} words committed; "
            + (
                f"the ASR fell over {b['backlog_s']:g} s behind and skipped {sum(1 for x in b['asr'] if x['status'] == 'skipped')} times ({fmt(b['skipped_s'], 0)} s of audio). "
                if b["asr"]
                else f"the ASR kept up even at {b['speed']:g}x (no `asr` events): `AsyncTranscriber` hands everything queued to one `process()`, so a faster feed means "
                "more audio per whisper call, not a growing backlog. "
            )
            + f"`metrics` lag p50 / p95 / max {fmt(pctl(ml, 50), 3)} / {fmt(pctl(ml, 95), 3)} / {fmt(max(ml, default=None), 3)} s over {len(ml)} events. "
            + f"The replayed recording itself is held in memory by `ReplaySource` ({b['replay_audio_mb']:.0f} MB of float32), included in its RSS. Per 5-minute window:\n\n"
            + md_table(
                [
                    "window",
                    "metrics lag p50 / p95 / max (s)",
                    "asr skips",
                    "audio skipped (s)",
                    "words",
                    "RSS max (MB)",
                ],
                rows,
            )
        )
        rep.add("RSS (MB) every minute of stream: " + rss_by_minute(b["rss"]))
    rep.add(
        "Notes:\n\n"
        "- (a) measures the streaming algorithm in stream time: the lag a machine fast enough to transcribe instantly would see. Wall-clock word lag on this machine, "
        "through an audio server, is `bench_live.py`'s (live.md).\n"
        "- Warnings are compared as the JSON result's list (kind, speaker, start, end) and as the `warning` events (kind, stream time raised, behaviour start): "
        "prosody must not depend on the transcriber, on its thread, on skips or on the block size (50 ms here, 1 s chunks in `analyze_file`).\n"
        "- RSS flatness compares the highest sample in the last quarter of the run's wall time with the highest in the second quarter (the first holds the model load)."
    )
    if args.no_write:
        print(rep.markdown())
        return
    (folder / "summary.json").write_text(
        json.dumps(
            {
                "written": time.strftime("%Y-%m-%d %H:%M"),
                "commit": git_revision(),
                "targets": [t.__dict__ for t in rep.targets],
            },
            indent=1,
        )
        + "\n"
    )
    rep.write()


def rss_by_minute(rss: list) -> str:
    out, minute = [], -1
    for _wall, t, mb in rss:
        m = int(t // 60)
        if m > minute:
            out.append(f"{m}: {mb:.0f}")
            minute = m
    return ", ".join(out) + f"; end: {rss[-1][2]:.0f}"


if __name__ == "__main__":
    main()
