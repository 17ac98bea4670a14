"""Batch throughput: `voice-coach analyze DIR --jobs 2` against `--jobs 1` on the same folder.

    python benchmarks/bench_batch.py [--files 8]

Builds a folder of recordings from the repository's samples (each call a few minutes of the
samples strung together, so model loading is a small part), then times the real command, in
fresh processes, with one job and with two, alternating (1, 2, 1, 2), and reports the median wall
time and the speed-up. With 2 cores and CTranslate2 already using both for one job, the gain of
two jobs comes from overlapping what one job does not parallelise (decoding, prosody, model
start-up, writing). Target: two jobs are not slower than one (speed-up >= 1.0); the figure is
what matters.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SAMPLES, Report, cache_dir, fmt, load_mono, machine_summary, md_table, median, write_wav  # noqa: E402


def build_folder(n_files: int) -> tuple[Path, float]:
    folder = cache_dir("batch", f"calls_{n_files}")
    wanted = [folder / f"call{i:02d}.wav" for i in range(n_files)]
    pieces = [
        load_mono(SAMPLES / "calm_then_rushed.wav"),
        load_mono(SAMPLES / "call_stereo.wav", channel=0),
        load_mono(SAMPLES / "jfk.flac", channel=0),
    ]
    if not all(p.exists() for p in wanted):
        rng = np.random.default_rng(0)
        for path in wanted:
            order = rng.permutation(len(pieces))
            y = np.concatenate([pieces[k] for k in order] + [pieces[order[0]]])
            write_wav(path, y)
    total = sum(len(load_mono(p)) for p in wanted) / 16000
    return folder, total


def run(folder: Path, jobs: int, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "voice_coach.cli.main",
        "analyze",
        str(folder),
        "--jobs",
        str(jobs),
        "--json",
        str(out),
        "-q",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"bench_batch: {' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    folder, audio_s = build_folder(args.files)
    out = cache_dir("batch", "out")
    walls: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for jobs in (1, 2):
            walls[jobs].append(run(folder, jobs, out))
            print(f"jobs={jobs}: {walls[jobs][-1]:.1f} s", flush=True)
    m1, m2 = median(walls[1]), median(walls[2])
    speedup = m1 / m2
    rep = Report(
        "batch", "Batch throughput: --jobs 2 against --jobs 1", f"python benchmarks/bench_batch.py --files {args.files}"
    )
    rep.target(
        "Speed-up of --jobs 2 over --jobs 1 on 2 cores (median wall)", ">= 1.0", f"{speedup:.2f}x", speedup >= 1.0
    )
    rep.add(
        f"Folder: {args.files} recordings, {audio_s / 60:.1f} min of audio in all, built from the repository's samples. "
        f"The command is the real CLI (`voice-coach analyze DIR --jobs N --json OUT -q`), in a fresh process each time, "
        f"runs alternating 1, 2, 1, 2. Machine: {machine_summary()}.\n"
    )
    rep.add(
        md_table(
            ["Jobs", "Wall per run (s)", "Median wall (s)", "Audio x real time"],
            [
                (
                    j,
                    " / ".join(f"{w:.1f}" for w in walls[j]),
                    fmt(median(walls[j]), 1),
                    fmt(audio_s / median(walls[j]), 1),
                )
                for j in (1, 2)
            ],
            align="rrrr",
        )
    )
    rep.add(
        "With `--jobs 2` each worker gets one CTranslate2 thread (cores / jobs), so the two jobs do not fight over the cores."
    )
    rep.write()


if __name__ == "__main__":
    main()
