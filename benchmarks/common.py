"""Shared helpers for the benchmarks in this folder.

The benchmarks are scripts, not tests: each one measures voice-coach against a reference in the
same run and writes its figures as a markdown fragment to ``docs/benchmarks/<name>.md``, plus a
machine-readable summary of its targets to ``benchmarks/.cache/results/<name>.json`` that
``run_all.py`` turns into the summary table of ``docs/benchmarks.md``.

What lives here:

* paths: the repository root, ``../shared/data`` next to it (optional: benchmarks say when it is
  absent), and the cache ``benchmarks/.cache/`` (gitignored) for generated audio;
* measuring: ``measure()`` (wall time by ``time.perf_counter``, process CPU time by
  ``time.process_time``), ``peak_rss_mib()``, ``median``;
* audio: reading any file as 16 kHz mono float32 (through ``voice_coach.sources.decode``, the package's own
  decoder), writing 16-bit WAV, trimming leading/trailing silence, ``sox tempo``;
* RAVDESS file names;
* markdown: ``md_table``, ``verdict``, ``write_fragment``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO_ROOT / "benchmarks"
SAMPLES = REPO_ROOT / "samples"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
CACHE = BENCH_DIR / ".cache"
RESULTS = CACHE / "results"
DOCS = REPO_ROOT / "docs"
FRAGMENTS = DOCS / "benchmarks"

SR = 16000  # voice_coach.SAMPLE_RATE; repeated here so that helpers need no package import


# --------------------------------------------------------------------------- paths
def cache_dir(*parts: str) -> Path:
    """A folder under ``benchmarks/.cache/``, created on demand."""
    path = CACHE.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def shared_data(name: str, *, what: str = "") -> Path | None:
    """``../shared/data/<name>`` when it exists; otherwise print why it is skipped and return None."""
    path = SHARED_DATA / name
    if path.exists():
        return path
    reason = f" ({what})" if what else ""
    print(f"NOTE: {path} is absent{reason}; the parts that need it are skipped.", file=sys.stderr)
    return None


def rel(path: Path | str) -> str:
    """A path for the reports: relative to the repository root when inside it, or to its parent
    (``../shared/...``)."""
    p = Path(path).resolve()
    for base, prefix in ((REPO_ROOT, ""), (REPO_ROOT.parent, "../")):
        try:
            return prefix + str(p.relative_to(base))
        except ValueError:
            pass
    return str(p)


# --------------------------------------------------------------------------- measuring
@dataclass
class Timing:
    wall_s: float = 0.0
    cpu_s: float = 0.0  # this process, all threads


@contextmanager
def measure() -> Iterator[Timing]:
    """``with measure() as t: ...`` fills ``t.wall_s`` and ``t.cpu_s``."""
    t = Timing()
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        yield t
    finally:
        t.wall_s = time.perf_counter() - w0
        t.cpu_s = time.process_time() - c0


def median(xs: Iterable[float]) -> float:
    xs = list(xs)
    return float(np.median(xs)) if xs else float("nan")


def peak_rss_mib(*, children: bool = False) -> float:
    """Peak resident set size of this process (or of its waited-for children) in MiB (Linux
    reports ``ru_maxrss`` in KiB)."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024.0


def hwm_rss_mib() -> float:
    """Peak resident set size of this process image in MiB, from ``VmHWM`` in /proc/self/status.

    Prefer this to ``ru_maxrss`` in a child process: Linux carries ``ru_maxrss`` across ``exec``
    from the forked copy of the parent, so a child of a big parent reports the parent's size.
    ``VmHWM`` belongs to the address space, which ``exec`` replaces."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_rss_mib()


def rss_mib() -> float:
    """Current resident set size of this process in MiB."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


# --------------------------------------------------------------------------- audio
def load_mono(path: Path | str, *, channel: int | None = None) -> np.ndarray:
    """The whole file as 16 kHz float32 mono: ``channel`` when given, else the mean of channels."""
    from voice_coach.sources.decode import load_audio

    audio = load_audio(path)
    y = audio[channel] if channel is not None else audio.mean(axis=0)
    return np.ascontiguousarray(y, dtype=np.float32)


def write_wav(path: Path, y: np.ndarray, *, sr: int = SR) -> Path:
    """16-bit PCM WAV, written to a temporary name first so an interrupted run leaves no half file."""
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".partial.wav")
    sf.write(str(tmp), np.clip(y, -1.0, 1.0), sr, subtype="PCM_16")
    os.replace(tmp, path)
    return path


def duration_s(path: Path | str) -> float:
    import soundfile as sf

    return float(sf.info(str(path)).duration)


