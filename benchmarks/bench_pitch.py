"""Pitch tracking: accuracy of ``voice_coach.prosody`` against Praat, and speed against Praat and
librosa, in one run.

    python benchmarks/bench_pitch.py [--pyin-s 20]

Recordings: every RAVDESS clip in ``../shared/data/ravdess`` (real actors, when present),
``samples/jfk.flac`` (real speech, channel 0) and ``samples/calm_then_rushed.wav`` (espeak-ng:
synthetic, reported apart because a synthetic voice is an easy case).

Reference: Praat's autocorrelation pitch through parselmouth,
``Sound.to_pitch_ac(time_step=0.01, pitch_floor=65, pitch_ceiling=500)`` (the same range as
``ProsodyConfig``), read at our frame times (``voice_coach.prosody.frame_times_s``) from Praat's
nearest frame; Praat's unvoiced frames (0 Hz) are unvoiced.

* **Gross pitch error** (GPE): the share of frames both call voiced where
  ``|f_ours / f_praat - 1| > 20 %``. **Target: <= 5 %** on the real speech (RAVDESS + JFK).
* **Voicing agreement**: precision (share of our voiced frames that Praat calls voiced) and recall
  (share of Praat's voiced frames that we call voiced). Reported, no target.
* **Speed** in x real time on all of the audio above: ours (``analyze_frames``, which also
  computes loudness and voicing), Praat, ``librosa.yin``, and ``librosa.pyin`` on the first
  ``--pyin-s`` seconds only (it is slow). librosa's numba code is warmed up before timing. The
  GPE of yin and pyin against Praat is shown too, for context.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    SAMPLES, SR, Report, fmt, load_average, load_mono, machine_summary, md_table, measure, median, pct, ravdess_clips,
    shared_data, versions,
)

GPE_TARGET = 0.05
GROSS = 0.20
FMIN, FMAX = 65.0, 500.0
HOP = 160  # 10 ms, as ProsodyConfig.hop_ms
YIN_FRAME = 1024  # librosa: 64 ms frames, 32 ms integration window; enough for 65 Hz


@dataclass
class Rec:
    name: str
    group: str  # "RAVDESS", "JFK (real)", "espeak-ng (synthetic)"
    y: np.ndarray


@dataclass
class Scores:
    both: int = 0  # frames both voiced
    gross: int = 0
    low: int = 0  # gross errors where ours is below Praat (ours an octave down, or Praat up)
    ours_v: int = 0
    praat_v: int = 0
    agree_v: int = 0
    frames: int = 0
    cents: list = None  # |error| in cents on frames without gross error

    def __post_init__(self):
        self.cents = [] if self.cents is None else self.cents

    def add(self, other: "Scores") -> None:
        for k in ("both", "gross", "low", "ours_v", "praat_v", "agree_v", "frames"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.cents.extend(other.cents)

    @property
    def gpe(self) -> float:
        return self.gross / self.both if self.both else float("nan")

    @property
    def precision(self) -> float:
        return self.agree_v / self.ours_v if self.ours_v else float("nan")

    @property
    def recall(self) -> float:
        return self.agree_v / self.praat_v if self.praat_v else float("nan")


def recordings() -> list[Rec]:
    recs = []
    folder = shared_data("ravdess", what="RAVDESS clips for real-voice pitch accuracy")
    for clip in ravdess_clips(folder) if folder else []:
        recs.append(Rec(clip.path.name, "RAVDESS", load_mono(clip.path)))
    recs.append(Rec("jfk.flac", "JFK (real)", load_mono(SAMPLES / "jfk.flac", channel=0)))
    recs.append(Rec("calm_then_rushed.wav", "espeak-ng (synthetic)", load_mono(SAMPLES / "calm_then_rushed.wav")))
    return recs


# --------------------------------------------------------------------------- trackers
def ours(y: np.ndarray):
    from voice_coach.prosody import analyze_frames

    return analyze_frames(y, sr=SR)


def praat(y: np.ndarray):
    import parselmouth

    snd = parselmouth.Sound(y.astype(np.float64), sampling_frequency=SR)
    return snd.to_pitch_ac(time_step=0.01, pitch_floor=FMIN, pitch_ceiling=FMAX)


def praat_at(pitch, times: np.ndarray) -> np.ndarray:
    """Praat's F0 at ``times`` from its nearest frame (0 = unvoiced)."""
    f = pitch.selected_array["frequency"]
    xs = np.asarray(pitch.xs())
    if not len(xs):
        return np.zeros(len(times))
    idx = np.rint((times - xs[0]) / pitch.time_step).astype(int)
    out = np.zeros(len(times))
    ok = (idx >= 0) & (idx < len(f))
    out[ok] = f[idx[ok]]
    return out


def librosa_yin(y: np.ndarray) -> np.ndarray:
    import librosa

    return librosa.yin(y, fmin=FMIN, fmax=FMAX, sr=SR, frame_length=YIN_FRAME, hop_length=HOP)


