"""Pitch tracking: accuracy of ``voice_coach.signal.prosody`` against Praat on wideband and on simulated
phone speech, and speed against Praat and librosa, in one run.

    python benchmarks/bench_pitch.py [--pyin-s 20] [--sweep 0.30,0.35,0.40,0.45]

Recordings: every RAVDESS clip in ``../shared/data/ravdess`` (real actors, when present),
``samples/jfk.flac`` (real speech, channel 0) and ``samples/calm_then_rushed.wav`` (espeak-ng:
synthetic, reported apart because a synthetic voice is an easy case).

Phone speech: we have no real calls, so each recording is also passed through a narrowband phone
channel (``common.phone_channel``: 8 kHz, 300-3400 Hz, G.711 mu-law, by sox) and decoded back to
16 kHz by the package's own decoder, as a phone recording would be. The 300 Hz high-pass removes
the fundamental of every voice below it (that is, nearly all speech).

Reference: Praat's autocorrelation pitch through parselmouth,
``Sound.to_pitch_ac(time_step=0.01, pitch_floor=65, pitch_ceiling=500)`` (the same range as
``ProsodyConfig``), read at our frame times (``voice_coach.signal.prosody.frame_times_s``) from Praat's
nearest frame; Praat's unvoiced frames (0 Hz) are unvoiced. Praat runs on the same audio as ours:
on the phone version for the phone figures (all one can do with a real call, where no wideband
original exists). Because Praat also errs on phone audio, the phone figures are given a second
time against Praat on the wideband original (the best truth we have), next to Praat's own.

* **Gross pitch error** (GPE): the share of frames both call voiced where
  ``|f_ours / f_praat - 1| > 20 %``. **Targets: <= 5 %** on wideband real speech (RAVDESS + JFK),
  **<= 3 %** on the phone versions of the same recordings (against Praat on the phone version).
* **Voicing agreement**: the share of *all* frames on which ours and Praat make the same
  voiced/unvoiced decision (1 - the voicing decision error of Nakatani et al. 2008). **Target:
  >= 85 %** on phone real speech. Because the clips have silence around the speech, which is easy
  to agree on, the same share is also given over *speech frames* only (frames within 35 dB of the
  recording's loudest frame, measured on the wideband original), with precision (share of our
  voiced frames that Praat calls voiced) and recall (share of Praat's voiced frames that we call
  voiced).
* **Held out**: the pitch-tracking and voicing settings were chosen with RAVDESS actors 01-08 only
  (``--sweep`` prints the voicing-threshold table); actors 09-12 and JFK are held out, and both
  sets are reported.
* **Speed** in x real time on all of the (wideband) audio above: ours (``analyze_frames``, which
  also computes loudness and voicing), Praat, ``librosa.yin``, and ``librosa.pyin`` on the first
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
    SAMPLES,
    SR,
    Report,
    cache_dir,
    fmt,
    load_average,
    load_mono,
    machine_summary,
    md_table,
    measure,
    median,
    pct,
    phone_channel,
    ravdess_clips,
    shared_data,
    versions,
)

GPE_TARGET = 0.05
PHONE_GPE_TARGET = 0.03
PHONE_AGREE_TARGET = 0.85
GROSS = 0.20
FMIN, FMAX = 65.0, 500.0
HOP = 160  # 10 ms, as ProsodyConfig.hop_ms
YIN_FRAME = 1024  # librosa: 64 ms frames, 32 ms integration window; enough for 65 Hz
SPEECH_RANGE_DB = 35.0
TUNING_ACTORS = range(1, 9)  # voicing was tuned on these; 09-12 and JFK are held out


@dataclass
class Rec:
    name: str
    group: str  # "RAVDESS", "JFK (real)", "espeak-ng (synthetic)"
    y: np.ndarray
    held_out: bool  # not used to choose the voicing threshold
    phone: np.ndarray | None = None
    speech: np.ndarray | None = None  # per frame: within SPEECH_RANGE_DB of the loudest (wideband)

    @property
    def real(self) -> bool:
        return self.group != "espeak-ng (synthetic)"


@dataclass
class Scores:
    both: int = 0  # frames both voiced
    gross: int = 0
    low: int = 0  # gross errors where ours is below Praat (ours an octave down, or Praat up)
    ours_v: int = 0
    praat_v: int = 0
    agree_v: int = 0
    frames: int = 0
    same: int = 0  # frames with the same voiced/unvoiced decision
    speech: int = 0  # speech frames
    speech_same: int = 0  # speech frames with the same decision
    cents: list = None  # |error| in cents on frames without gross error

    def __post_init__(self):
        self.cents = [] if self.cents is None else self.cents

    def add(self, other: Scores) -> None:
        for k in ("both", "gross", "low", "ours_v", "praat_v", "agree_v", "frames", "same", "speech", "speech_same"):
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

    @property
    def agreement(self) -> float:
        return self.same / self.frames if self.frames else float("nan")

    @property
    def speech_agreement(self) -> float:
        return self.speech_same / self.speech if self.speech else float("nan")


def recordings() -> list[Rec]:
    recs = []
    folder = shared_data("ravdess", what="RAVDESS clips for real-voice pitch accuracy")
    for clip in ravdess_clips(folder) if folder else []:
        recs.append(Rec(clip.path.name, "RAVDESS", load_mono(clip.path), held_out=clip.actor not in TUNING_ACTORS))
    recs.append(Rec("jfk.flac", "JFK (real)", load_mono(SAMPLES / "jfk.flac", channel=0), held_out=True))
    recs.append(
        Rec("calm_then_rushed.wav", "espeak-ng (synthetic)", load_mono(SAMPLES / "calm_then_rushed.wav"), held_out=True)
    )
    phone_dir = cache_dir("phone")
    for r in recs:
        r.phone = phone_channel(r.y, phone_dir / (Path(r.name).stem + ".wav"))
        level = ours(r.y).loudness_db
        r.speech = level > level.max() - SPEECH_RANGE_DB
    return recs


# --------------------------------------------------------------------------- trackers
def ours(y: np.ndarray, config=None):
    from voice_coach.config import ProsodyConfig
    from voice_coach.signal.prosody import analyze_frames

    return analyze_frames(y, sr=SR, config=config or ProsodyConfig())


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
def score(f_ours: np.ndarray, voiced: np.ndarray, f_ref: np.ndarray, speech: np.ndarray | None = None) -> Scores:
    ref_v = f_ref > 0
    both = voiced & ref_v
    ratio = f_ours[both] / f_ref[both]
    gross = np.abs(ratio - 1) > GROSS
    cents = np.abs(1200 * np.log2(ratio[~gross]))
    same = voiced == ref_v
    speech = np.ones(len(voiced), bool) if speech is None else speech[: len(voiced)]
    return Scores(
        both=int(both.sum()),
        gross=int(gross.sum()),
        low=int((gross & (ratio < 1)).sum()),
        ours_v=int(voiced.sum()),
        praat_v=int(ref_v.sum()),
        agree_v=int(both.sum()),
        frames=len(voiced),
        same=int(same.sum()),
        speech=int(speech.sum()),
        speech_same=int((same & speech).sum()),
        cents=cents.tolist(),
    )


def score_frames(fr, ref_pitch, speech, *, shift_frames: int = 0) -> Scores:
    from voice_coach.signal.prosody import frame_times_s

    t = frame_times_s(len(fr), sr=SR) + shift_frames * 0.01
    return score(np.nan_to_num(fr.f0_hz), fr.voiced, praat_at(ref_pitch, t), speech)


def offset_scan(
    recs: list[Rec], frames_by_rec: dict, praat_by_rec: dict, offsets=range(-3, 4)
) -> list[tuple[int, float, float]]:
    """Voicing agreement (F1) and GPE when our frames are read ``k`` frames later in Praat's
    track: shows whether ``frame_times_s`` lines up with Praat's time axis."""
    out = []
    for k in offsets:
        s = Scores()
        for r in recs:
            s.add(score_frames(frames_by_rec[r.name], praat_by_rec[r.name], r.speech, shift_frames=k))
        f1 = 2 * s.precision * s.recall / (s.precision + s.recall)
        out.append((k, f1, s.gpe))
    return out


