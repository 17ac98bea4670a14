"""Throughput and memory of ``analyze_file`` against a bare faster-whisper pass, in one run.

    python benchmarks/bench_throughput.py [--repeats 3] [--skip-hour]

On the same ~10-minute recording (``make_long_recording.py``), alternating a, b, c, a, b, c, ...:

(a) the reference: bare faster-whisper, ``voice_coach.asr.model.load_model()`` (the bundled tiny.en,
    int8, CPU) then ``model.transcribe(path, beam_size=5, word_timestamps=True, vad_filter=True,
    language="en")``, consuming every segment;
(b) ``voice_coach.app.analyze.analyze_file(path)``: decoding, transcription, prosody, cues, warnings
    and the JSON result;
(c) for attribution only: (b)'s own transcription step alone (``ChunkedTranscriber``).

Reported: median wall and CPU time, x real time, and the ratio b/a of the median wall times.
**Target: b/a <= 1.10** (the analysis costs at most 10 % on top of transcribing). The prosody-only
path (``analyze_file(path, transcribe=False)``) is timed too, to show its share.

Memory: the peak RSS of analysing a 1-hour recording (the 10-minute one six times over) in a fresh
subprocess, read from the child's own ``VmHWM`` (``/proc/self/status``; not ``ru_maxrss``, which
Linux carries over from the forked parent) and cross-checked by sampling its RSS with psutil from
here. **Target: < 1 GiB.** The 10-minute recording and the prosody-only path are
measured the same way to show how memory grows with length. ``--skip-hour`` skips the 1-hour run
(a few minutes).

The model is loaded once before any timing (its load time is reported separately), and one short
warm-up transcription runs first, so neither side pays for first-call initialisation.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    SAMPLES,
    Report,
    duration_s,
    fmt,
    hwm_rss_mib,
    load_average,
    machine_summary,
    md_table,
    measure,
    median,
    rel,
    versions,
)
from make_long_recording import hour_recording, long_recording  # noqa: E402

RATIO_TARGET = 1.10
RSS_TARGET_MIB = 1024.0


def bare_whisper(path: Path) -> int:
    """(a): a plain faster-whisper pass; returns the number of words."""
    from voice_coach.asr.model import load_model

    model = load_model()
    segments, _info = model.transcribe(str(path), beam_size=5, word_timestamps=True, vad_filter=True, language="en")
    return sum(len(s.words or []) for s in segments)


def pipeline_transcriber(path: Path) -> int:
    """(c): the transcription that (b) runs, alone: the file decoded by ``voice_coach.sources.decode`` and
    fed to the pipeline's ``ChunkedTranscriber`` (28 s chunks cut at quiet points), in this thread.
    (b) - (c) is what the analysis adds; (c) - (a) is what the chunked transcription costs."""
    from voice_coach.asr.model import load_model
    from voice_coach.asr.transcribe import ChunkedTranscriber
    from voice_coach.config import TranscriptionConfig
    from voice_coach.sources.decode import iter_audio

    t = ChunkedTranscriber(load_model(), TranscriptionConfig())
    words = 0
    for chunk in iter_audio(path, chunk_s=1.0):
        t.insert_audio(chunk[0])
        words += len(t.process())
    return words + len(t.finish())


def full_analysis(path: Path, **kwargs) -> dict:
    """(b): the whole analysis."""
    from voice_coach.app.analyze import analyze_file

    return analyze_file(path, **kwargs)


# --------------------------------------------------------------------------- child process (memory)
def child_main(path: str, transcribe: bool, bare: bool = False) -> None:
    """Analyse ``path`` and serialise its JSON result (or, with ``bare``, run (a) on it), then print
    one JSON line of measurements."""
    from voice_coach.output.result import to_json

    if bare:
        with measure() as t:
            words = bare_whisper(Path(path))
        print(
            "RESULT "
            + json.dumps(
                {
                    "wall_s": t.wall_s,
                    "cpu_s": t.cpu_s,
                    "peak_rss_mib": hwm_rss_mib(),
                    "duration_s": duration_s(path),
                    "words": words,
                    "json_mib": None,
                    "warnings": None,
                }
            ),
            flush=True,
        )
        return
    with measure() as t:
        result = full_analysis(Path(path), transcribe=transcribe)
        text = to_json(result)
    out = {
        "wall_s": t.wall_s,
        "cpu_s": t.cpu_s,
        "peak_rss_mib": hwm_rss_mib(),
        "duration_s": result["duration_s"],
        "words": len(result["agent"]["words"]),
        "json_mib": len(text.encode()) / 2**20,
        "warnings": len(result["warnings"]),
    }
    print("RESULT " + json.dumps(out), flush=True)


def run_child(path: Path, *, transcribe: bool = True, bare: bool = False) -> dict:
    """Run ``child_main`` in a fresh interpreter; sample its RSS every 0.5 s while it runs."""
    import psutil

    cmd = (
        [sys.executable, str(Path(__file__).resolve()), "--child", str(path)]
        + ([] if transcribe else ["--no-transcribe"])
        + (["--bare"] if bare else [])
    )
    what = "bare faster-whisper" if bare else ("full analysis" if transcribe else "prosody-only analysis")
    print(f"  subprocess: {what} of {rel(path)} ...", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    samples: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    while proc.poll() is None:
        try:
            samples.append((time.perf_counter() - t0, ps.memory_info().rss / 2**20))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.5)
    stdout = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"the child analysis of {path} failed (exit {proc.returncode})")
    line = next(ln for ln in stdout.splitlines() if ln.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])
    out["sampled_peak_rss_mib"] = max((r for _, r in samples), default=float("nan"))
    # RSS at each quarter of the run: flat = memory does not grow with the length analysed.
    if samples:
        total = samples[-1][0]
        out["rss_quarters_mib"] = [
            max((r for t, r in samples if t <= total * q), default=float("nan")) for q in (0.25, 0.5, 0.75, 1.0)
        ]
    return out


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(
        description="Throughput of analyze_file vs bare faster-whisper; peak RSS on 1 hour."
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs of each of (a) and (b), alternating (default 3)"
    )
    parser.add_argument("--skip-hour", action="store_true", help="skip the 1-hour peak-RSS run")
    parser.add_argument("--child", metavar="WAV", help=argparse.SUPPRESS)
    parser.add_argument("--no-transcribe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, transcribe=not args.no_transcribe, bare=args.bare)
        return

    from voice_coach.asr.model import load_model

    path = long_recording()
    dur = duration_s(path)
    print(f"recording: {rel(path)} ({dur:.1f} s)", file=sys.stderr)
    with measure() as t_load:
        load_model()
    with measure() as t_warm:
        bare_whisper(SAMPLES / "jfk.flac")

    runs: dict[str, list] = {"a": [], "b": [], "c": []}
    words: dict[str, int] = {}
    for i in range(args.repeats):
        for key in ("a", "b", "c"):
            print(f"  run {i + 1}/{args.repeats} ({key}) ...", file=sys.stderr, flush=True)
            with measure() as t:
                if key == "a":
                    words["a"] = bare_whisper(path)
                elif key == "b":
                    r = full_analysis(path)
                    words["b"] = len(r["agent"]["words"])
                else:
                    words["c"] = pipeline_transcriber(path)
            runs[key].append(t)
            print(f"    wall {t.wall_s:.1f} s, cpu {t.cpu_s:.1f} s", file=sys.stderr)
    prosody = []
    for _ in range(3):
        with measure() as t:
            full_analysis(path, transcribe=False)
        prosody.append(t)

    a_wall, b_wall = median(t.wall_s for t in runs["a"]), median(t.wall_s for t in runs["b"])
    a_cpu, b_cpu = median(t.cpu_s for t in runs["a"]), median(t.cpu_s for t in runs["b"])
    c_wall, c_cpu = median(t.wall_s for t in runs["c"]), median(t.cpu_s for t in runs["c"])
    p_wall, p_cpu = median(t.wall_s for t in prosody), median(t.cpu_s for t in prosody)
    ratio = b_wall / a_wall

    print("  memory ...", file=sys.stderr, flush=True)
    mem = {
        "10 min, (a) bare faster-whisper": run_child(path, bare=True),
        "10 min, (b) full analysis": run_child(path),
        "10 min, prosody only": run_child(path, transcribe=False),
    }
    hour_path = None
    if not args.skip_hour:
        hour_path = hour_recording()
        mem["1 hour, prosody only"] = run_child(hour_path, transcribe=False)
        mem["1 hour, (b) full analysis"] = run_child(hour_path)

    rep = Report(
        "throughput",
        "Throughput and memory: analyze_file vs bare faster-whisper",
        "python benchmarks/bench_throughput.py"
        + ("" if args.repeats == 3 else f" --repeats {args.repeats}")
        + (" --skip-hour" if args.skip_hour else ""),
    )
    rep.target(
        "Full analysis time / bare faster-whisper time (median wall)",
        f"<= {RATIO_TARGET:.2f}",
        f"{ratio:.3f} (by CPU time: {b_cpu / a_cpu:.3f})",
        ratio <= RATIO_TARGET,
    )
    if "1 hour, (b) full analysis" in mem:
        peak = mem["1 hour, (b) full analysis"]["peak_rss_mib"]
        rep.target(
            "Peak RSS, full analysis of a 1-hour recording", "< 1024 MiB", f"{peak:.0f} MiB", peak < RSS_TARGET_MIB
        )
    else:
        rep.target("Peak RSS, full analysis of a 1-hour recording", "< 1024 MiB", "not run (--skip-hour)", None)

    rep.add(
        f"Recording: `{rel(path)}`, {dur:.1f} s mono 16 kHz, built by `benchmarks/make_long_recording.py` from the "
        "repository's samples and espeak-ng paragraphs. Model: bundled tiny.en (int8, CPU), loaded once before timing "
        f"({t_load.wall_s:.2f} s) and warmed up on `samples/jfk.flac` ({t_warm.wall_s:.2f} s). "
        f"{args.repeats} runs of each of (a), (b) and (c), alternating a, b, c, a, b, c; medians shown. "
        f"Machine: {machine_summary()}; load average before the run {load_average()}. "
        f"{versions('faster-whisper', 'ctranslate2', 'numpy')}.\n"
    )
    rows = []
    for label, ts, w in (
        ("(a) bare faster-whisper `model.transcribe(path, ...)`", runs["a"], words.get("a")),
        ("(b) `analyze_file(path)`", runs["b"], words.get("b")),
        ("(c) (b)'s transcription alone: `ChunkedTranscriber` on the decoded file", runs["c"], words.get("c")),
        ("prosody only: `analyze_file(path, transcribe=False)` (3 runs)", prosody, None),
    ):
        wall, cpu = median(t.wall_s for t in ts), median(t.cpu_s for t in ts)
        rows.append(
            (
                label,
                " / ".join(f"{t.wall_s:.1f}" for t in ts),
                fmt(wall, 2),
                fmt(min(t.wall_s for t in ts), 2),
                fmt(cpu, 1),
                f"{dur / wall:.1f}x",
                fmt(w, 0) if w is not None else "-",
            )
        )
    rep.add(
        md_table(
            [
                "Path",
                "Wall per run (s)",
                "Median wall (s)",
                "Min wall (s)",
                "Median CPU (s)",
                "x real time (median)",
                "Words",
            ],
            rows,
        )
    )
    a_min, b_min = min(t.wall_s for t in runs["a"]), min(t.wall_s for t in runs["b"])
    rep.add(
        f"Ratio b/a (median wall): **{ratio:.3f}**; by CPU time {b_cpu / a_cpu:.3f}; by the fastest run of each "
        f"(the least disturbed by other load) {b_min / a_min:.3f}. "
        f"The prosody-only path takes {p_wall:.2f} s ({dur / p_wall:.0f}x real time), "
        f"{100 * p_wall / b_wall:.1f} % of the full analysis' wall time and {100 * p_cpu / b_cpu:.1f} % of its CPU time. "
        "(b) transcribes in chunks of at most 28 s cut at quiet points, with `condition_on_previous_text=False`; (a) "
        "is faster-whisper's own pass over the whole file with its defaults otherwise, so the word counts differ slightly. "
        f"Where the extra time of (b) goes: chunked transcription (c) vs (a) {c_wall / a_wall:.3f} by wall time, "
        f"{c_cpu / a_cpu:.3f} by CPU time; everything else (b) does on top of (c): {b_wall - c_wall:+.1f} s wall, "
        f"{b_cpu - c_cpu:+.1f} s CPU ({100 * (b_cpu - c_cpu) / a_cpu:+.1f} % of (a)'s CPU time), of which prosody alone is "
        f"{p_cpu:.1f} s CPU.\n"
    )

    rows = []
    for label, m in mem.items():
        q = m.get("rss_quarters_mib", [])
        rows.append(
            (
                label,
                fmt(m["duration_s"] / 60, 1),
                fmt(m["wall_s"], 1),
                f"{m['duration_s'] / m['wall_s']:.1f}x",
                f"{m['peak_rss_mib']:.0f}",
                f"{m['sampled_peak_rss_mib']:.0f}",
                " / ".join(f"{x:.0f}" for x in q),
                fmt(m["json_mib"], 1),
            )
        )
    rep.add(
        "Memory, each in a fresh subprocess ((b) and prosody only: `analyze_file` then `to_json`), peak RSS in MiB from the child's own "
        "`VmHWM`, and from sampling its RSS every 0.5 s with psutil (highest sample by the end of each quarter of "
        "the run):\n"
    )
    rep.add(
        md_table(
            ["Run", "Minutes", "Wall (s)", "x real time", "Peak RSS (MiB)", "Sampled peak", "By quarter", "JSON (MiB)"],
            rows,
        )
    )
    if hour_path is None:
        rep.add("The 1-hour run was skipped (`--skip-hour`).\n")
    rep.write()


if __name__ == "__main__":
    main()
