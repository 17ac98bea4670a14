"""Whisper decoding loops: telling them from speech that really repeats itself.

Whisper sometimes gets stuck and writes the same words over and over ("thank you thank you ..."),
over silence, music or noise, past the end of what was said, or squeezed into no time at all. Its
text then compresses far better than language does. But real calls repeat themselves too:
read-back numbers, "yes, yes", scripted lines, the same sentence said again. Repetitive *text*
alone is no evidence of a loop; the audio decides.

``loop_free_words`` is the one filter both transcription paths use (``transcribe.ChunkedTranscriber``
for recordings, ``streaming_asr.OnlineTranscriber`` live). For one faster-whisper segment:

* **Words of no duration.** A run of 3 or more consecutive words lasting under 20 ms is whisper
  repeating itself into no time: the run is dropped. If more than 30 % of what is left (at least 6
  words) is still instant, the whole segment is dropped.
* **Text that is not repetitive** (zlib compression ratio of the segment's text at most 2.4,
  faster-whisper's own threshold for a repetition loop) is kept as it is.
* **Repetitive text** is checked word by word against the audio it was transcribed from. Evidence
  of speech is a 10 ms frame that is voiced (``prosody.analyze_frames``) or inside a stretch that
  Silero VAD calls speech (at fine resolution: 100 ms silences split it, no padding); either alone
  misses some real speech (breathy calm voices are barely voiced, and the VAD missed some shouted
  RAVDESS sentences entirely). It is computed only when a segment needs it. A word is *heard* if
  such a frame lies within 0.35 s of it. Unheard words (a run past the end of the speech, a loop
  over silence) are dropped, heard ones kept. If the heard words are still more than
  ``MAX_WORDS_PER_SPEECH_S`` per second of speech under them, the repetition has more words than
  a voice could have carried there, and the whole segment is dropped.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence

import numpy as np

from voice_coach import SAMPLE_RATE

log = logging.getLogger("voice_coach")

REPETITIVE_COMPRESSION_RATIO = 2.4
"""Text compressing better than this (zlib) is repetitive: faster-whisper's own loop threshold."""
INSTANT_WORD_S = 0.02
"""A word shorter than this was not aligned to anything heard."""
MIN_INSTANT_RUN = 3
"""This many consecutive instant words are a squeezed loop: the run is dropped. (Whisper often gives
a single word, typically the last of a sentence, no duration; that word is real.)"""
MAX_INSTANT_SHARE = 0.3
"""A segment of at least 6 words with more than this share of instant words left is a loop."""
HEARD_MARGIN_S = 0.35
"""A word is heard if a frame of speech lies within this of its span. Whisper's word times are
approximate: the last word of a sentence often comes out with no duration, placed 0.2-0.3 s after
the voice has stopped."""
MAX_WORDS_PER_SPEECH_S = 15.0
"""More words than this per second of speech evidence is not speech. Measured on the 240 RAVDESS
sentences (6 words each), trimmed: median 3.4 and at most 8.2 words per second of evidence; played
1.5x faster (sox tempo), median 5.1, 99th percentile 7.6, at most 11.8 (a breathy, barely voiced
calm sentence)."""


def compression_ratio(text: str) -> float:
    """Length of ``text`` over its zlib-compressed length (as faster-whisper computes it)."""
    raw = text.encode("utf-8")
    return len(raw) / max(1, len(zlib.compress(raw)))


