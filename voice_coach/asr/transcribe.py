"""Transcription for the engine: a one-pass chunked transcriber for recordings, and a worker thread
that keeps any transcriber off the prosody path.

Both implement the transcriber interface of docs/CONTRACT.md (``insert_audio``, ``process``,
``finish``). ``ChunkedTranscriber`` transcribes each stretch of audio exactly once, in chunks of at
most ``file_chunk_s`` cut at the quietest moment near the chunk's end, so its cost is that of a
plain faster-whisper pass. The live path uses ``streaming_asr.OnlineTranscriber`` (LocalAgreement)
instead; both go behind ``AsyncTranscriber``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.asr.loops import SpeechEvidence, loop_free_words
from voice_coach.config import TranscriptionConfig
from voice_coach.engine.events import Word

log = logging.getLogger("voice_coach")

REPAIR_ROUNDS = 3
"""Recordings: how many times speech whisper left out is looked for and decoded again per chunk."""
REPAIR_DECODES = 4
"""Recordings: at most this many extra decodes per chunk (the longest pieces first). Each costs a whole
30 s encoder pass however short the piece, so this bounds the cost at 5x on speech whisper keeps leaving
out (fillers it does not write, noise the VAD takes for speech); ordinary speech needs none."""


class Transcriber(Protocol):
    def insert_audio(self, audio: np.ndarray) -> None: ...
    def process(self) -> list[Word]: ...
    def finish(self) -> list[Word]: ...


def words_from_segments(
    segments,
    *,
    audio: np.ndarray,
    offset_s: float,
    min_probability: float = 0.0,
    on_loop_dropped: Callable[[int], None] | None = None,
) -> list[Word]:
    """faster-whisper segments (with word timestamps, relative to ``audio``) to Words on the stream
    clock, leaving out decoding loops (``loops.loop_free_words``: repetitive text is checked
    against the speech heard in ``audio``, so that speech that really repeats itself is kept).
    ``on_loop_dropped`` is called with the number of words each dropped loop had."""
    out: list[Word] = []
    evidence = SpeechEvidence(audio)
    for seg in segments:
        words = seg.words or []
        keep = loop_free_words(words, seg.text or "", evidence, offset_s=offset_s)
        if on_loop_dropped is not None and len(keep) < len(words):
            on_loop_dropped(len(words) - len(keep))
        for i in keep:
            w = words[i]
            text = w.word.strip()
            if not text or w.probability < min_probability:
                continue
            out.append(
                Word(round(offset_s + float(w.start), 3), round(offset_s + float(w.end), 3), text, float(w.probability))
            )
    return out


def quietest_cut(audio: np.ndarray, *, search_from: int, window: int = 1600) -> int:
    """Index of the centre of the quietest ``window``-sample stretch at or after ``search_from``."""
    tail = audio[search_from:]
    if len(tail) < 2 * window:
        return len(audio)
    n = len(tail) // window
    energy = np.square(tail[: n * window].reshape(n, window)).mean(axis=1)
    best = int(np.argmin(energy))
    return search_from + best * window + window // 2


class ChunkedTranscriber:
    """Transcribe a stream once, chunk by chunk (for recordings)."""

    def __init__(self, model, config: TranscriptionConfig = TranscriptionConfig()):
        self.model = model
        self.config = config
        self._buf: list[np.ndarray] = []
        self._buf_n = 0
        self._offset = 0  # stream sample index of the buffer start
        self._chunk_n = int(config.file_chunk_s * SAMPLE_RATE)
        self.dropped_loop_words = 0
        """Words left out as decoding loops (each decode counts its own; see ``loops``)."""

    def insert_audio(self, audio: np.ndarray) -> None:
        self._buf.append(np.asarray(audio, dtype=np.float32).reshape(-1))
        self._buf_n += len(self._buf[-1])

    def process(self) -> list[Word]:
        words: list[Word] = []
        while self._buf_n >= self._chunk_n:
            audio = np.concatenate(self._buf)
            # Cut in the quietest 0.1 s of the chunk's last 8 s, so no word is split.
            cut = quietest_cut(audio[: self._chunk_n], search_from=max(0, self._chunk_n - 8 * SAMPLE_RATE))
            words += self._transcribe(audio[:cut])
            rest = audio[cut:]
            self._buf, self._buf_n = [rest], len(rest)
            self._offset += cut
        return words

    def finish(self) -> list[Word]:
        words = self.process()
        if self._buf_n:
            words += self._transcribe(np.concatenate(self._buf))
            self._offset += self._buf_n
            self._buf, self._buf_n = [], 0
        return words

    def _transcribe(self, audio: np.ndarray) -> list[Word]:
        offset_s = self._offset / SAMPLE_RATE
        if len(audio) < SAMPLE_RATE // 10 or not np.any(audio):
            return []
        words = self._decode(audio, offset_s)
        cfg = self.config
        if not (cfg.repair_gaps or cfg.trim_words_to_speech):
            return words
        speech = speech_stretches(audio)
        trim = (lambda ws: trimmed_to_speech(ws, speech, offset_s=offset_s)) if cfg.trim_words_to_speech else list
        # Trimmed first, so that a word stretched over a skipped sentence does not hide it.
        words = trim(words)
        if cfg.repair_gaps:
            words = self._repaired(audio, offset_s, words, speech, trim)
        return words

    def _repaired(self, audio: np.ndarray, offset_s: float, words: list[Word], speech, trim) -> list[Word]:
        """``words`` with the speech whisper left out decoded again (``uncovered_speech``,
        ``sparse_speech``). A second reading may stop short too (fast speech fills whisper's token
        budget for a window): what it still leaves out is looked at again, up to ``REPAIR_ROUNDS``."""
        cfg = self.config
        audio_s = len(audio) / SAMPLE_RATE
        tried: set[tuple[float, float]] = set()
        for round_ in range(REPAIR_ROUNDS):
            if len(tried) >= REPAIR_DECODES:
                break
            spans = [(w.start_s - offset_s, w.end_s - offset_s) for w in words]
            gaps = uncovered_speech(speech, spans, audio_s=audio_s, holes_only=round_ > 0)
            if cfg.repair_sparse_ratio > 0:
                mids = [(w.start_s + w.end_s) / 2 - offset_s for w in words]
                gaps = _merged(gaps + sparse_speech(speech, mids, audio_s=audio_s, ratio=cfg.repair_sparse_ratio))
            gaps = sorted((g for g in gaps if g not in tried), key=lambda g: g[0] - g[1])
            gaps = sorted(gaps[: REPAIR_DECODES - len(tried)])
            if not gaps:
                break
            for start, end in gaps:
                # Whisper skipped (most of) this speech: it jumped ahead, stopped early, merged two
                # sentences that repeat each other into one, or a loop was dropped here. Decode it
                # again on its own, at the same temperature (so the result stays reproducible), and
                # keep whichever reading has more words.
                tried.add((start, end))
                a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
                lo, hi = offset_s + start, offset_s + end
                again = [w for w in trim(self._decode(audio[a:b], offset_s + a / SAMPLE_RATE)) if _inside(w, lo, hi)]
                if len(again) > sum(1 for w in words if _inside(w, lo, hi)):
                    words = [w for w in words if not _inside(w, lo, hi)] + again
            words.sort(key=lambda w: w.start_s)
        return words

    def _decode(self, audio: np.ndarray, offset_s: float) -> list[Word]:
        cfg = self.config
        segments, _info = self.model.transcribe(
            audio,
            language=cfg.language,
            beam_size=cfg.beam_size,
            # One temperature, no fallback: faster-whisper's default re-decodes a window by random
            # sampling (T = 0.2 .. 1.0) when its text compresses too well or its log probability is
            # low, and the same recording then gave a different transcript on every run.
            temperature=cfg.temperature,
            word_timestamps=True,
            vad_filter=cfg.vad_filter,
            condition_on_previous_text=False,
        )
        return words_from_segments(
            segments,
            audio=audio,
            offset_s=offset_s,
            min_probability=cfg.min_word_probability,
            on_loop_dropped=self._count_loop_words,
        )

    def _count_loop_words(self, n: int) -> None:
        self.dropped_loop_words += n


def _inside(w: Word, lo: float, hi: float) -> bool:
    return lo <= (w.start_s + w.end_s) / 2 <= hi


def speech_stretches(
    audio: np.ndarray, *, min_silence_ms: int = 200, threshold: float = 0.3
) -> list[tuple[float, float]]:
    """Where Silero VAD hears speech in ``audio`` (16 kHz), as (start, end) in s from its start, split
    at silences of ``min_silence_ms``, not padded. The speech threshold is lower than Silero's default
    (0.5), which broke JFK's noisy, reverberant speech into pieces with false pauses between them:
    here a false silence would cut real speech off a word."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(threshold=threshold, min_silence_duration_ms=min_silence_ms, speech_pad_ms=0)
    chunks = get_speech_timestamps(np.asarray(audio, dtype=np.float32), options, SAMPLE_RATE)
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]


