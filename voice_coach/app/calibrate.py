"""``voice-coach calibrate``: the agent's calm baseline from recordings of calm speech.

The recordings are fed, one after another, through the same engine as a call (the agent's voice, no
transcriber, no warnings), with a calibration budget that never runs out and no calm gate, because
all of this speech is known to be calm; the profile is the median of the speech blocks. Speech is
counted across the files, and the last partial block counts too, so four short calm sentences (about
3 s of voiced speech) are enough.

Unless asked not to (``voiceprint=False``, ``--no-voiceprint``), the profile also holds the agent's voice print
(``voices.naming.make_voiceprint`` of the same calm speech), which names the agent's voice in mono recordings.
It is biometric data and stays in the profile file (docs/voiceprint.md).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.analysis.baseline import Baseline, save_profile
from voice_coach.config import Config
from voice_coach.engine.core import ChannelMap, Engine
from voice_coach.errors import AudioError
from voice_coach.sources.decode import iter_audio, parse_channel, probe

log = logging.getLogger("voice_coach")

MIN_PROFILE_SPEECH_S = 2.0
"""Voiced speech a profile needs, counted across all the files. Four short calm sentences hold 2.5-5.5 s
of voiced frames here (our voicing decision is conservative: Praat calls about a fifth more frames
voiced), so 2 s is the floor; 10 s of calm talk is comfortably above it."""
MIN_PARTIAL_BLOCK_S = 0.1
"""The last, partial calibration block counts if it holds at least this much voiced speech."""
NO_BUDGET_S = 1e9
"""The calibration budget of a profile: more voiced speech than any set of recordings holds."""


def calibrate_files(
    paths: list[Path],
    *,
    config: Config = Config(),
    agent_channel: str | int = 0,
    out: Path | None = None,
    voiceprint: bool = True,
) -> Baseline:
    """The calm baseline of the agent in ``paths``, with their voice print unless ``voiceprint`` is False or
    the speech detector finds too little speech for one (the baseline is kept; its ``voiceprint`` is None);
    written to ``out`` as a profile when given."""
    # All of this speech is known to be calm: no budget (the baseline never freezes), no calm gate.
    baseline_cfg = dataclasses.replace(
        config.baseline, calibration_speech_s=NO_BUDGET_S, min_speech_s=MIN_PROFILE_SPEECH_S
    )
    cfg = dataclasses.replace(config, baseline=baseline_cfg)
    engine = Engine(config=cfg, channels=ChannelMap(0, None), transcriber=None, calibrating=True)
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    heard: list[np.ndarray] = []  # the agent's audio, kept only for the voice print
    for path in paths:
        info = probe(path)
        channel = parse_channel(agent_channel, channels=info.channels)
        for chunk in iter_audio(path, chunk_s=5.0):
            engine.feed(chunk[channel])
            if voiceprint:
                heard.append(chunk[channel])
        engine.feed(gap)
        if voiceprint:
            heard.append(gap)
    engine.finish()
    estimator = engine.analyzers["agent"].estimator
    assert estimator is not None  # no profile was given
    estimator.flush(min_s=MIN_PARTIAL_BLOCK_S)  # the last partial block is calm speech too
    estimate = estimator.estimate(quantile=0.5)
    if estimate is None:
        names = ", ".join(str(p) for p in paths)
        raise AudioError(
            f"{names}: only {estimator.heard_s:.1f} s of voiced speech in all; calibration needs at least "
            f"{MIN_PROFILE_SPEECH_S:.0f} s (about four calm sentences, or 10 s of calm talk)"
        )
    baseline = dataclasses.replace(estimate, source="profile")
    if voiceprint:
        from voice_coach.voices.naming import make_voiceprint

        names = ", ".join(str(p) for p in paths)
        try:
            vector = make_voiceprint(np.concatenate(heard), config=config.separation, what=names)
        except AudioError as exc:  # the calm baseline is still good: the profile goes without a voice print
            log.debug("no voice print: %s", exc)
        else:
            baseline = dataclasses.replace(baseline, voiceprint=tuple(float(x) for x in vector))
    if out is not None:
        save_profile(baseline, out, sources=[str(p) for p in paths])
    return baseline