class SpeechEvidence:
    """Which 10 ms frames of an audio buffer (16 kHz mono) show speech: voiced, or inside what
    Silero VAD calls speech. Computed on first use."""

    def __init__(self, audio: np.ndarray):
        self.audio = audio
        self._times: np.ndarray | None = None

    def speech_times(self) -> np.ndarray:
        """Times (s from the buffer start) of the frames with evidence of speech, sorted."""
        if self._times is None:
            from faster_whisper.vad import VadOptions, get_speech_timestamps

            from voice_coach.signal.prosody import analyze_frames, frame_times_s

            audio = np.asarray(self.audio, dtype=np.float32).reshape(-1)
            frames = analyze_frames(audio, sr=SAMPLE_RATE)
            times = frame_times_s(len(frames), sr=SAMPLE_RATE)
            speech = frames.voiced.copy()
            if len(audio):
                for c in get_speech_timestamps(
                    audio, VadOptions(min_silence_duration_ms=100, speech_pad_ms=0), SAMPLE_RATE
                ):
                    speech |= (times >= c["start"] / SAMPLE_RATE) & (times < c["end"] / SAMPLE_RATE)
            self._times = times[speech]
        return self._times

    def heard(self, start_s: float, end_s: float, *, margin_s: float = HEARD_MARGIN_S) -> bool:
        t = self.speech_times()
        i = np.searchsorted(t, start_s - margin_s)
        return bool(i < len(t) and t[i] <= end_s + margin_s)

    def speech_s(self, start_s: float, end_s: float, *, margin_s: float = HEARD_MARGIN_S) -> float:
        t = self.speech_times()
        n = np.searchsorted(t, end_s + margin_s, side="right") - np.searchsorted(t, start_s - margin_s)
        return float(n) * 0.01


def loop_free_words(words: Sequence, text: str, evidence: SpeechEvidence, *, offset_s: float = 0.0) -> list[int]:
    """Indices of the words of one faster-whisper segment to keep (see the module docstring).

    ``words`` have ``start`` and ``end`` in seconds from the start of the audio ``evidence`` covers
    (faster-whisper's ``Word``, or anything with those attributes); ``text`` is the segment's text.
    Dropped words leave a debug line on the ``voice_coach`` logger, at stream time ``offset_s`` plus
    their own.
    """
    keep, reason = _loop_free_words(words, text, evidence)
    if len(keep) < len(words):
        kept = set(keep)
        dropped = [w for k, w in enumerate(words) if k not in kept]
        log.debug(
            "decoding loop: dropped %d of %d words at %.2f-%.2f s (%s): %r",
            len(dropped),
            len(words),
            offset_s + float(dropped[0].start),
            offset_s + float(dropped[-1].end),
            reason,
            "".join(str(getattr(w, "word", "")) for w in dropped).strip(),
        )
    return keep


def _loop_free_words(words: Sequence, text: str, evidence: SpeechEvidence) -> tuple[list[int], str]:
    """``loop_free_words`` and why it dropped what it dropped."""
    n = len(words)
    if n == 0:
        return [], ""
    spans = [(float(w.start), float(w.end)) for w in words]
    instant = [e - s < INSTANT_WORD_S for s, e in spans]
    # A run of words squeezed into no time is whisper repeating itself, not aligning heard words.
    keep = list(range(n))
    i = 0
    while i < n:
        j = i
        while j < n and instant[j]:
            j += 1
        if j - i >= MIN_INSTANT_RUN:
            keep = [k for k in keep if not i <= k < j]
        i = max(j, i + 1)
    if len(keep) >= 6 and sum(instant[k] for k in keep) / len(keep) > MAX_INSTANT_SHARE:
        return [], "words of no duration"
    if len(keep) == n:
        text = text or "".join(str(getattr(w, "word", "")) for w in words)
    else:
        text = "".join(str(getattr(words[k], "word", "")) for k in keep)
    if compression_ratio(text.strip()) <= REPETITIVE_COMPRESSION_RATIO:
        return keep, "a run of words of no duration"
    heard = [k for k in keep if evidence.heard(*spans[k])]
    if not heard:
        return [], "repetitive text over no speech"
    speech = evidence.speech_s(spans[heard[0]][0], spans[heard[-1]][1])
    if len(heard) > MAX_WORDS_PER_SPEECH_S * max(speech, 0.1):
        return [], "more repeated words than the speech under them could carry"
    return heard, "repetitive text where no speech was heard"
