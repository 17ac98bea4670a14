"""Ray backend throughput: `--backend ray` on 2 CPUs against `--jobs 2` and `--jobs 1`, same files, one run.

    python benchmarks/bench_ray.py [--files 4] [--repeats 2]

Builds a folder of two-channel calls from the repository's stereo sample (each call the sample twice,
about 2 minutes; both voices are transcribed, as in a contact centre's recordings), then times the
real command in fresh processes: `voice-coach analyze DIR --json OUT -q` with `--jobs 1`, `--jobs 2`
and `--backend ray --ray-address ADDR`, where ADDR is a Ray runtime of 2 CPUs that this script starts
once (as a cluster would already be running). Order A B C C B A per pair of repeats, so a drift in
the machine's load touches all three alike. Reports throughput as minutes of audio per minute of
wall time (median), checks Ray >= 0.9x `--jobs 2`, and checks the Ray outputs have the same words
and warnings as `--jobs 2`. One more Ray run starts its own runtime (no `--ray-address`), to show
what starting Ray costs a short batch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SAMPLES, SR, Report, cache_dir, fmt, load_average, machine_summary, md_table, median  # noqa: E402


def build_folder(n_files: int) -> tuple[Path, float]:
    import soundfile as sf

    folder = cache_dir("ray", f"calls_{n_files}")
    y, sr = sf.read(str(SAMPLES / "call_stereo.wav"), dtype="float32", always_2d=True)
    assert sr == SR and y.shape[1] == 2
    call = np.concatenate([y, y])
    wanted = [folder / f"call{i:02d}.wav" for i in range(n_files)]
    for path in wanted:
        if not path.exists():
            sf.write(str(path), call, SR, subtype="PCM_16")
    return folder, n_files * len(call) / SR


def run(folder: Path, out: Path, extra: list[str]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)  # a folder even for one call
    cmd = [sys.executable, "-m", "voice_coach.cli.main", "analyze", str(folder), "--json", str(out), "-q", *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"bench_ray: {' '.join(cmd)} failed: {proc.stderr.strip()[-800:]}")
    return wall


def words_and_warnings(out: Path) -> dict:
    found = {}
    for p in sorted(out.glob("*.json")):
        r = json.loads(p.read_text())
        words = [
            (w["text"], w["start"], w["end"]) for v in ("agent", "customer") for w in (r[v] or {}).get("words", [])
        ]
        found[p.name] = (words, r["warnings"])
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    import ray

    from voice_coach.app.ray_backend import connect

    folder, audio_s = build_folder(args.files)
    load_before = load_average()
    connect(ray, None, 2)  # the "cluster": 2 CPUs, as many as --jobs 2 uses
    address = ray.get_runtime_context().gcs_address
    modes = {
        "--jobs 1": ["--jobs", "1"],
        "--jobs 2": ["--jobs", "2"],
        "--backend ray (2 CPUs)": ["--backend", "ray", "--ray-address", address],
    }
    outs = {name: cache_dir("ray") / f"out_{i}" for i, name in enumerate(modes)}
    walls: dict[str, list[float]] = {name: [] for name in modes}
    order = list(modes)
    for r in range(args.repeats):
        for name in order if r % 2 == 0 else order[::-1]:
            walls[name].append(run(folder, outs[name], modes[name]))
            print(f"{name}: {walls[name][-1]:.1f} s", flush=True)
    same = words_and_warnings(outs["--jobs 2"]) == words_and_warnings(outs["--backend ray (2 CPUs)"])
    ray.shutdown()
    own_out = cache_dir("ray") / "out_own"
    own = run(folder, own_out, ["--backend", "ray"])
    print(f"ray with its own runtime: {own:.1f} s", flush=True)
    load_after = load_average()

    rate = {name: audio_s / median(w) for name, w in walls.items()}  # audio seconds per wall second
    ratio = rate["--backend ray (2 CPUs)"] / rate["--jobs 2"]
    rep = Report(
        "ray",
        "Ray backend: --backend ray on 2 CPUs against --jobs 2 and --jobs 1",
        f"nice -n 10 python benchmarks/bench_ray.py --files {args.files} --repeats {args.repeats}",
    )
    rep.target("Throughput of Ray (2 CPUs) over --jobs 2 (median wall)", ">= 0.9x", f"{ratio:.2f}x", ratio >= 0.9)
    rep.target("Ray outputs: same words and warnings as --jobs 2", "identical", "yes" if same else "no", same)
    rep.add(
        f"Folder: {args.files} two-channel calls of {audio_s / args.files / 60:.1f} min ({audio_s / 60:.1f} min of "
        "calls in all, both voices transcribed), built from `samples/call_stereo.wav`. Each run is the real CLI "
        "(`voice-coach analyze DIR --json OUT -q` plus the options below) in a fresh process; order "
        f"{'A B C C B A per pair of repeats' if args.repeats > 1 else 'A B C'}. Ray joins a runtime of 2 CPUs started once by the benchmark (as a cluster is already up), "
        f"with one worker per CPU, each with one CTranslate2 thread, like `--jobs 2`. Machine: {machine_summary()}. "
        f"Load average (1/5/15 min) before: {load_before}; after: {load_after} (a shared machine: other work "
        "ran beside this benchmark).\n"
    )
    rep.add(
        md_table(
            ["Backend", "Wall per run (s)", "Median wall (s)", "Audio min per wall min", "Per core"],
            [
                (
                    name,
                    " / ".join(f"{w:.1f}" for w in walls[name]),
                    fmt(median(walls[name]), 1),
                    fmt(rate[name], 1),
                    fmt(rate[name] / 2, 1),
                )
                for name in modes
            ],
            align="lrrrr",
        )
    )
    extra = own - median(walls["--backend ray (2 CPUs)"])
    cost = (
        f"starting Ray cost about {extra:.0f} s more than joining a running runtime"
        if extra > 0
        else "no slower than joining a running runtime: the machine's load varied more than what starting Ray costs"
    )
    rep.add(
        f"Ray starting its own runtime for the run (no `--ray-address`, one run): {own:.1f} s wall, "
        f"{audio_s / own:.1f} min of audio per wall minute; {cost}. A batch of hours amortises the start, "
        'and a running cluster does not pay it. "Per core" divides by the 2 cores of this machine.'
    )
    # the 1-minute averages: the 15-minute one still remembers work that ended before the run
    loads = [float(x.split(" / ")[0]) for x in (load_before, load_after) if not x.startswith("n/a")]
    if loads and max(loads) > 2 * (os.cpu_count() or 1):
        rep.add(
            "The load average was far above the 2 cores during this run: each run got only a share of the machine, "
            "so the absolute rates are low and noisy. On an oversubscribed machine a process with more threads "
            "gets a larger share of it, which favours `--jobs 1` (two CTranslate2 threads, and numpy's) over "
            "one-thread workers; the comparison that matters here is Ray against `--jobs 2`, which run the same "
            "workers, alternated so that both saw the same load."
        )
    rep.write()


if __name__ == "__main__":
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    main()