def frame_db(y: np.ndarray, *, sr: int = SR, frame_s: float = 0.02) -> np.ndarray:
    """RMS level in dBFS of consecutive ``frame_s`` frames."""
    n = int(round(frame_s * sr))
    k = len(y) // n
    if k == 0:
        return np.zeros(0)
    power = np.mean(np.square(y[: k * n].reshape(k, n), dtype=np.float64), axis=1)
    return 10 * np.log10(np.maximum(power, 1e-12))


def trim_silence(
    y: np.ndarray, *, sr: int = SR, keep_s: float = 0.3, range_db: float = 35.0, floor_db: float = -60.0
) -> np.ndarray:
    """``y`` with its leading and trailing silence cut to ``keep_s``. Speech is the 20 ms frames
    within ``range_db`` of the loudest frame and above ``floor_db`` dBFS."""
    frame_s = 0.02
    level = frame_db(y, sr=sr, frame_s=frame_s)
    if not len(level):
        return y
    active = np.flatnonzero(level > max(level.max() - range_db, floor_db))
    if not len(active):
        return y[:0]
    n = int(round(frame_s * sr))
    keep = int(round(keep_s * sr))
    start = max(0, active[0] * n - keep)
    end = min(len(y), (active[-1] + 1) * n + keep)
    return y[start:end]


def silence(seconds: float, *, sr: int = SR) -> np.ndarray:
    return np.zeros(int(round(seconds * sr)), np.float32)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(
            f"the benchmark needs the '{name}' program; install it (Debian: apt-get install {name}) and rerun"
        )
    return path


def sox_tempo(src: Path, dst: Path, factor: float) -> Path:
    """``sox src dst tempo -s factor``: speech ``factor`` times faster, pitch kept (WSOLA, speech
    settings). Cached: skipped when ``dst`` is newer than ``src``."""
    if dst.exists() and dst.stat().st_mtime >= src.stat().st_mtime:
        return dst
    require_tool("sox")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.stem + ".partial.wav")
    subprocess.run(["sox", "-D", str(src), str(tmp), "tempo", "-s", f"{factor:g}"], check=True)
    os.replace(tmp, dst)
    return dst


def phone_channel(y: np.ndarray, dst: Path) -> np.ndarray:
    """``y`` (16 kHz mono) as a narrowband phone call delivers it, decoded as the product decodes
    any file. sox resamples to 8 kHz, band-limits to 300-3400 Hz (``sinc 300-3400``, a
    linear-phase FIR whose delay sox removes) and stores G.711 mu-law (8 bit), no dither:
    ``sox -D in.wav -r 8000 -e mu-law -b 8 dst.wav sinc 300-3400``. The result is read back
    through ``voice_coach.sources.decode`` (resampled to 16 kHz), like any input. ``dst`` is a
    cache."""
    if not dst.exists():
        require_tool("sox")
        src = write_wav(dst.with_name(dst.stem + ".wideband.wav"), y)
        tmp = dst.with_name(dst.stem + ".partial.wav")
        cmd = ["sox", "-D", str(src), "-r", "8000", "-e", "mu-law", "-b", "8", str(tmp), "sinc", "300-3400"]
        subprocess.run(cmd, check=True)
        os.replace(tmp, dst)
        src.unlink()
    out = load_mono(dst)
    n = len(y)  # the same number of samples as the wideband version, so frames line up
    return np.pad(out, (0, max(0, n - len(out))))[:n]


def espeak(text: str, *, voice: str = "en-us", speed_wpm: int = 160, pitch: int = 50, gap_10ms: int = 0) -> np.ndarray:
    """espeak-ng speech of ``text`` as 16 kHz float32 (resampled by sox)."""
    import tempfile

    import soundfile as sf

    require_tool("espeak-ng")
    require_tool("sox")
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
        cmd = ["espeak-ng", "-v", voice, "-s", str(speed_wpm), "-p", str(pitch), "-w", str(raw)]
        if gap_10ms:
            cmd += ["-g", str(gap_10ms)]
        subprocess.run(cmd + [text], check=True, capture_output=True)
        subprocess.run(
            ["sox", "-D", str(raw), "-e", "floating-point", "-b", "32", str(out), "rate", "-v", str(SR)], check=True
        )
        y, sr = sf.read(str(out), dtype="float32")
    assert sr == SR
    return y if y.ndim == 1 else y.mean(axis=1)


def level_to(y: np.ndarray, dbfs: float) -> np.ndarray:
    """``y`` scaled so that the RMS of its active 20 ms frames (within 40 dB of the loudest) is
    ``dbfs``."""
    level = frame_db(y)
    active = level > level.max() - 40 if len(level) else level
    if not active.any():
        return y
    rms_db = 10 * np.log10(np.mean(np.power(10, level[active] / 10)))
    return (y * 10 ** ((dbfs - rms_db) / 20)).astype(np.float32)


