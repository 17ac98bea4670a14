"""``voice-coach calibrate``: the agent's calm baseline from recordings of calm speech.

The recordings are fed, one after another, through the same speaker analysis as a call, with a
calibration budget that never runs out; the profile is the median (not the low quantile used for
self-calibration) of the speech blocks, because all of this speech is known to be calm.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from . import SAMPLE_RATE
from .audio import iter_audio, parse_channel, probe
from .baseline import Baseline, save_profile
from .config import Config
from .errors import AudioError
from .speaker import SpeakerAnalyzer

MIN_PROFILE_SPEECH_S = 3.0


def calibrate_files(paths: list[Path], *, config: Config = Config(), agent_channel: str | int = 0, out: Path | None = None) -> Baseline:
    """The calm baseline of the agent in ``paths``; written to ``out`` as a profile when given."""
    cfg = dataclasses.replace(config, baseline=dataclasses.replace(config.baseline, calibration_speech_s=float("inf"), min_speech_s=MIN_PROFILE_SPEECH_S))
    analyzer = SpeakerAnalyzer("agent", config=cfg, warn=False)
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    for path in paths:
        info = probe(path)
        channel = parse_channel(agent_channel, channels=info.channels)
        for chunk in iter_audio(path, chunk_s=5.0):
            analyzer.feed(chunk[channel])
        analyzer.feed(gap)
    analyzer.finish(0.0)
    estimate = analyzer.estimator.estimate(quantile=0.5) if analyzer.estimator else None
    if estimate is None:
        heard = analyzer.estimator.speech_s if analyzer.estimator else 0.0
        names = ", ".join(str(p) for p in paths)
        raise AudioError(f"{names}: only {heard:.1f} s of voiced speech; calibration needs at least {MIN_PROFILE_SPEECH_S:.0f} s of calm speech")
    baseline = dataclasses.replace(estimate, source="profile")
    if out is not None:
        save_profile(baseline, out, sources=[str(p) for p in paths])
    return baseline
