"""Calm vs angry on real voices (RAVDESS): does the agitation score rank them, and do warnings
fire in the right place?

    python benchmarks/bench_ravdess.py

Needs ``../shared/data/ravdess`` (RAVDESS actors 01-04, neutral, calm and angry clips); without
it the benchmark writes a fragment saying so and checks nothing.

Part 1, ranking with a profile. Per actor, a profile is calibrated on the actor's neutral clips
(``voice_coach.calibrate.calibrate_files``); every calm and every angry clip of that actor is then
scored with ``analyze_file(clip, profile=..., transcribe=False)``, the clip's score being
``agent.summary.agitation_mean``. For every same-actor (calm, angry) pair the angry clip must score
higher; a clip whose score is None loses all its pairs (and is listed).
**Target: >= 97 % of pairs**, per actor and overall.

Part 2, warnings without a profile. Per actor, one stream: the neutral and calm clips, then the
angry clips, each trimmed to 0.3 s of leading/trailing silence so that it runs as continuous speech
(written to ``benchmarks/.cache/ravdess/``), analysed with NO profile (self-calibration).
**Target: no warning starts in the calm part, and at least one starts in the angry part**, for
every actor.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    SR, Report, cache_dir, fmt, load_mono, machine_summary, md_table, pct, ravdess_clips, rel, shared_data, trim_silence, write_wav,
)

PAIR_TARGET = 0.97
COMMAND = "python benchmarks/bench_ravdess.py"


def part1(clips, rep: Report) -> list[tuple]:
    """Adds part 1 to ``rep``; returns the per-clip score rows."""
    from voice_coach.calibrate import calibrate_files
    from voice_coach.pipeline import analyze_file

    actors = sorted({c.actor for c in clips})
    from voice_coach.errors import AudioError

    rows, pair_rows, none_clips, int_rows, clip_rows, fallbacks = [], [], [], [], [], []
    total_win = total_pairs = 0
    per_actor_ok = []
    for actor in actors:
        mine = [c for c in clips if c.actor == actor]
        neutral = [c.path for c in mine if c.emotion == "neutral"]
        try:
            profile = calibrate_files(neutral)
            how = "4 neutral clips"
        except AudioError as exc:
            # Too little voiced speech for calibrate_files' minimum: feed the same clips twice, which
            # doubles the speech it counts without adding any other material.
            profile = calibrate_files(neutral * 2)
            how = "4 neutral clips, fed twice"
            fallbacks.append(f"actor {actor:02d}: `{str(exc).split(': ')[-1]}`")
        scores = {}
        for c in mine:
            if c.emotion in ("calm", "angry"):
                s = analyze_file(c.path, profile=profile, transcribe=False)["agent"]["summary"]
                scores[c] = s["agitation_mean"]
                if s["agitation_mean"] is None:
                    none_clips.append(c.path.name)
        calm = [c for c in scores if c.emotion == "calm"]
        angry = [c for c in scores if c.emotion == "angry"]
        win = sum(1 for a in angry for c in calm if scores[a] is not None and scores[c] is not None and scores[a] > scores[c])
        n = len(calm) * len(angry)
        total_win += win
        total_pairs += n
        share = win / n if n else float("nan")
        per_actor_ok.append(share >= PAIR_TARGET)
        cs = [scores[c] for c in calm if scores[c] is not None]
        as_ = [scores[a] for a in angry if scores[a] is not None]
        rows.append((f"{actor:02d} ({'male' if actor % 2 else 'female'})", how, fmt(profile.pitch_median_hz, 0), fmt(profile.loudness_median_db, 1),
                     fmt(profile.articulation_rate_sps, 2), fmt(profile.speech_s, 1)))
        pair_rows.append((f"{actor:02d}", len(calm), len(angry), fmt(np.mean(cs) if cs else None, 3), fmt(max(cs) if cs else None, 3),
                          fmt(min(as_) if as_ else None, 3), fmt(np.mean(as_) if as_ else None, 3), f"{win}/{n}", pct(share), "✓" if share >= PAIR_TARGET else "✗"))
        for inten in (1, 2):
            sub = [a for a in angry if a.intensity == inten]
            w = sum(1 for a in sub for c in calm if scores[a] is not None and scores[c] is not None and scores[a] > scores[c])
            int_rows.append((f"{actor:02d}", "normal" if inten == 1 else "strong", fmt(np.mean([scores[a] for a in sub if scores[a] is not None]), 3), f"{w}/{len(sub) * len(calm)}"))
        clip_rows += [(c.path.name, c.emotion, "normal" if c.intensity == 1 else "strong", fmt(scores[c], 3)) for c in sorted(scores, key=lambda c: c.path.name)]
    overall = total_win / total_pairs if total_pairs else float("nan")
    rep.target("Same-actor (calm, angry) pairs where angry scores higher, overall", f">= {PAIR_TARGET:.0%}", f"{pct(overall)} ({total_win}/{total_pairs})",
               overall >= PAIR_TARGET)
    rep.target("... and for every actor", f">= {PAIR_TARGET:.0%} each", f"{sum(per_actor_ok)}/{len(per_actor_ok)} actors", all(per_actor_ok))
    rep.add("### Part 1: ranking calm against angry, with a profile per actor\n")
    rep.add("Profile per actor, from `calibrate_files` on the actor's 4 neutral clips. Where those hold less voiced "
            "speech than `calibrate_files` requires (3 s, counted in whole 1 s blocks), the same 4 clips are fed twice: "
            + ("; ".join(fallbacks) if fallbacks else "not needed this run") + ".\n")
    rep.add(md_table(["Actor", "Calibrated on", "Pitch (Hz)", "Loudness (dBFS)", "Articulation (syl/s)", "Speech (s)"], rows))
    rep.add("Clip score = `agent.summary.agitation_mean` of `analyze_file(clip, profile=..., transcribe=False)`:\n")
    rep.add(md_table(["Actor", "Calm clips", "Angry clips", "Calm mean", "Calm max", "Angry min", "Angry mean", "Pairs angry > calm", "Share", ""], pair_rows))
    rep.add("By intensity of the angry clip (RAVDESS: normal and strong):\n")
    rep.add(md_table(["Actor", "Angry intensity", "Angry mean", "Pairs angry > calm"], int_rows))
    rep.add(f"Clips with no score (agitation_mean None): {', '.join(none_clips) if none_clips else 'none'}.\n")
    return clip_rows


def build_stream(clips, actor: int) -> tuple[Path, float, list[tuple[float, float, str]]]:
    """The actor's neutral + calm clips, then the angry ones, trimmed to 0.3 s of silence each side.
    Returns (path, time the angry part starts, [(start, end, clip name)])."""
    mine = sorted((c for c in clips if c.actor == actor), key=lambda c: c.path.name)
    ordered = [c for c in mine if c.emotion == "neutral"] + [c for c in mine if c.emotion == "calm"] + [c for c in mine if c.emotion == "angry"]
    parts, spans, t, boundary = [], [], 0.0, None
    for c in ordered:
        if c.emotion == "angry" and boundary is None:
            boundary = t
        y = trim_silence(load_mono(c.path), keep_s=0.3)
        parts.append(y)
        spans.append((t, t + len(y) / SR, f"{c.path.name} ({c.emotion})"))
        t += len(y) / SR
    path = cache_dir("ravdess") / f"actor{actor:02d}_calm_then_angry.wav"
    write_wav(path, np.concatenate(parts))
    return path, boundary, spans


def baseline_trace(path: Path, boundary_s: float):
    """Replay the stream through the engine (prosody only, as ``analyze_file`` does) and return
    (the agent's baseline when the angry part starts, the final baseline, its estimator)."""
    from voice_coach.audio import iter_audio
    from voice_coach.engine import Engine

    engine = Engine()
    at_boundary = None
    for chunk in iter_audio(path, chunk_s=0.1):
        engine.feed(chunk)
        if at_boundary is None and engine.t >= boundary_s:
            at_boundary = engine.analyzers["agent"].baseline
    engine.finish()
    a = engine.analyzers["agent"]
    return at_boundary, a.baseline, a.estimator


def part2(clips, rep: Report) -> None:
    from voice_coach.config import Config
    from voice_coach.pipeline import analyze_file

    budget_s = Config().baseline.calibration_speech_s
    actors = sorted({c.actor for c in clips})
    rows, warn_rows = [], []
    all_ok = True
    for actor in actors:
        path, boundary, spans = build_stream(clips, actor)
        result = analyze_file(path, transcribe=False)
        warnings = result["warnings"]
        in_calm = [w for w in warnings if w["start"] < boundary]
        in_angry = [w for w in warnings if w["start"] >= boundary]
        ok = not in_calm and bool(in_angry)
        all_ok &= ok
        b0, b1, est = baseline_trace(path, boundary)

        def show(b):
            if b is None:
                return "none yet"
            return f"{fmt(b.pitch_median_hz, 0)} Hz, {fmt(b.loudness_median_db, 1)} dB, {fmt(b.articulation_rate_sps, 2)} syl/s"

        frozen = f"yes ({est.speech_s:.1f} s)" if est.frozen else f"no: {est.speech_s:.1f} s of {budget_s:.0f} s"
        rows.append((f"{actor:02d}", fmt(result["duration_s"], 1), fmt(boundary, 1), show(b0), show(b1), frozen, len(in_calm), len(in_angry), "✓" if ok else "✗"))
        for w in warnings:
            clip = next((name for s, e, name in spans if s <= w["start"] < e), "between clips")
            warn_rows.append((f"{actor:02d}", fmt(w["start"], 2), fmt(w["end"], 2), w["kind"], "calm part" if w["start"] < boundary else "angry part", clip))
    rep.target("Self-calibrated stream (calm, then angry): no warning starts in the calm part and at least one in the angry part",
               "every actor", f"{sum(1 for r in rows if r[-1] == '✓')}/{len(rows)} actors", all_ok)
    rep.add("### Part 2: warnings on a calm-then-angry stream, no profile\n")
    rep.add("Each stream: the actor's 4 neutral and 8 calm clips (normal, then strong intensity), then the 8 angry clips, "
            "each trimmed to 0.3 s of silence at both ends, analysed with `analyze_file(stream, transcribe=False)` "
            "(self-calibration). The baseline columns come from replaying the stream through `Engine`: the self-calibrated "
            f"baseline when the angry part starts and at the end; `Frozen` says whether calibration used up its budget "
            f"(`calibration_speech_s` = {budget_s:.0f} s of voiced speech) or went on into the angry part.\n")
    rep.add(md_table(["Actor", "Length (s)", "Angry from (s)", "Baseline at angry start", "Baseline at end", "Frozen",
                      "Warnings in calm", "Warnings in angry", ""], rows))
    rep.add("Warnings:\n")
    rep.add(md_table(["Actor", "Start (s)", "End (s)", "Kind", "Part", "Clip at start"], warn_rows) if warn_rows else "None.\n")
    rep.add(f"Streams: `{rel(cache_dir('ravdess'))}/actorNN_calm_then_angry.wav`.\n")


def main() -> None:
    argparse.ArgumentParser(description='Calm vs angry on RAVDESS: ranking with a profile, warnings without.').parse_args()
    rep = Report("ravdess", "Calm vs angry on real voices (RAVDESS)", COMMAND)
    folder = shared_data("ravdess", what="RAVDESS actors' neutral, calm and angry clips")
    clips = [c for c in ravdess_clips(folder) if c.emotion in ("neutral", "calm", "angry")] if folder else []
    if not clips:
        rep.target("Calm/angry ranking and warnings", "RAVDESS", "skipped: `../shared/data/ravdess` is absent", None)
        rep.add("Skipped: the RAVDESS clips (`../shared/data/ravdess`, see `../shared/data/README.md`) are not present on this machine.\n")
        rep.write()
        return
    rep.add(f"{len(clips)} clips of actors {', '.join(f'{a:02d}' for a in sorted({c.actor for c in clips}))} "
            f"(RAVDESS, Livingstone & Russo 2018, CC BY-NC-SA 4.0; read from `../shared/data/ravdess`, not copied). "
            f"Machine: {machine_summary()}.\n")
    clip_rows = part1(clips, rep)
    part2(clips, rep)
    if clip_rows:
        rep.add("<details><summary>Per-clip scores (part 1)</summary>\n\n" + md_table(["Clip", "Emotion", "Intensity", "agitation_mean"], clip_rows) + "\n</details>\n")
    rep.write()


if __name__ == "__main__":
    main()