def uncovered_speech(
    speech: list[tuple[float, float]],
    spans: list[tuple[float, float]],
    *,
    audio_s: float,
    min_speech_s: float = 0.4,
    min_cover: float = 0.5,
    min_hole_s: float = 1.0,
    pad_s: float = 0.2,
    holes_only: bool = False,
) -> list[tuple[float, float]]:
    """Speech (``speech``, s) that words (``spans``) leave out: whole stretches they cover less than
    ``min_cover`` of, and holes of at least ``min_hole_s`` with no word inside stretches they do cover
    (whisper stopped early in a window of fast speech, or jumped ahead in it). Stretches of at least
    ``min_speech_s`` count; everything is padded by ``pad_s`` (within ``[0, audio_s]``); consecutive
    uncovered stretches (no covered speech between) merge, and so do overlapping pieces. With
    ``holes_only``, only the holes (after a stretch has been decoded again on its own)."""
    out: list[tuple[float, float]] = []
    holes: list[tuple[float, float]] = []
    prev_uncovered = False
    for start, end in speech:
        inside = sorted((max(s, start), min(e, end)) for s, e in spans if s < end and e > start)
        cover, reach = 0.0, start
        for s, e in inside:  # length of the union of the words' spans inside the stretch
            if e > reach:
                if s - reach >= min_hole_s:
                    holes.append((reach, s))
                cover += e - max(s, reach)
                reach = e
        covered = cover >= min_cover * (end - start)
        if inside and end - reach >= min_hole_s:
            holes.append((reach, end))
        if covered or holes_only or end - start < min_speech_s:
            prev_uncovered = prev_uncovered and not covered
            continue
        lo, hi = max(0.0, start - pad_s), min(audio_s, end + pad_s)
        if prev_uncovered and out:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
        prev_uncovered = True
    out += [(max(0.0, s - pad_s), min(audio_s, e + pad_s)) for s, e in holes]
    return _merged(out)