def librosa_pyin(y: np.ndarray) -> np.ndarray:
    import librosa

    f0, _voiced, _prob = librosa.pyin(y, fmin=FMIN, fmax=FMAX, sr=SR, frame_length=YIN_FRAME, hop_length=HOP)
    return f0


def librosa_times(n: int) -> np.ndarray:
    return np.arange(n) * HOP / SR  # centre=True: frame k is centred on sample k * hop


# --------------------------------------------------------------------------- scoring
def score(f_ours: np.ndarray, voiced: np.ndarray, f_ref: np.ndarray) -> Scores:
    ref_v = f_ref > 0
    both = voiced & ref_v
    ratio = f_ours[both] / f_ref[both]
    gross = np.abs(ratio - 1) > GROSS
    cents = np.abs(1200 * np.log2(ratio[~gross]))
    return Scores(both=int(both.sum()), gross=int(gross.sum()), low=int((gross & (ratio < 1)).sum()), ours_v=int(voiced.sum()), praat_v=int(ref_v.sum()),
                  agree_v=int(both.sum()), frames=len(voiced), cents=cents.tolist())


def offset_scan(recs: list[Rec], frames_by_rec: dict, praat_by_rec: dict, offsets=range(-3, 4)) -> list[tuple[int, float, float]]:
    """Voicing agreement (F1) and GPE when our frames are read ``k`` frames later in Praat's
    track: shows whether ``frame_times_s`` lines up with Praat's time axis."""
    from voice_coach.prosody import frame_times_s

    out = []
    for k in offsets:
        s = Scores()
        for r in recs:
            fr = frames_by_rec[r.name]
            t = frame_times_s(len(fr), sr=SR) + k * 0.01
            s.add(score(np.nan_to_num(fr.f0_hz), fr.voiced, praat_at(praat_by_rec[r.name], t)))
        f1 = 2 * s.precision * s.recall / (s.precision + s.recall)
        out.append((k, f1, s.gpe))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="Pitch accuracy vs Praat and speed vs Praat / librosa.")
    parser.add_argument("--pyin-s", type=float, default=20.0, help="seconds of audio to time librosa.pyin on (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per tracker (median; default 3)")
    args = parser.parse_args()

    import librosa
    from voice_coach.prosody import frame_times_s

    recs = recordings()
    total_s = sum(len(r.y) for r in recs) / SR
    print(f"{len(recs)} recordings, {total_s:.1f} s", file=sys.stderr)

    # ---- accuracy, per recording
    frames_by_rec, praat_by_rec = {}, {}
    per_group: dict[str, Scores] = {}
    per_rec: list[tuple[Rec, Scores]] = []
    yin_scores: dict[str, Scores] = {}
    for r in recs:
        fr = ours(r.y)
        p = praat(r.y)
        frames_by_rec[r.name], praat_by_rec[r.name] = fr, p
        t = frame_times_s(len(fr), sr=SR)
        s = score(np.nan_to_num(fr.f0_hz), fr.voiced, praat_at(p, t))
        per_rec.append((r, s))
        per_group.setdefault(r.group, Scores()).add(s)
        # librosa.yin has no voicing decision: scored on the frames Praat calls voiced.
        fy = librosa_yin(r.y)
        ty = librosa_times(len(fy))
        ref = praat_at(p, ty)
        yin_scores.setdefault(r.group, Scores()).add(score(fy, ref > 0, ref))

    real = Scores()
    for g in ("RAVDESS", "JFK (real)"):
        if g in per_group:
            real.add(per_group[g])

    # ---- speed, on all the audio concatenated
    everything = np.concatenate([r.y for r in recs])
    librosa.yin(everything[: SR], fmin=FMIN, fmax=FMAX, sr=SR, frame_length=YIN_FRAME, hop_length=HOP)  # numba warm-up
    librosa.pyin(everything[: SR], fmin=FMIN, fmax=FMAX, sr=SR, frame_length=YIN_FRAME, hop_length=HOP)
    ours(everything[: SR])
    praat(everything[: SR])
    pyin_y = everything[: int(args.pyin_s * SR)]
    speed = {}
    for label, fn, y in (("ours: `prosody.analyze_frames` (F0 + voicing + loudness)", ours, everything),
                         ("Praat `to_pitch_ac` (parselmouth)", praat, everything),
                         ("`librosa.yin`", librosa_yin, everything),
                         (f"`librosa.pyin` (first {len(pyin_y) / SR:.0f} s)", librosa_pyin, pyin_y)):
        times = []
        for _ in range(args.repeats if fn is not librosa_pyin else 1):
            with measure() as t:
                fn(y)
            times.append(t)
        speed[label] = (len(y) / SR, median(t.wall_s for t in times), median(t.cpu_s for t in times))
        print(f"  {label}: {speed[label][1]:.2f} s", file=sys.stderr)

    # pyin GPE on its subset, for context.
    fp = librosa_pyin(pyin_y)
    ref = praat_at(praat(pyin_y), librosa_times(len(fp)))
    pyin_s = score(np.nan_to_num(fp), np.isfinite(fp), ref)

    offsets = offset_scan(recs, frames_by_rec, praat_by_rec)

    # ---- report
    rep = Report("pitch", "Pitch: accuracy against Praat, speed against Praat and librosa", "python benchmarks/bench_pitch.py")
    have_ravdess = "RAVDESS" in per_group
    rep.target("Gross pitch error vs Praat, real speech (" + ("RAVDESS + JFK" if have_ravdess else "JFK only: RAVDESS absent") + ")",
               f"<= {GPE_TARGET:.0%}", pct(real.gpe, 2), real.gpe <= GPE_TARGET)
    ours_speed = speed[next(iter(speed))]
    rep.add(f"Audio: {len(recs)} recordings, {total_s:.1f} s in all"
            + ("" if have_ravdess else " (RAVDESS absent: `../shared/data/ravdess` not found, so real speech is JFK alone)")
            + f". Reference: Praat autocorrelation (`to_pitch_ac`, 10 ms step, 65-500 Hz), read at our frame times "
            f"(`frame_times_s`) from its nearest frame. Gross error: |f_ours/f_praat - 1| > {GROSS:.0%} on frames both "
            f"call voiced. Machine: {machine_summary()}; load average {load_average()}. "
            f"{versions('praat-parselmouth', 'librosa', 'numpy')}.\n")
    rows = []
    for g, s in per_group.items():
        rows.append((g, s.frames, s.both, pct(s.gpe, 2), pct(s.low / s.gross if s.gross else None, 0), fmt(np.median(s.cents) if s.cents else None, 1), pct(s.precision), pct(s.recall),
                     pct(yin_scores[g].gpe, 2)))
    rows.append(("**real speech (RAVDESS + JFK)**" if have_ravdess else "**real speech (JFK)**", real.frames, real.both, pct(real.gpe, 2),
                 pct(real.low / real.gross if real.gross else None, 0),
                 fmt(np.median(real.cents) if real.cents else None, 1), pct(real.precision), pct(real.recall), "-"))
    rep.add(md_table(["Recordings", "Frames", "Both voiced", "GPE (ours)", "Gross errors with ours lower", "Median |error| (cents, no gross)", "Voicing precision",
                      "Voicing recall", "GPE librosa.yin*"], rows))
    rep.add("*librosa.yin returns a pitch for every frame; it is scored on the frames Praat calls voiced. "
            f"librosa.pyin on its {len(pyin_y) / SR:.0f} s subset: GPE {pct(pyin_s.gpe, 2)}, voicing precision "
            f"{pct(pyin_s.precision)}, recall {pct(pyin_s.recall)}.\n")

    worst = sorted(per_rec, key=lambda rs: -(rs[1].gpe if rs[1].both else -1))[:8]
    rep.add("Recordings with the highest GPE:\n")
    rep.add(md_table(["Recording", "Group", "Both voiced", "GPE", "Voicing precision", "Voicing recall"],
                     [(r.name, r.group, s.both, pct(s.gpe, 1), pct(s.precision), pct(s.recall)) for r, s in worst]))
    if have_ravdess:
        actors: dict[str, Scores] = {}
        for r, s in per_rec:
            if r.group == "RAVDESS":
                actors.setdefault(r.name[-7:-5], Scores()).add(s)
        rep.add("RAVDESS per actor (01, 03 male; 02, 04 female):\n")
        rep.add(md_table(["Actor", "Both voiced", "GPE", "Voicing precision", "Voicing recall"],
                         [(a, s.both, pct(s.gpe, 2), pct(s.precision), pct(s.recall)) for a, s in sorted(actors.items())]))

    rows = []
    for label, (secs, wall, cpu) in speed.items():
        rows.append((label, fmt(secs, 1), fmt(wall, 3), fmt(cpu, 3), f"{secs / wall:.0f}x", f"{(secs / wall) / (ours_speed[0] / ours_speed[1]):.2f}"))
    rep.add(f"Speed on the same audio (median of {args.repeats} runs; pyin once):\n")
    rep.add(md_table(["Tracker", "Audio (s)", "Wall (s)", "CPU (s)", "x real time", "Relative to ours"], rows))
    rep.add("Time alignment check: voicing F1 and GPE (all recordings) when our frames are compared with Praat's "
            "`k` frames (10 ms) later. The best agreement at k = 0 means `frame_times_s` and Praat's time axis line up.\n")
    rep.add(md_table(["k (frames)", "Voicing F1", "GPE"], [(f"{k:+d}", pct(f1, 2), pct(g, 2)) for k, f1, g in offsets]))
    rep.write()


if __name__ == "__main__":
    main()
