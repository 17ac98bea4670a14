"""Calm vs angry on real voices (RAVDESS): with the actor's profile, does the agitation score rank
every angry clip above every calm one?

    python benchmarks/bench_ravdess.py

Needs ``../shared/data/ravdess`` (RAVDESS actors 01-12, neutral, calm and angry clips); without
it the benchmark writes a fragment saying so and checks nothing.

Ranking with a profile. Per actor, a profile is calibrated on the actor's 4 neutral clips
(``voice_coach.app.calibrate.calibrate_files``, as ``voice-coach calibrate`` does); every calm and every
angry clip of that actor is then scored with ``analyze_file(clip, profile=..., transcribe=False)``,
the clip's score being ``agent.summary.agitation_mean``. For every same-actor (calm, angry) pair the
angry clip must score higher; a clip whose score is None loses all its pairs (and is listed).
**Target: >= 98 % of pairs**, overall. An actor whose 4 neutral clips cannot be calibrated counts as
failed. Warnings without a profile are measured by ``bench_warnings.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    Report,
    fmt,
    machine_summary,
    md_table,
    pct,
    ravdess_clips,
    shared_data,
)

PAIR_TARGET = 0.98
COMMAND = "python benchmarks/bench_ravdess.py"


def part1(clips, rep: Report) -> list[tuple]:
    """Adds part 1 to ``rep``; returns the per-clip score rows."""
    from voice_coach.app.analyze import analyze_file
    from voice_coach.app.calibrate import calibrate_files

    actors = sorted({c.actor for c in clips})
    from voice_coach.errors import AudioError

    rows, pair_rows, none_clips, int_rows, clip_rows, fallbacks = [], [], [], [], [], []
    signed: dict[str, list] = {"loudness": [0, 0], "pitch": [0, 0]}  # summary deviations, signed: wins, pairs
    misses = []
    total_win = total_pairs = 0
    per_actor_ok = []
    for actor in actors:
        mine = [c for c in clips if c.actor == actor]
        neutral = [c.path for c in mine if c.emotion == "neutral"]
        try:
            profile = calibrate_files(neutral)
            how = f"4 neutral clips ({profile.speech_s:.1f} s voiced)"
        except AudioError as exc:
            fallbacks.append(f"actor {actor:02d}: `{str(exc).split(': ')[-1]}`")
            per_actor_ok.append(False)
            continue
        scores, deviation = {}, {}
        for c in mine:
            if c.emotion in ("calm", "angry"):
                s = analyze_file(c.path, profile=profile, transcribe=False)["agent"]["summary"]
                scores[c] = s["agitation_mean"]
                deviation[c] = {"loudness": s["loudness_vs_baseline_db"], "pitch": s["pitch_vs_baseline_st"]}
                if s["agitation_mean"] is None:
                    none_clips.append(c.path.name)
        calm = [c for c in scores if c.emotion == "calm"]
        angry = [c for c in scores if c.emotion == "angry"]
        win = sum(
            1 for a in angry for c in calm if scores[a] is not None and scores[c] is not None and scores[a] > scores[c]
        )
        n = len(calm) * len(angry)
        for key, tally in signed.items():
            tally[0] += sum(
                1
                for a in angry
                for c in calm
                if deviation[a][key] is not None
                and deviation[c][key] is not None
                and deviation[a][key] > deviation[c][key]
            )
            tally[1] += n
        for a in angry:
            lost = sum(
                1 for c in calm if not (scores[a] is not None and scores[c] is not None and scores[a] > scores[c])
            )
            if lost:
                misses.append((a, scores[a], lost, len(calm), deviation[a]["loudness"], deviation[a]["pitch"]))
        total_win += win
        total_pairs += n
        share = win / n if n else float("nan")
        per_actor_ok.append(share >= PAIR_TARGET)
        cs = [scores[c] for c in calm if scores[c] is not None]
        as_ = [scores[a] for a in angry if scores[a] is not None]
        rows.append(
            (
                f"{actor:02d} ({'male' if actor % 2 else 'female'})",
                how,
                fmt(profile.pitch_median_hz, 0),
                fmt(profile.loudness_median_db, 1),
                fmt(profile.articulation_rate_sps, 2),
                fmt(profile.speech_s, 1),
            )
        )
        pair_rows.append(
            (
                f"{actor:02d}",
                len(calm),
                len(angry),
                fmt(np.mean(cs) if cs else None, 3),
                fmt(max(cs) if cs else None, 3),
                fmt(min(as_) if as_ else None, 3),
                fmt(np.mean(as_) if as_ else None, 3),
                f"{win}/{n}",
                pct(share),
                "✓" if share >= PAIR_TARGET else "✗",
            )
        )
        for inten in (1, 2):
            sub = [a for a in angry if a.intensity == inten]
            w = sum(
                1
                for a in sub
                for c in calm
                if scores[a] is not None and scores[c] is not None and scores[a] > scores[c]
            )
            int_rows.append(
                (
                    f"{actor:02d}",
                    "normal" if inten == 1 else "strong",
                    fmt(np.mean([scores[a] for a in sub if scores[a] is not None]), 3),
                    f"{w}/{len(sub) * len(calm)}",
                )
            )
        clip_rows += [
            (c.path.name, c.emotion, "normal" if c.intensity == 1 else "strong", fmt(scores[c], 3))
            for c in sorted(scores, key=lambda c: c.path.name)
        ]
    overall = total_win / total_pairs if total_pairs else float("nan")
    rep.target(
        "Same-actor (calm, angry) pairs where angry scores higher, overall",
        f">= {PAIR_TARGET:.0%}",
        f"{pct(overall)} ({total_win}/{total_pairs})",
        overall >= PAIR_TARGET,
    )
    rep.target(
        "... and for every actor",
        f">= {PAIR_TARGET:.0%} each",
        f"{sum(per_actor_ok)}/{len(per_actor_ok)} actors",
        all(per_actor_ok),
    )
    rep.add("### Part 1: ranking calm against angry, with a profile per actor\n")
    rep.add(
        "Profile per actor, from `calibrate_files` on the actor's 4 neutral clips (voiced speech counted across the "
        "files, the last partial block included). Actors whose clips could not be calibrated: "
        + ("; ".join(fallbacks) if fallbacks else "none")
        + ".\n"
    )
    rep.add(
        md_table(
            ["Actor", "Calibrated on", "Pitch (Hz)", "Loudness (dBFS)", "Articulation (syl/s)", "Speech (s)"], rows
        )
    )
    rep.add("Clip score = `agent.summary.agitation_mean` of `analyze_file(clip, profile=..., transcribe=False)`:\n")
    rep.add(
        md_table(
            [
                "Actor",
                "Calm clips",
                "Angry clips",
                "Calm mean",
                "Calm max",
                "Angry min",
                "Angry mean",
                "Pairs angry > calm",
                "Share",
                "",
            ],
            pair_rows,
        )
    )
    rep.add("By intensity of the angry clip (RAVDESS: normal and strong):\n")
    rep.add(md_table(["Actor", "Angry intensity", "Angry mean", "Pairs angry > calm"], int_rows))
    rep.add(f"Clips with no score (agitation_mean None): {', '.join(none_clips) if none_clips else 'none'}.\n")
    rep.add("### Why the misses\n")
    rep.add(
        "Angry clips that do not score above every calm clip of their actor, with the clip's loudness and pitch "
        "against the profile (`summary.loudness_vs_baseline_db`, `pitch_vs_baseline_st`):\n"
    )
    miss_rows = [
        (a.path.name, "normal" if a.intensity == 1 else "strong", fmt(sc, 3), f"{lost}/{n}", fmt(ld, 1), fmt(st, 1))
        for a, sc, lost, n, ld, st in misses
    ]
    rep.add(
        md_table(
            ["Angry clip", "Intensity", "Score", "Calm clips not beaten", "Loudness (dB)", "Pitch (st)"], miss_rows
        )
    )
    below = [(a, lost) for a, _, lost, _, ld, st in misses if ld is not None and st is not None and ld < 0 and st < 0]
    allowed = int(total_pairs * (1 - PAIR_TARGET))
    rep.add(
        "For comparison, in the same run, the share of pairs ranked right by one signed deviation from the profile "
        "alone (no clipping at the baseline): loudness "
        + pct(signed["loudness"][0] / max(1, signed["loudness"][1]))
        + ", pitch "
        + pct(signed["pitch"][0] / max(1, signed["pitch"][1]))
        + f", against {pct(overall)} for the agitation score. Most misses are normal-intensity (*cold*) anger said no "
        "louder and no higher than the actor's neutral calibration, some quieter and lower (the table above): a signed "
        "score, one that does not clip at the baseline, puts those below the calm clips rather than level with them, "
        f"so it does not win their pairs. The angry clips both quieter and lower than the calibration "
        f"({', '.join(a.path.name for a, _ in below) or 'none'}) lose {sum(lost for _, lost in below)} of the "
        f"{total_pairs} pairs by themselves; {PAIR_TARGET:.0%} allows {allowed}.\n"
    )
    return clip_rows


def main() -> None:
    argparse.ArgumentParser(description="Calm vs angry on RAVDESS: ranking with a profile.").parse_args()
    rep = Report("ravdess", "Calm vs angry on real voices (RAVDESS)", COMMAND)
    folder = shared_data("ravdess", what="RAVDESS actors' neutral, calm and angry clips")
    clips = [c for c in ravdess_clips(folder) if c.emotion in ("neutral", "calm", "angry")] if folder else []
    if not clips:
        rep.target("Calm/angry ranking and warnings", "RAVDESS", "skipped: `../shared/data/ravdess` is absent", None)
        rep.add(
            "Skipped: the RAVDESS clips (`../shared/data/ravdess`, see `../shared/data/README.md`) are not present on this machine.\n"
        )
        rep.write()
        return
    rep.add(
        f"{len(clips)} clips of actors {', '.join(f'{a:02d}' for a in sorted({c.actor for c in clips}))} "
        f"(RAVDESS, Livingstone & Russo 2018, CC BY-NC-SA 4.0; read from `../shared/data/ravdess`, not copied). "
        f"Machine: {machine_summary()}.\n"
    )
    clip_rows = part1(clips, rep)
    rep.add("Warnings on self-calibrated streams (calm, then angry) are measured by `benchmarks/bench_warnings.py`.\n")
    if clip_rows:
        rep.add(
            "<details><summary>Per-clip scores (part 1)</summary>\n\n"
            + md_table(["Clip", "Emotion", "Intensity", "agitation_mean"], clip_rows)
            + "\n</details>\n"
        )
    rep.write()


if __name__ == "__main__":
    main()