def sparse_speech(
    speech: list[tuple[float, float]],
    word_mids: list[float],
    *,
    audio_s: float,
    ratio: float = 0.5,
    min_speech_s: float = 0.8,
    min_words: int = 12,
    pad_s: float = 0.2,
) -> list[tuple[float, float]]:
    """Stretches of ``speech`` (s) of at least ``min_speech_s`` that hold fewer words (by their
    midpoints, ``word_mids``) per second than ``ratio`` times the words per second of all the speech
    together: whisper read them too thinly (it merges a sentence said twice into one, and spreads its
    words over both). Needs ``min_words`` words in all to judge; stretches padded by ``pad_s``."""
    total_s = sum(e - s for s, e in speech)
    inside = [sum(1 for m in word_mids if s - pad_s <= m <= e + pad_s) for s, e in speech]
    if total_s <= 0 or sum(inside) < min_words:
        return []
    rate = sum(inside) / total_s
    return [
        (max(0.0, s - pad_s), min(audio_s, e + pad_s))
        for (s, e), n in zip(speech, inside, strict=True)
        if e - s >= min_speech_s and n < ratio * rate * (e - s)
    ]


def _merged(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def trimmed_to_speech(
    words: list[Word],
    speech: list[tuple[float, float]],
    *,
    offset_s: float,
    pad_s: float = 0.05,
    min_trim_s: float = 0.02,
    snap_s: float = 0.35,
) -> list[Word]:
    """``words`` with the silence whisper folded into them cut off.

    Whisper's word times come from aligning tokens to audio frames, and a pause usually goes to a
    neighbouring word: "ask" spanned 1.6 s across JFK's pause after "Americans", so the pause counted
    as talk time. Each word is cut to the speech stretch (``speech``, s from ``offset_s``) it
    overlaps most, padded by ``pad_s``, when that removes at least ``min_trim_s``. A word in a pause
    (whisper often puts a sentence's last word, with no duration, in the pause after it) is moved
    to the edge of the nearest speech stretch within ``snap_s``, so that it does not split the pause
    into two short ones. Words far from any speech the VAD heard (it misses some shouting) are left
    as they are."""
    out = []
    for w in words:
        s, e = w.start_s - offset_s, w.end_s - offset_s
        best, overlap = None, 0.0
        for a, b in speech:
            o = min(b, e) - max(a, s)
            if o > overlap:
                best, overlap = (a, b), o
        ns, ne = s, e
        if best is not None:
            ns, ne = max(s, best[0] - pad_s), min(e, best[1] + pad_s)
            if not (ne > ns and (ns - s >= min_trim_s or e - ne >= min_trim_s)):
                ns, ne = s, e
        elif speech:
            a, b = min(speech, key=lambda ab: max(ab[0] - e, s - ab[1]))
            if s >= b and s - b <= snap_s:  # in the pause after a stretch
                ns, ne = max(a, b - (e - s)), b
            elif e <= a and a - e <= snap_s:  # in the pause before one
                ns, ne = a, min(b, a + (e - s))
        if (ns, ne) != (s, e):
            w = Word(round(offset_s + ns, 3), round(offset_s + ne, 3), w.text, w.probability)
        out.append(w)
    return out


class AsyncTranscriber:
    """Runs a transcriber in a worker thread so that prosody never waits for it.

    ``insert_audio`` queues audio; ``process`` returns the words committed so far without blocking.
    With ``max_backlog_s`` set (live), audio that waited longer than that is dropped through the
    inner transcriber's ``skip_to`` (when it has one) and reported in ``status``; with it unset
    (files), ``insert_audio`` blocks once ``block_backlog_s`` of audio is queued, so a fast file
    reader cannot fill memory.
    """

    def __init__(self, inner: Transcriber, *, max_backlog_s: float | None = None, block_backlog_s: float = 120.0):
        self.inner = inner
        self.max_backlog_s = max_backlog_s
        self._in: queue.Queue = queue.Queue()
        self._out: queue.Queue = queue.Queue()
        self._cv = threading.Condition()
        self._queued = 0  # samples queued, not yet handed to the inner transcriber
        self._block_n = int(block_backlog_s * SAMPLE_RATE)
        self._fed = 0  # samples handed to the inner transcriber
        self.skipped_s = 0.0
        self.status: list[tuple[str, float, float]] = []  # (status, behind_s, skipped_s)
        self.error: BaseException | None = None
        self._abort = False
        self._thread = threading.Thread(target=self._run, name="voice-coach-asr", daemon=True)
        self._thread.start()

    @property
    def backlog_s(self) -> float:
        return self._queued / SAMPLE_RATE

    @property
    def dropped_loop_words(self) -> int:
        """Words the inner transcriber left out as decoding loops (0 if it does not count them)."""
        return int(getattr(self.inner, "dropped_loop_words", 0))

    def insert_audio(self, audio: np.ndarray) -> None:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        with self._cv:
            while self.max_backlog_s is None and self._queued >= self._block_n and self.error is None:
                self._cv.wait(0.5)
            self._queued += len(audio)
        self._in.put(audio)

    def process(self) -> list[Word]:
        self._raise_if_failed()
        words: list[Word] = []
        while True:
            try:
                words.extend(self._out.get_nowait())
            except queue.Empty:
                return words

    def finish(self) -> list[Word]:
        self._in.put(None)
        self._thread.join()
        self._raise_if_failed()
        return self.process()

    def close(self) -> None:
        """Stop the worker without flushing (the stream was abandoned)."""
        self._abort = True
        self._in.put(None)
        self._thread.join(timeout=30)

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            behind = False
            while True:
                item = self._in.get()
                batch = [item]
                while True:  # take everything queued, so one inference covers it
                    try:
                        batch.append(self._in.get_nowait())
                    except queue.Empty:
                        break
                done = batch[-1] is None
                if done and self._abort:
                    return
                chunks = [b for b in batch if b is not None]
                if chunks:
                    audio = np.concatenate(chunks)
                    with self._cv:
                        self._queued -= len(audio)
                        self._cv.notify_all()
                    self.inner.insert_audio(audio)
                    self._fed += len(audio)
                backlog = self.backlog_s + getattr(self.inner, "unprocessed_s", 0.0)
                if self.max_backlog_s is not None and backlog > self.max_backlog_s and hasattr(self.inner, "skip_to"):
                    self._skip()
                    behind = True
                elif behind and backlog < 1.0:
                    behind = False
                    self.status.append(("caught_up", 0.0, self.skipped_s))
                if done:
                    self._out.put(self.inner.finish())
                    return
                words = self.inner.process()
                if words:
                    self._out.put(words)
                if not chunks:
                    time.sleep(0.01)
        except BaseException as exc:  # surfaced to the engine's thread by process()/finish()
            self.error = exc
            with self._cv:
                self._cv.notify_all()

    def _skip(self) -> None:
        """Hand all queued audio over and tell the inner transcriber to skip past it, so that
        the stream clock stays right while the backlog is dropped unheard."""
        dropped = 0
        while True:
            try:
                item = self._in.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._in.put(None)
                break
            self.inner.insert_audio(item)
            dropped += len(item)
        with self._cv:
            self._queued -= dropped
            self._cv.notify_all()
        self._fed += dropped
        behind_s = self.inner.unprocessed_s if hasattr(self.inner, "unprocessed_s") else dropped / SAMPLE_RATE
        skip_to = getattr(self.inner, "skip_to", None)  # live transcribers can skip; others hear everything
        if skip_to is not None:
            skip_to(self._fed / SAMPLE_RATE)
        self.skipped_s += behind_s
        self.status.append(("skipped", behind_s, self.skipped_s))
        log.debug(
            "ASR %.1f s behind real time (limit %.1f s): skipped that audio, %.1f s in all",
            behind_s,
            self.max_backlog_s,
            self.skipped_s,
        )