def split_scores(recs: list[Rec], per_rec: dict[str, Scores]) -> dict[str, Scores]:
    """Scores summed over: all real speech, the tuning actors, the held-out real speech."""
    out = {"all real": Scores(), "tuning (RAVDESS 01-08)": Scores(), "held out (RAVDESS 09-12 + JFK)": Scores()}
    for r in recs:
        if not r.real:
            continue
        out["all real"].add(per_rec[r.name])
        out["held out (RAVDESS 09-12 + JFK)" if r.held_out else "tuning (RAVDESS 01-08)"].add(per_rec[r.name])
    return out


def sweep(recs: list[Rec], praat_wb: dict, praat_ph: dict, thresholds: list[float]) -> str:
    """The table ``voicing_max_aperiodicity`` was chosen from: agreement, precision, recall and
    GPE for each threshold, phone and wideband, tuning actors and held-out speech apart."""
    from dataclasses import replace

    from voice_coach.config import ProsodyConfig

    rows = []
    for thr in thresholds:
        cfg = replace(ProsodyConfig(), voicing_max_aperiodicity=thr)
        for cond in ("phone", "wideband"):
            ref = praat_ph if cond == "phone" else praat_wb
            per = {
                r.name: score_frames(ours(r.phone if cond == "phone" else r.y, cfg), ref[r.name], r.speech)
                for r in recs
                if r.real
            }
            for label, s in split_scores(recs, per).items():
                if label == "all real":
                    continue
                rows.append(
                    (
                        f"{thr:.2f}",
                        cond,
                        label,
                        pct(s.agreement),
                        pct(s.speech_agreement),
                        pct(s.precision),
                        pct(s.recall),
                        pct(s.gpe, 2),
                    )
                )
        print(f"  sweep {thr:.2f} done", file=sys.stderr)
    return md_table(
        [
            "voicing_max_aperiodicity",
            "Audio",
            "Speech",
            "Agreement (all frames)",
            "Agreement (speech frames)",
            "Precision",
            "Recall",
            "GPE",
        ],
        rows,
    )


