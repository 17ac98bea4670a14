"""Where there is speech in a recording: Silero VAD, the ONNX model that ships inside faster-whisper.

faster-whisper already installs the model (``faster_whisper/assets/silero_vad_v6.onnx``) and
onnxruntime to run it, and uses it for its own ``vad_filter``; nothing is downloaded. The recording
is scanned in blocks of ``BLOCK_S`` so that memory stays bounded on long calls (the model's state
restarts at each block edge; a span cut by an edge is joined again).
"""

from __future__ import annotations

import numpy as np

from voice_coach.config import SeparationConfig

__all__ = ["speech_spans"]

SAMPLE_RATE = 16000
BLOCK_S = 300.0
"""Seconds of audio given to the VAD at once (a multiple of its 512-sample frame)."""
PAD_MS = 30
"""Each speech span is widened by this much on both sides (faster-whisper's default is 400 ms, meant
for cutting audio for ASR; here a span should hug the voice)."""


def speech_spans(audio: np.ndarray, *, config: SeparationConfig | None = None) -> list[tuple[float, float]]:
    """Speech stretches ``(start_s, end_s)`` in 16 kHz mono audio, time-ordered, non-overlapping."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    cfg = config or SeparationConfig()
    x = np.asarray(audio, dtype=np.float32)
    if x.size == 0:
        return []
    options = VadOptions(
        threshold=cfg.vad_threshold,
        min_speech_duration_ms=0,
        min_silence_duration_ms=int(round(cfg.min_silence_s * 1000)),
        speech_pad_ms=PAD_MS,
    )
    block = int(BLOCK_S * SAMPLE_RATE) // 512 * 512
    spans: list[tuple[float, float]] = []
    for offset in range(0, x.size, block):
        chunk = x[offset : offset + block]
        for seg in get_speech_timestamps(chunk, options, sampling_rate=SAMPLE_RATE):
            a = (offset + seg["start"]) / SAMPLE_RATE
            b = (offset + seg["end"]) / SAMPLE_RATE
            if spans and a <= spans[-1][1] + cfg.min_silence_s:
                spans[-1] = (spans[-1][0], max(spans[-1][1], b))
            else:
                spans.append((a, b))
    return [(round(a, 3), round(b, 3)) for a, b in spans if b - a >= cfg.min_speech_s]