# --------------------------------------------------------------------------- RAVDESS
RAVDESS_EMOTIONS = {
    1: "neutral",
    2: "calm",
    3: "happy",
    4: "sad",
    5: "angry",
    6: "fearful",
    7: "disgust",
    8: "surprised",
}
_RAVDESS_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


@dataclass(frozen=True)
class RavdessClip:
    path: Path
    emotion: str
    intensity: int  # 1 normal, 2 strong
    statement: int
    repetition: int
    actor: int


def ravdess_clips(folder: Path | None = None) -> list[RavdessClip]:
    """The RAVDESS clips in ``../shared/data/ravdess`` (``[]`` when absent), sorted by name."""
    folder = folder or SHARED_DATA / "ravdess"
    if not folder.is_dir():
        return []
    clips = []
    for p in sorted(folder.iterdir()):
        m = _RAVDESS_NAME.match(p.stem)
        if not m or p.suffix.lower() not in (".flac", ".wav"):
            continue
        _, _, emo, inten, stmt, rep, actor = (int(g) for g in m.groups())
        clips.append(RavdessClip(p, RAVDESS_EMOTIONS.get(emo, str(emo)), inten, stmt, rep, actor))
    return clips


# --------------------------------------------------------------------------- markdown
def fmt(x, nd: int = 2, *, none: str = "n/a") -> str:
    if x is None:
        return none
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    x = float(x)
    if not np.isfinite(x):
        return none
    return f"{x:.{nd}f}"


def pct(x, nd: int = 1, *, none: str = "n/a") -> str:
    return none if x is None or not np.isfinite(x) else f"{100 * x:.{nd}f} %"


def md_table(headers: Sequence[str], rows: Iterable[Sequence], *, align: str | None = None) -> str:
    """A GitHub markdown table. ``align``: one of ``l``/``r``/``c`` per column (default: first
    column left, the others right)."""
    headers = [str(h).replace("|", "\\|") for h in headers]
    align = align or ("l" + "r" * (len(headers) - 1))
    rule = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(rule[a] for a in align) + "|"]
    for row in rows:
        cells = [str(c).replace("|", "\\|").replace("\n", " ") for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("**PASS**" if ok else "**FAIL**")


@dataclass
class Target:
    """One checked target: what is measured, the bound, the measured value, the verdict."""

    name: str
    target: str
    measured: str
    ok: bool | None  # None: could not be measured (data absent)


@dataclass
class Report:
    """A benchmark's fragment: title, reproduction command, targets and free markdown."""

    name: str  # file stem: docs/benchmarks/<name>.md
    title: str
    command: str
    targets: list[Target] = field(default_factory=list)
    body: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.body.append(text.rstrip("\n") + "\n")

    def target(self, name: str, target: str, measured: str, ok: bool | None) -> bool | None:
        self.targets.append(Target(name, target, measured, ok))
        return ok

    def markdown(self) -> str:
        out = [
            f"## {self.title}\n",
            f"Reproduce: `{self.command}` (measured at commit {git_revision()}, {time.strftime('%Y-%m-%d %H:%M')})\n",
        ]
        if self.targets:
            out.append(
                md_table(
                    ["Target", "Bound", "Measured", "Verdict"],
                    [(t.name, t.target, t.measured, verdict(t.ok)) for t in self.targets],
                    align="lllc",
                )
            )
        out.extend(self.body)
        return "\n".join(out)

    def write(self) -> Path:
        """Write ``docs/benchmarks/<name>.md`` and the targets to the results cache."""
        FRAGMENTS.mkdir(parents=True, exist_ok=True)
        path = FRAGMENTS / f"{self.name}.md"
        path.write_text(self.markdown(), encoding="utf-8")
        RESULTS.mkdir(parents=True, exist_ok=True)
        data = {
            "name": self.name,
            "title": self.title,
            "command": self.command,
            "written": time.strftime("%Y-%m-%d %H:%M:%S"),
            "targets": [t.__dict__ for t in self.targets],
        }
        (RESULTS / f"{self.name}.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {rel(path)}")
        return path


# --------------------------------------------------------------------------- machine
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_summary() -> str:
    """One line: CPU, cores usable by this process, memory, OS, Python."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        import psutil

        mem = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        mem = ""
    return f"{cpu_model()}, {cores} cores{mem}; {platform.system()} {platform.release()}; Python {platform.python_version()}"


def load_average() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def git_revision() -> str:
    """The commit the package was measured at, e.g. ``7bc2eae`` or ``7bc2eae + uncommitted changes
    in voice_coach/`` (the analysis code, not the benchmarks, is what matters)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "voice_coach"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes in voice_coach/" if dirty else "")


def versions(*modules: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for m in modules:
        try:
            out.append(f"{m} {version(m)}")
        except PackageNotFoundError:
            out.append(f"{m} (absent)")
    return ", ".join(out)
