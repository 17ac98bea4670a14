"""Benchmark: telling two voices apart in a mono recording (``voice_coach.voices.separate``).

    python benchmarks/bench_separation.py [--skip-hour] [--no-phone] [--skip-cost]

What it measures, all in one run (mixes from ``voice_mixes.py``; RAVDESS parts need ../shared/data):

1. **Attribution.** For every two-voice mix, the share of single-speaker speech time (10 ms frames
   where exactly one side is active) given to the right voice, the label permutation resolved by
   best match; unattributed time (voice -1, or outside every stretch) counts as wrong there and is
   also reported on its own. ``--speakers auto`` (the default) and ``2``. Figures are given for the
   mixes the settings were tuned on and for the held-out ones (actors 9-12, faster-whisper's clip).
2. **One voice.** ``auto`` must not split jfk, calm_then_rushed or any single-actor calm-then-angry
   stream (wideband and phone band).
3. **Agent naming.** The agent's voice print is ``make_voiceprint`` (voices/naming.py) of the agent
   actor's *other* calm sentences (statement 2, not in the mix); ``name_agent`` picks the voice whose
   centroid is nearer. Right when it is the voice holding most of the agent's speech.
4. **Cost.** A 10-minute mono call (``samples/call_stereo.wav`` mixed down, repeated): the time of
   ``separate`` against the time of ``analyze_file(..., speakers="1")`` (today's analysis of the
   same file, no separation), both measured in this run; and ``analyze_file(..., speakers="2")``
   end to end.
5. **Memory.** Peak RSS (``VmHWM``) of a child process that separates a generated 1-hour mono call.
6. **Encoder.** The largest difference from Resemblyzer's own embeddings, from
   ``benchmarks/check_ge2e.py`` (run in a venv with torch; quoted when its result is present).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import (  # noqa: E402
    RESULTS,
    SAMPLES,
    SR,
    Report,
    cache_dir,
    fmt,
    load_average,
    machine_summary,
    md_table,
    pct,
    write_wav,
)
from voice_mixes import Mix, all_mixes, score  # noqa: E402

from voice_coach.config import SeparationConfig  # noqa: E402
from voice_coach.voices.separate import separate  # noqa: E402

COMMAND = "python benchmarks/bench_separation.py"
ATTRIBUTION_TARGET = 0.90
NAMING_TARGET = 0.95
COST_TARGET = 0.30
MEMORY_TARGET_MIB = 1024.0
GE2E_ONLY = SeparationConfig(timbre_weight=0.0)


def run_mixes(mixes: list[Mix]) -> list[dict]:
    from voice_coach.voices.naming import make_voiceprint, name_agent

    rows = []
    for m in mixes:
        t0 = time.perf_counter()
        auto = separate(m.audio, speakers="auto")
        wall = time.perf_counter() - t0
        sa = score(m, auto)
        row = {
            "name": m.name,
            "group": m.group,
            "kind": m.kind,
            "voices": m.voices,
            "seconds": round(m.duration_s, 1),
            "single_s": round(sa.single_s, 1),
            "decided": auto.speakers,
            "decision_confidence": round(auto.decision_confidence, 3),
            "similarity": round(auto.similarity, 3) if np.isfinite(auto.similarity) else None,
            "right_auto": sa.right,
            "unattributed_auto": sa.unattributed,
            "separate_s": round(wall, 2),
        }
        if m.voices == 2:
            forced = separate(m.audio, speakers="2")
            sf = score(m, forced)
            row.update(right_2=sf.right, unattributed_2=sf.unattributed)
            # the reference in the same run: the embeddings alone (timbre_weight 0), as before MFCCs joined
            alone = separate(m.audio, speakers="auto", config=GE2E_ONLY)
            row.update(right_ge2e=score(m, alone).right, decided_ge2e=alone.speakers)
            if m.enrol:
                vp = make_voiceprint(np.concatenate(m.enrol), what=f"{m.name} enrolment")
                for key, sep, sc in (("auto", auto, sa), ("2", forced, sf)):
                    if sep.speakers != 2:
                        row[f"named_{key}"] = False
                        continue
                    choice = name_agent(sep, voiceprint=vp)
                    row[f"named_{key}"] = bool(choice.voice == sc.agent_voice)
                    row[f"naming_margin_{key}"] = round(float(choice.margin or 0.0), 3)
        rows.append(row)
        print(
            f"{m.name:28s} {m.group:8s} v{m.voices} -> {auto.speakers} sim {fmt(auto.similarity, 3)} "
            f"right {sa.right:.3f} unattr {sa.unattributed:.3f} "
            + (f"forced {row['right_2']:.3f} " if m.voices == 2 else "")
            + (f"named {row.get('named_auto')} " if "named_auto" in row else "")
            + f"({wall:.1f} s)",
            flush=True,
        )
    return rows


def pooled(rows: list[dict], key: str) -> float:
    """Time-weighted share over the mixes (every mix's single-speaker time counts)."""
    total = sum(r["single_s"] for r in rows)
    return sum(r[key] * r["single_s"] for r in rows) / total if total else float("nan")


# ------------------------------------------------------------------------------------------ cost
def ten_minute_call() -> Path:
    from voice_coach.sources.decode import load_audio

    path = cache_dir("separation") / "call_stereo_mono_10min.wav"
    if not path.exists():
        mono = load_audio(SAMPLES / "call_stereo.wav").sum(axis=0)
        reps = int(np.ceil(600 * SR / mono.size))
        write_wav(path, np.tile(mono, reps)[: 600 * SR] * 0.9)
    return path


def measure_cost() -> dict:
    from voice_coach.app.analyze import analyze_file
    from voice_coach.sources.decode import load_audio

    path = ten_minute_call()
    audio = load_audio(path)[0]
    out: dict = {"file": path.name, "seconds": audio.size / SR}
    t0 = time.perf_counter()
    analyze_file(path, speakers="1")
    out["analyze_1_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sep = separate(audio, speakers="auto")
    out["separate_s"] = time.perf_counter() - t0
    out["separate_decided"] = sep.speakers
    t0 = time.perf_counter()
    analyze_file(path, speakers="2")
    out["analyze_2_s"] = time.perf_counter() - t0
    print(json.dumps(out), flush=True)
    return out


HOUR_CHILD = r"""
import sys, time, json
import numpy as np
sys.path.insert(0, {root!r})
from voice_coach.sources.decode import load_audio
from voice_coach.voices.separate import separate

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
mono = load_audio({sample!r}).sum(axis=0).astype(np.float32)
reps = int(np.ceil(3600 * 16000 / mono.size))
audio = np.tile(mono, reps)[: 3600 * 16000]
del mono
before = hwm()
t0 = time.perf_counter()
sep = separate(audio)
print(json.dumps({{"audio_mib": audio.nbytes / 2**20, "hwm_before_mib": before, "hwm_mib": hwm(),
                  "separate_s": time.perf_counter() - t0, "speakers": sep.speakers,
                  "stretches": len(sep.stretches)}}))
"""


def measure_hour() -> dict:
    root = str(Path(__file__).resolve().parents[1])
    code = HOUR_CHILD.format(root=root, sample=str(SAMPLES / "call_stereo.wav"))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    print(json.dumps(out), flush=True)
    return out


# ------------------------------------------------------------------------------------------ report
def attribution_table(rows: list[dict]) -> str:
    two = [r for r in rows if r["voices"] == 2]
    return md_table(
        [
            "mix",
            "group",
            "what",
            "s",
            "auto decided",
            "centroid sim.",
            "right (auto)",
            "unattributed (auto)",
            "right (--speakers 2)",
            "right (auto, GE2E alone)",
            "agent named (voice print)",
            "separate s",
        ],
        [
            (
                r["name"],
                r["group"],
                r["kind"],
                fmt(r["seconds"], 0),
                f"{r['decided']} ({fmt(r['decision_confidence'], 2)})",
                fmt(r["similarity"], 3),
                pct(r["right_auto"]),
                pct(r["unattributed_auto"]),
                pct(r["right_2"]),
                pct(r["right_ge2e"]),
                {True: "right", False: "wrong", None: "-"}[r.get("named_auto")],
                fmt(r["separate_s"], 1),
            )
            for r in two
        ],
    )


def single_table(rows: list[dict]) -> str:
    one = [r for r in rows if r["voices"] == 1]
    return md_table(
        ["recording", "group", "what", "s", "auto decided", "decision confidence", "centroid sim. of the 2-way split"],
        [
            (
                r["name"],
                r["group"],
                r["kind"],
                fmt(r["seconds"], 0),
                r["decided"],
                fmt(r["decision_confidence"], 2),
                fmt(r["similarity"], 3),
            )
            for r in one
        ],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-hour", action="store_true", help="skip the 1-hour memory run")
    ap.add_argument("--skip-cost", action="store_true", help="skip the 10-minute cost run")
    ap.add_argument("--no-phone", action="store_true", help="leave out the phone-band variants")
    args = ap.parse_args()
    load_before = load_average()
    mixes = all_mixes(with_phone=not args.no_phone)
    rows = run_mixes(mixes)
    cost = None if args.skip_cost else measure_cost()
    hour = None if args.skip_hour else measure_hour()

    cmd = COMMAND + "".join(
        f" {flag}"
        for flag, on in (
            ("--skip-hour", args.skip_hour),
            ("--skip-cost", args.skip_cost),
            ("--no-phone", args.no_phone),
        )
        if on
    )
    rep = Report("separation", "Separation of two voices in a mono recording", cmd)
    two = [r for r in rows if r["voices"] == 2]
    one = [r for r in rows if r["voices"] == 1]
    groups = {g: [r for r in two if r["group"] == g] for g in ("tuned", "held-out")}
    for g, rs in groups.items():
        if rs:
            v = pooled(rs, "right_auto")
            rep.target(
                f"single-speaker time attributed right, {g} mixes (auto; {len(rs)} mixes)",
                f">= {ATTRIBUTION_TARGET:.0%}",
                f"{v:.1%} (unattributed {pooled(rs, 'unattributed_auto'):.1%}; worst mix {min(r['right_auto'] for r in rs):.1%})",
                v >= ATTRIBUTION_TARGET,
            )
    split = [r["name"] for r in one if r["decided"] != 1]
    rep.target(
        "auto never splits a one-voice recording",
        "0 split",
        f"{len(split)} of {len(one)} split" + (f" ({', '.join(split)})" if split else ""),
        not split,
    )
    named = [r for r in two if "named_auto" in r]
    if named:
        ok = sum(r["named_auto"] for r in named)
        rep.target(
            "agent named right with a voice print",
            f">= {NAMING_TARGET:.0%} of calls",
            f"{ok} of {len(named)} ({ok / len(named):.0%})",
            ok / len(named) >= NAMING_TARGET,
        )
    if cost:
        ratio = cost["separate_s"] / cost["analyze_1_s"]
        rep.target(
            "separation time vs analyze time, 10-minute mono call",
            f"<= {COST_TARGET:.0%}",
            f"{ratio:.0%} ({cost['separate_s']:.1f} s vs {cost['analyze_1_s']:.1f} s)",
            ratio <= COST_TARGET,
        )
    if hour:
        rep.target(
            "peak memory, separating a 1-hour mono call",
            f"< {MEMORY_TARGET_MIB:.0f} MiB",
            f"{hour['hwm_mib']:.0f} MiB (the audio alone: {hour['audio_mib']:.0f} MiB)",
            hour["hwm_mib"] < MEMORY_TARGET_MIB,
        )
    check = RESULTS / "ge2e_check.json"
    ge2e = json.loads(check.read_text()) if check.exists() else None

    rep.add(
        f"Machine: {machine_summary()}; load average before the run {load_before}, after {load_average()} "
        "(other work shared the 2 cores: times are comparable only within this run)."
    )
    cfg = SeparationConfig()
    rep.add(
        "Method (voice_coach/voices/separate.py): Silero VAD (shipped in faster-whisper) finds speech; "
        f"{cfg.window_s:g} s windows every {cfg.step_s:g} s inside each speech span (a shorter span is one "
        "window of its own audio repeated) are embedded by Resemblyzer's GE2E encoder run in numpy; spectral "
        "clustering of their cosine similarities (each window keeping its nearest 30 %) groups them in three "
        "styles, and the two styles least often present in the same ~10 s block of speech are joined into one "
        "voice (one person's calm and angry stretches follow each other; two people on a call alternate); each "
        "window goes to its nearest style. Once two voices are decided, the same clustering runs again on each "
        "window's embedding joined with its MFCC statistics (mean and standard deviation of MFCCs 1-19 of the "
        "encoder's 40-band mel spectrum over the window's frames within 30 dB of its loudest; each statistic "
        f"standardised over the recording, the block weighted {cfg.timbre_weight:g}: about as much as the embedding), "
        "and that grouping attributes the speech (the voices' centroids stay GE2E embeddings, for the voice "
        "print). For the attribution it also tries four styles (five when no joining of four qualifies) joined "
        "into two voices whose styles share at most a third of their blocks (one person's calm, then angry "
        "speech) while neither voice is silent longer than `max_voice_absence` (two people who both turn angry "
        "keep taking turns); of the joinings that qualify the most alike, unless another is within 0.05 "
        "(`separate.PAIRED_MARGIN`); otherwise the three styles stay. Per 10 ms frame the windows' scores are "
        "averaged and median-smoothed; "
        f"stretches shorter than {cfg.min_stretch_s:g} s or nearer both voices than {cfg.min_margin:g} are not "
        "attributed. `auto` decides two voices when either of two groupings passes its test: the plain two-way "
        f"split, when its halves' cosine similarity is below {cfg.two_voice_max_similarity:g}, the smaller holds "
        f"at least {cfg.min_voice_share:.0%} of the windows and both speak in at least {cfg.min_copresence:.0%} of "
        "the ~10 s blocks of speech; or the two voices joined from the three styles, when they are as different "
        "and as large, and neither is silent for more than "
        f"{cfg.max_voice_absence:.1%} of the speech in a row (`max_voice_absence`: people on a call keep taking "
        "turns, while one person's angry style fills only part of the recording; the one-voice recordings of the "
        "tuned group reached 15 % at least, two-voice calls mostly 3-16 %); the last test is run on the grouping "
        "of the embeddings and on that of the embeddings joined with the MFCC statistics."
    )
    rep.add(
        "Mixes (benchmarks/voice_mixes.py): two-channel recordings summed to mono; RAVDESS turn-taking calls "
        "(agent: neutral and calm sentences of statement 1; customer: neutral and calm, then angry); "
        "phone-band variants (8 kHz, 300-3400 Hz, mu-law, each side before the mix). Customer turns hold 1-3 "
        "sentences; the agent's 6 sentences are reused as other takes (resampled by 4 %). Truth: each side's "
        "activity per 10 ms (20 ms frames within 35 dB of the loudest frame of that sentence, or of the channel for "
        "the two-channel recordings). Settings were chosen on actors 1-8 (`tuned`); "
        "actors 9-12 and the faster-whisper clip were not looked at while choosing them (`held-out`)."
    )
    rep.add("### Two voices\n")
    rep.add(attribution_table(rows))
    for g, rs in groups.items():
        if rs:
            rep.add(
                f"- {g}: right {pooled(rs, 'right_auto'):.1%} with auto, {pooled(rs, 'right_2'):.1%} with "
                f"`--speakers 2`, {pooled(rs, 'right_ge2e'):.1%} with auto on GE2E alone (`timbre_weight = 0`, "
                f"two voices in {sum(r['decided_ge2e'] == 2 for r in rs)} of {len(rs)}); unattributed {pooled(rs, 'unattributed_auto'):.1%}; auto decided two voices in "
                f"{sum(r['decided'] == 2 for r in rs)} of {len(rs)}."
            )
    band_rows = []
    for g in ("tuned", "held-out"):
        for band, phone in (("wideband", False), ("phone band", True)):
            rs = [r for r in groups[g] if r["name"].endswith("-phone") == phone]
            if rs:
                band_rows.append(
                    (
                        g,
                        band,
                        len(rs),
                        pct(pooled(rs, "right_auto")),
                        pct(pooled(rs, "right_2")),
                        pct(pooled(rs, "right_ge2e")),
                        pct(pooled(rs, "unattributed_auto")),
                        f"{sum(r['decided'] == 2 for r in rs)} of {len(rs)}",
                    )
                )
    rep.add(
        "\n"
        + md_table(
            [
                "group",
                "band",
                "mixes",
                "right (auto)",
                "right (--speakers 2)",
                "right (auto, GE2E alone)",
                "unattributed (auto)",
                "auto: two voices",
            ],
            band_rows,
        )
    )
    rep.add("\n### One voice\n")
    rep.add(single_table(rows))
    if named:
        forced_ok = sum(bool(r.get("named_2")) for r in named)
        rep.add(
            f"\nAgent naming with a voice print: right in {sum(r['named_auto'] for r in named)} of {len(named)} calls "
            f"with auto ({forced_ok} of {len(named)} with `--speakers 2`); the voice print is made from the agent "
            "actor's statement-2 calm and neutral sentences (not in the mix), with `voices.naming.make_voiceprint` "
            "and `name_agent`."
        )
    if cost:
        rep.add(
            f"\nCost, {cost['seconds'] / 60:.0f}-minute mono call ({cost['file']}, benchmarks/.cache): `analyze_file("
            f"speakers='1')` {cost['analyze_1_s']:.1f} s; `separate()` {cost['separate_s']:.1f} s "
            f"({cost['separate_s'] / cost['analyze_1_s']:.0%} of it); `analyze_file(speakers='2')` end to end "
            f"{cost['analyze_2_s']:.1f} s (separation plus the analysis and transcription of a second voice)."
        )
    if hour:
        rep.add(
            f"\nMemory, 1-hour mono call in a child process: peak RSS {hour['hwm_mib']:.0f} MiB, of which the "
            f"audio array is {hour['audio_mib']:.0f} MiB (peak before separating: {hour['hwm_before_mib']:.0f} MiB); "
            f"separation took {hour['separate_s']:.0f} s."
        )
    if ge2e:
        rep.add(
            f"\nEncoder: the numpy GE2E encoder against Resemblyzer 0.1.4 with torch on {len(ge2e['clips'])} "
            f"embeddings (utterances and 1.6 s windows of real speech): largest absolute difference of any "
            f"component {ge2e['max_abs_diff']:.1e} (`/tmp/rzvenv/bin/python benchmarks/check_ge2e.py`)."
        )
    rep.add(
        "\nWhat limits it: GE2E was trained on wideband speech. In the phone band two calm same-gender voices "
        "come out nearly as similar as one voice (cosine 0.93-0.99 between the agent's and the calm customer's "
        "centroids on ravdess05-07, 02-04, 09-11 and 11-09 in the phone band, against 0.67-0.86 between the "
        "customer's own calm and angry speech): with GE2E alone even centroids taken from the truth (agent, "
        "calm customer, angry customer) attribute only 76-85 % on 05-07, 09-11 and 11-09 there, and median "
        "pitch is no help on most of them (agent vs calm customer 111 vs 116 Hz, 211 vs 220 Hz, 103 vs 97 Hz "
        "on 05-07, 02-04 and 11-09). The windows' MFCC statistics still tell those voices apart (the same "
        "truth centroids on the joined features: 98-100 %), hence the second clustering; they describe the "
        "channel as well as the voice, which on a real call (agent headset, customer's line) helps rather "
        "than hurts. The one-or-two decision is what still fails: where neither grouping shows two voices "
        "taking turns all through (the voices joined from three styles are silent for 14-17 % of the speech "
        "in a row on ravdess02-04, 09-11 and 11-09 in the phone band, as long as on some one-voice "
        "recordings, 15-17 %), `auto` keeps one voice, and every voice-print naming miss is such a call. A "
        "voice print does not settle the decision: one person's angry speech is as far from their calm voice "
        "print (cosine 0.54-0.81 on the one-actor recordings) as another person's voice often is (0.45-0.85), "
        "so 'one voice near the print, the other far' would split recordings of an agent alone who turns "
        "angry. The one-voice rule errs the other way on purpose: no one-voice recording was split."
    )
    cache = cache_dir("separation") / "rows.json"
    cache.write_text(json.dumps({"rows": rows, "cost": cost, "hour": hour}, indent=1))
    rep.write()


if __name__ == "__main__":
    main()