def condition_table(recs: list[Rec], per_rec: dict[str, Scores], yin_by_group: dict[str, Scores] | None) -> str:
    groups: dict[str, Scores] = {}
    for r in recs:
        groups.setdefault(r.group, Scores()).add(per_rec[r.name])
    rows = []

    def row(label, s, yin="-"):
        return (
            label,
            s.frames,
            s.both,
            pct(s.gpe, 2),
            pct(s.low / s.gross if s.gross else None, 0),
            fmt(np.median(s.cents) if s.cents else None, 1),
            pct(s.agreement),
            pct(s.speech_agreement),
            pct(s.precision),
            pct(s.recall),
            yin,
        )

    for g, s in groups.items():
        rows.append(row(g, s, pct(yin_by_group[g].gpe, 2) if yin_by_group else "-"))
    for label, s in split_scores(recs, per_rec).items():
        rows.append(row(f"**{label}**", s))
    headers = [
        "Recordings",
        "Frames",
        "Both voiced",
        "GPE (ours)",
        "Gross errors with ours lower",
        "Median |error| (cents, no gross)",
        "Voicing agreement (all frames)",
        "Voicing agreement (speech frames)",
        "Voicing precision",
        "Voicing recall",
    ]
    return md_table(
        headers + (["GPE librosa.yin*"] if yin_by_group else []), [r if yin_by_group else r[:-1] for r in rows]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Pitch accuracy vs Praat (wideband and phone) and speed vs Praat / librosa."
    )
    parser.add_argument(
        "--pyin-s", type=float, default=20.0, help="seconds of audio to time librosa.pyin on (default 20)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per tracker (median; default 3)")
    parser.add_argument(
        "--sweep", default="", help="comma-separated voicing_max_aperiodicity values to tabulate (tuning aid)"
    )
    parser.add_argument("--no-speed", action="store_true", help="skip the speed comparison (accuracy only)")
    args = parser.parse_args()

    import librosa

    from voice_coach.config import ProsodyConfig
    from voice_coach.signal.prosody import frame_times_s

    recs = recordings()
    total_s = sum(len(r.y) for r in recs) / SR
    print(f"{len(recs)} recordings, {total_s:.1f} s", file=sys.stderr)

    # ---- accuracy, per recording: ours on wideband and on phone audio, Praat (wideband) as reference
    wb_frames, ph_frames, praat_by_rec, praat_ph_by_rec = {}, {}, {}, {}
    wb, ph, ph_truth, praat_ph = {}, {}, {}, {}
    yin_scores: dict[str, Scores] = {}
    for r in recs:
        p, pp = praat(r.y), praat(r.phone)
        praat_by_rec[r.name], praat_ph_by_rec[r.name] = p, pp
        wb_frames[r.name], ph_frames[r.name] = ours(r.y), ours(r.phone)
        wb[r.name] = score_frames(wb_frames[r.name], p, r.speech)
        ph[r.name] = score_frames(ph_frames[r.name], pp, r.speech)
        ph_truth[r.name] = score_frames(ph_frames[r.name], p, r.speech)
        # Praat on the phone audio, scored like ours against Praat on the wideband original.
        t = frame_times_s(len(wb_frames[r.name]), sr=SR)
        fpp = praat_at(pp, t)
        praat_ph[r.name] = score(fpp, fpp > 0, praat_at(p, t), r.speech)
        # librosa.yin has no voicing decision: scored on the frames Praat calls voiced.
        fy = librosa_yin(r.y)
        ty = librosa_times(len(fy))
        ref = praat_at(p, ty)
        yin_scores.setdefault(r.group, Scores()).add(score(fy, ref > 0, ref))

    real_wb = split_scores(recs, wb)["all real"]
    real_ph = split_scores(recs, ph)["all real"]
    real_ph_truth = split_scores(recs, ph_truth)["all real"]
    real_praat_ph = split_scores(recs, praat_ph)["all real"]
    have_ravdess = any(r.group == "RAVDESS" for r in recs)
    real_label = "RAVDESS + JFK" if have_ravdess else "JFK only: RAVDESS absent"

    rep = Report(
        "pitch",
        "Pitch: accuracy against Praat (wideband and phone), speed against Praat and librosa",
        "python benchmarks/bench_pitch.py",
    )
    rep.target(
        f"Gross pitch error vs Praat, real speech ({real_label}), wideband",
        f"<= {GPE_TARGET:.0%}",
        pct(real_wb.gpe, 2),
        real_wb.gpe <= GPE_TARGET,
    )
    phone = "phone (8 kHz, 300-3400 Hz, mu-law; Praat on the same phone audio)"
    rep.target(
        f"Gross pitch error vs Praat, real speech ({real_label}), {phone}",
        f"<= {PHONE_GPE_TARGET:.0%}",
        pct(real_ph.gpe, 2),
        real_ph.gpe <= PHONE_GPE_TARGET,
    )
    rep.target(
        "Voicing agreement with Praat (share of all frames with the same voiced/unvoiced decision), "
        f"real speech ({real_label}), phone",
        f">= {PHONE_AGREE_TARGET:.0%}",
        f"{pct(real_ph.agreement)} (speech frames only: {pct(real_ph.speech_agreement)}; "
        f"precision {pct(real_ph.precision)}, recall {pct(real_ph.recall)})",
        real_ph.agreement >= PHONE_AGREE_TARGET,
    )
    cfg = ProsodyConfig()
    absent = " (RAVDESS absent: `../shared/data/ravdess` not found, so real speech is JFK alone)"
    rep.add(
        f"Audio: {len(recs)} recordings, {total_s:.1f} s in all"
        + ("" if have_ravdess else absent)
        + ". Reference: Praat autocorrelation (`to_pitch_ac`, 10 ms step, 65-500 Hz) on the same audio as ours, "
        "read at our frame times (`frame_times_s`) from its nearest frame. "
        f"Gross error: |f_ours/f_praat - 1| > {GROSS:.0%} on frames both call voiced. "
        "Voicing agreement: share of frames on which both make the same voiced/unvoiced decision, over all frames, "
        f"and over speech frames (within {SPEECH_RANGE_DB:.0f} dB of the recording's loudest frame). "
        "Phone: each recording through `sox -D in.wav -r 8000 -e mu-law -b 8 out.wav sinc 300-3400`, "
        "decoded back to 16 kHz by `voice_coach.sources.decode`. "
        f"Settings: `voicing_max_aperiodicity` = {cfg.voicing_max_aperiodicity}, "
        f"`yin_threshold` = {cfg.yin_threshold}, "
        f"`octave_jump_cost` = {cfg.octave_jump_cost}, `octave_cost` = {cfg.octave_cost}, "
        f"`pitch_lookahead_ms` = {cfg.pitch_lookahead_ms:g}. "
        f"Machine: {machine_summary()}; load average {load_average()}. "
        f"{versions('praat-parselmouth', 'librosa', 'numpy')}.\n"
    )
    rep.add("**Phone speech** (ours on the phone audio against Praat on the same phone audio):\n")
    rep.add(condition_table(recs, ph, None))
    rep.add(
        "**Phone speech against the wideband truth** "
        "(ours on the phone audio against Praat on the wideband original):\n"
    )
    rep.add(condition_table(recs, ph_truth, None))
    rep.add(
        "For comparison, Praat on the phone audio against Praat on the wideband original, real speech: "
        f"GPE {pct(real_praat_ph.gpe, 2)} (ours: {pct(real_ph_truth.gpe, 2)}), "
        f"voicing agreement {pct(real_praat_ph.agreement)} (speech frames {pct(real_praat_ph.speech_agreement)}), "
        f"precision {pct(real_praat_ph.precision)}, recall {pct(real_praat_ph.recall)}. "
        "The phone channel costs Praat too.\n"
    )
    rep.add("**Wideband speech** (16 kHz originals):\n")
    rep.add(condition_table(recs, wb, yin_scores))

    # ---- speed, on all the audio concatenated
    if not args.no_speed:
        everything = np.concatenate([r.y for r in recs])
        librosa.yin(
            everything[:SR], fmin=FMIN, fmax=FMAX, sr=SR, frame_length=YIN_FRAME, hop_length=HOP
        )  # numba warm-up
        librosa.pyin(everything[:SR], fmin=FMIN, fmax=FMAX, sr=SR, frame_length=YIN_FRAME, hop_length=HOP)
        ours(everything[:SR])
        praat(everything[:SR])
        pyin_y = everything[: int(args.pyin_s * SR)]
        speed = {}
        for label, fn, y in (
            ("ours: `prosody.analyze_frames` (F0 + voicing + loudness)", ours, everything),
            ("Praat `to_pitch_ac` (parselmouth)", praat, everything),
            ("`librosa.yin`", librosa_yin, everything),
            (f"`librosa.pyin` (first {len(pyin_y) / SR:.0f} s)", librosa_pyin, pyin_y),
        ):
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
        rep.add(
            "*librosa.yin returns a pitch for every frame; it is scored on the frames Praat calls voiced. "
            f"librosa.pyin on its {len(pyin_y) / SR:.0f} s subset: GPE {pct(pyin_s.gpe, 2)}, voicing precision "
            f"{pct(pyin_s.precision)}, recall {pct(pyin_s.recall)}.\n"
        )

    worst = sorted(((r, ph[r.name]) for r in recs), key=lambda rs: -(rs[1].gpe if rs[1].both else -1))[:8]
    rep.add("Recordings with the highest GPE on phone audio:\n")
    rep.add(
        md_table(
            [
                "Recording",
                "Group",
                "Both voiced",
                "GPE phone",
                "GPE wideband",
                "Agreement phone",
                "Precision phone",
                "Recall phone",
            ],
            [
                (
                    r.name,
                    r.group,
                    s.both,
                    pct(s.gpe, 1),
                    pct(wb[r.name].gpe, 1),
                    pct(s.agreement),
                    pct(s.precision),
                    pct(s.recall),
                )
                for r, s in worst
            ],
        )
    )
    if have_ravdess:
        actors: dict[str, tuple[Scores, Scores]] = {}
        for r in recs:
            if r.group == "RAVDESS":
                a = actors.setdefault(r.name[-7:-5], (Scores(), Scores()))
                a[0].add(ph[r.name])
                a[1].add(wb[r.name])
        rep.add("RAVDESS per actor (odd numbers male, even female; 01-08 tuning, 09-12 held out):\n")
        rep.add(
            md_table(
                [
                    "Actor",
                    "Both voiced (phone)",
                    "GPE phone",
                    "Agreement phone",
                    "Precision phone",
                    "Recall phone",
                    "GPE wideband",
                    "Agreement wideband",
                ],
                [
                    (
                        a,
                        p.both,
                        pct(p.gpe, 2),
                        pct(p.agreement),
                        pct(p.precision),
                        pct(p.recall),
                        pct(w.gpe, 2),
                        pct(w.agreement),
                    )
                    for a, (p, w) in sorted(actors.items())
                ],
            )
        )

    if not args.no_speed:
        ours_speed = speed[next(iter(speed))]
        rows = []
        for label, (secs, wall, cpu) in speed.items():
            rows.append(
                (
                    label,
                    fmt(secs, 1),
                    fmt(wall, 3),
                    fmt(cpu, 3),
                    f"{secs / wall:.0f}x",
                    f"{(secs / wall) / (ours_speed[0] / ours_speed[1]):.2f}",
                )
            )
        rep.add(f"Speed on the wideband audio (median of {args.repeats} runs; pyin once):\n")
        rep.add(md_table(["Tracker", "Audio (s)", "Wall (s)", "CPU (s)", "x real time", "Relative to ours"], rows))
    rep.add(
        "Time alignment check: voicing F1 and GPE (all recordings) when our frames are compared with Praat's "
        "`k` frames (10 ms) later. The best agreement at k = 0 means `frame_times_s` and Praat's time axis line up "
        "(and that the phone channel adds no delay).\n"
    )
    off_wb = offset_scan(recs, wb_frames, praat_by_rec)
    off_ph = offset_scan(recs, ph_frames, praat_ph_by_rec)
    rep.add(
        md_table(
            ["k (frames)", "Voicing F1 wideband", "GPE wideband", "Voicing F1 phone", "GPE phone"],
            [
                (f"{k:+d}", pct(f1, 2), pct(g, 2), pct(f1p, 2), pct(gp, 2))
                for (k, f1, g), (_, f1p, gp) in zip(off_wb, off_ph, strict=True)
            ],
        )
    )
    if args.sweep:
        thresholds = [float(x) for x in args.sweep.split(",") if x.strip()]
        rep.add(
            "Voicing threshold sweep (`--sweep`): the table `voicing_max_aperiodicity` was chosen from. "
            "Only the tuning actors were looked at to choose; the held-out rows show whether the choice carries over.\n"
        )
        rep.add(sweep(recs, praat_by_rec, praat_ph_by_rec, thresholds))
    rep.write()


if __name__ == "__main__":
    main()
