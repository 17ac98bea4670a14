"""Streaming transcription with faster-whisper: LocalAgreement-2 over a sliding audio buffer.

Whisper transcribes whole windows, not streams. :class:`OnlineTranscriber` turns it into a stream
the way ufal/whisper_streaming does (Macháček et al., 2023): keep a buffer of recent audio,
re-transcribe all of it whenever enough new audio has arrived, and *commit* only the words on
which two consecutive hypotheses agree. A committed word is final: it is never revised.

Lifecycle (the Transcriber protocol of docs/CONTRACT.md)::

    tr = OnlineTranscriber(load_model())
    for chunk in chunks:            # 16 kHz float32 mono, a contiguous stream
        tr.insert_audio(chunk)      # cheap; may be called from the capture thread
        words = tr.process()        # newly committed words (often empty)
    words = tr.finish()             # flush the rest at the end of the stream

Cost control, measured on a 2-core machine (see docs/live.md):

* Whisper pads every call to a 30 s window, so even a 2 s buffer costs ~0.44 CPU-s (tiny.en int8);
  more text to decode adds to it (~0.59 CPU-s at 10 s, ~0.84 at 25 s). What matters most is how
  *often* whisper runs, which ``min_chunk_s`` sets, then the buffer length, which trimming bounds.
* A call only happens when the new audio holds speech (Silero VAD, ~1 ms per second of audio) or
  words are still waiting for agreement. While the agent listens, the transcriber costs ~nothing,
  and the buffer is cut back to the committed end.
* The buffer is cut at a committed boundary once it is longer than ``buffer_trim_s``, and force
  committed past ``max_buffer_s``, so word lag cannot creep over a long call.

Hallucinations: no words come from audio in which the VAD finds no speech; segments that whisper
itself marks as no-speech are dropped; decoding loops are dropped by ``loops.loop_free_words``, the
filter recordings use too (repetitive text is kept only where the buffer's audio is voiced under
it, at a plausible number of words per voiced second, so speech that really repeats is kept);
tokens with no letters or digits ("♪", "...") are dropped; committed words whose probability is
below ``min_word_probability`` (default 0.1) in both agreeing hypotheses are dropped.
The probability cut is applied after agreement, not before, so that a word hovering around the
threshold does not make two hypotheses disagree and stall the commit. Words squashed to no duration
at the very end of the buffer were guessed, not heard, and are not part of a hypothesis. There is
no prompt by default: with tiny.en it made whisper skip or invent words (docs/live.md).
"""

from __future__ import annotations

import logging
import threading
from difflib import SequenceMatcher

import numpy as np

from voice_coach import SAMPLE_RATE
from voice_coach.asr.loops import SpeechEvidence, loop_free_words
from voice_coach.engine.events import Word
from voice_coach.errors import ConfigError
from voice_coach.text import normalize_text

log = logging.getLogger("voice_coach")

__all__ = ["OnlineTranscriber", "transcribe_stream"]


def normalise_word(text: str) -> str:
    """The form two hypotheses are compared in: ``voice_coach.text.normalize_text``, fillers kept
    (a transcript keeps its "um"s), ``""`` for a token with no letters or digits."""
    return normalize_text(text, drop_fillers=False)


class _HypothesisBuffer:
    """LocalAgreement-2 bookkeeping: the pending hypothesis and the committed words' end.

    Each new hypothesis is cut to the words past what is committed (``after_committed``), then
    ``agree`` commits the prefix it shares with the pending one and keeps the rest pending.
    Committed words are final; their times only ever move forward.
    """

    def __init__(self, offset_s: float, min_word_probability: float, anchor_words: int) -> None:
        self.min_word_probability = min_word_probability
        self.anchor_words = anchor_words
        self.pending: list[Word] = []  # last hypothesis, not yet agreed on
        self.committed_tail: list[Word] = []  # recent committed words, for prompt and de-duplication
        self.last_end_s = offset_s  # end of the last committed word
        self.floor_s = offset_s  # no word may start before this (skip_to, committed end)

    def agree(self, hypothesis: list[Word]) -> list[Word]:
        """Commit what ``hypothesis`` agrees on with the pending one; keep the rest pending."""
        agreed = 0
        for old, cur in zip(self.pending, hypothesis, strict=False):
            if normalise_word(old.text) != normalise_word(cur.text):
                break
            agreed += 1
        if self.anchor_words and agreed < min(len(self.pending), len(hypothesis)):
            agreed += self.anchored(self.pending[agreed:], hypothesis[agreed:])
        committed = self.commit(hypothesis[:agreed], self.pending[:agreed])
        self.pending = hypothesis[agreed:]
        return committed

    def force_before(self, end_s: float) -> list[Word]:
        """Commit the pending words that end before ``end_s`` as they are (no agreement)."""
        forced = [w for w in self.pending if w.end_s < end_s]
        committed = self.commit(forced)
        self.pending = self.pending[len(forced) :]
        return committed

    def flush_before(self, skip_s: float) -> list[Word]:
        """Audio before ``skip_s`` is gone: commit the pending words on it, drop the rest, raise the floor."""
        committed = self.commit([w for w in self.pending if w.end_s <= skip_s])
        self.pending = []
        self.floor_s = max(self.floor_s, skip_s)
        return committed

    def drop_pending_before(self, start_s: float) -> None:
        """Forget pending words that start before ``start_s`` (their audio was cut)."""
        self.pending = [w for w in self.pending if w.start_s >= start_s]

    def prompt_text(self, start_s: float) -> str:
        """The committed tail's words that end before the buffer's start ``start_s``, joined."""
        return " ".join(w.text for w in self.committed_tail if w.end_s <= start_s + 0.05)

    def after_committed(self, words: list[Word]) -> list[Word]:
        """The words of a hypothesis that extend what is committed.

        A hypothesis covers the whole buffer, so it starts with words that are already committed,
        often with shifted times (and after a trim, with wrong times for the first words). The
        split is found by text first: the hypothesis position, near the committed end in time,
        after which it repeats the most of the last committed words. Failing that, by time: a
        word is old if most of it lies before the committed end.
        """
        last_end = self.last_end_s
        norm = [normalise_word(w.text) for w in words]
        tail = [normalise_word(w.text) for w in self.committed_tail[-3:]]
        split, best = None, (0, 0.0)
        for j in range(1, len(words) + 1):
            if words[j - 1].start_s > last_end + 0.3:
                break  # from here on, words begin after the committed end: they are new
            distance = abs(words[j - 1].end_s - last_end)
            if distance > 1.5:
                continue
            m = 0
            while m < min(j, len(tail)) and norm[j - 1 - m] == tail[-1 - m]:
                m += 1
            if m and (m, -distance) > (best[0], -best[1]):
                split, best = j, (m, distance)
        if split is None:
            split = sum(1 for w in words if (w.start_s + w.end_s) / 2 <= last_end - 0.05 or w.end_s <= last_end)
        # audio before the floor (skip_to) is gone: nothing there can be new
        return [w for w in words[split:] if w.end_s > self.floor_s]

    def anchored(self, old: list[Word], new: list[Word]) -> int:
        """How many words of ``new`` to commit past a disputed word, 0 if none.

        Plain LocalAgreement stalls while whisper flips one hard word between two spellings
        ("two outages" / "how they"): nothing after it commits either. When the hypotheses
        differ only by substitutions of at most 3 words, each followed by at least
        ``anchor_words`` words that both agree on at the same time (±0.5 s), the newest
        hypothesis is committed up to the end of the last such anchor.
        """
        a = [normalise_word(w.text) for w in old]
        b = [normalise_word(w.text) for w in new]
        upto = 0
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag == "equal":
                if i2 - i1 >= self.anchor_words and abs(old[i1].start_s - new[j1].start_s) <= 0.5:
                    upto = j2
                else:
                    break
            elif tag != "replace" or i2 - i1 > 3 or j2 - j1 > 3:
                break
        return upto

    def commit(self, words: list[Word], previous: list[Word] | None = None) -> list[Word]:
        """Commit ``words`` (times made monotonic); return those not dropped for low probability.

        A word's probability is the higher of its own and that in ``previous`` (the agreeing
        hypothesis), so a word is dropped only when both hypotheses were unsure of it.
        """
        out = []
        for i, w in enumerate(words):
            if w.start_s < self.last_end_s:  # keep committed times monotonic
                w = Word(self.last_end_s, max(w.end_s, self.last_end_s), w.text, w.probability)
            p = w.probability
            if previous is not None and i < len(previous):
                p = max(p, previous[i].probability)
            if w.end_s > self.last_end_s:
                self.last_end_s = w.end_s
            if p >= self.min_word_probability:
                out.append(w)
        if words:
            self.floor_s = max(self.floor_s, self.last_end_s)
            self.committed_tail = (self.committed_tail + out)[-60:]
        return out


class OnlineTranscriber:
    """Incremental transcription of one 16 kHz mono stream (LocalAgreement-2).

    Parameters
    ----------
    model : faster_whisper.WhisperModel
        From :func:`voice_coach.asr.model.load_model`.
    language : str
        Language code passed to whisper (``"en"`` for the ``*.en`` models).
    min_chunk_s : float
        Transcribe again only once this much new audio has arrived (s). Sets the CPU cost: one
        whisper call per ``min_chunk_s`` of speech.
    buffer_trim_s : float
        Once the buffer is longer than this (s), cut it at the last committed boundary (end of a
        segment whisper closed, else the end of the last committed word).
    max_buffer_s : float
        If agreement never comes and the buffer grows past this (s, at most 30, whisper's window),
        commit the current hypothesis and cut the buffer.
    vad : bool
        Gate whisper with Silero VAD (and pass ``vad_filter=True``): silence, noise and hold music
        yield no words and cost no whisper call.
    offset_s : float
        Stream time of the first sample inserted (s); word times are ``offset_s`` + samples / 16 kHz.
    beam_size : int
        Whisper beam size; 1 (greedy) is the fastest and, with agreement on top, accurate enough.
    min_word_probability : float
        Committed words below this probability (0-1) in both agreeing hypotheses are dropped.
    prompt_chars : int
        Prompt whisper with the last ``prompt_chars`` characters of committed text that lies before
        the buffer. Off (0) by default: with tiny.en a prompt made whisper skip words that repeat
        it and "hear" the prompt's continuation at the end of the buffer, and did not improve the
        word error rate measured on espeak-ng speech (docs/live.md).

    Notes
    -----
    ``insert_audio`` and ``skip_to`` may be called from another thread than ``process``/``finish``:
    they only touch a small queue under a lock and never wait for a transcription.
    """

    def __init__(
        self,
        model,
        *,
        language: str = "en",
        min_chunk_s: float = 1.0,
        buffer_trim_s: float = 10.0,
        max_buffer_s: float = 25.0,
        vad: bool = True,
        offset_s: float = 0.0,
        beam_size: int = 1,
        min_word_probability: float = 0.1,
        prompt_chars: int = 0,
        anchor_words: int = 2,
    ) -> None:
        if min_chunk_s <= 0:
            raise ConfigError(f"min_chunk_s must be > 0 s, got {min_chunk_s}")
        if not 0 < buffer_trim_s < max_buffer_s <= 30.0:
            raise ConfigError(
                f"need 0 < buffer_trim_s < max_buffer_s <= 30 s (whisper's window), "
                f"got buffer_trim_s={buffer_trim_s}, max_buffer_s={max_buffer_s}"
            )
        if beam_size < 1:
            raise ConfigError(f"beam_size must be >= 1, got {beam_size}")
        self.model = model
        self.language = language
        self.min_chunk_s = float(min_chunk_s)
        self.buffer_trim_s = float(buffer_trim_s)
        self.max_buffer_s = float(max_buffer_s)
        self.vad = bool(vad)
        self.offset_s = float(offset_s)
        self.beam_size = int(beam_size)
        self.min_word_probability = float(min_word_probability)
        self.prompt_chars = int(prompt_chars)
        self.anchor_words = int(anchor_words)

        self._lock = threading.Lock()
        self._incoming: list[tuple[int, np.ndarray]] = []  # (stream sample index, samples)
        self._received = 0  # samples handed to insert_audio (stream clock)
        self._discard_until = 0  # samples before this index are dropped (skip_to)
        self._applied_discard = 0  # the skip point the buffer already reflects

        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0  # stream sample index of _buffer[0]
        self._transcribed_until = 0  # stream sample index the last hypothesis saw
        self._hyp = _HypothesisBuffer(self.offset_s, self.min_word_probability, self.anchor_words)
        self._flushed: list[Word] = []  # committed by a skip, returned by the next process()
        self._segment_ends_s: list[float] = []
        self.calls = 0  # whisper calls made (for monitoring and tests)
        self.dropped_loop_words = 0  # words dropped as decoding loops, in audio no call had seen before
        self._skipped = 0  # samples dropped by skip_to

    # --- monitoring -------------------------------------------------------------------------
    @property
    def buffer_s(self) -> float:
        """Length of the audio buffer whisper sees on the next call (s)."""
        return (self._buffer.size + self._incoming_samples()) / SAMPLE_RATE

    @property
    def last_committed_end_s(self) -> float:
        """End of the last committed word (stream s); ``offset_s`` before the first."""
        return self._hyp.last_end_s

    @property
    def stream_end_s(self) -> float:
        """Stream time of the end of the audio inserted so far (s)."""
        return self.offset_s + self._received / SAMPLE_RATE

    @property
    def unprocessed_s(self) -> float:
        """Audio inserted that no transcription has seen yet (s): how far ASR is behind."""
        return max(0, self._received - max(self._transcribed_until, self._discard_until)) / SAMPLE_RATE

    def _incoming_samples(self) -> int:
        with self._lock:
            return sum(c.size for _, c in self._incoming)

    # --- input ------------------------------------------------------------------------------
    def insert_audio(self, audio: np.ndarray) -> None:
        """Append the next samples of the stream (16 kHz mono float32, any length)."""
        chunk = np.asarray(audio, dtype=np.float32)
        if chunk.ndim == 2 and chunk.shape[1] == 1:
            chunk = chunk[:, 0]
        if chunk.ndim != 1:
            raise ValueError(f"insert_audio wants mono audio of shape (n,), got {chunk.shape}")
        with self._lock:
            start = self._received
            self._received += chunk.size
            drop = min(chunk.size, max(0, self._discard_until - start))
            self._skipped += drop
            if drop:
                log.debug("streaming ASR: skipped %.2f s of audio on arrival (skip_to)", drop / SAMPLE_RATE)
            if drop < chunk.size:
                self._incoming.append((start + drop, chunk[drop:].copy()))

    def skip_to(self, t_s: float) -> None:
        """Drop buffered (and not yet inserted) audio before stream time ``t_s``.

        For an engine that fell behind real time. Committed words stay; words of the last
        hypothesis that lie before ``t_s`` can no longer be confirmed, so they are committed as
        whisper last heard them; later words keep correct stream times. Applied on the next
        ``process()``/``finish()`` (which return those words), in the transcribing thread.
        """
        target = int(round((t_s - self.offset_s) * SAMPLE_RATE))
        with self._lock:
            self._discard_until = max(self._discard_until, target)

    @property
    def skipped_s(self) -> float:
        """Audio dropped by ``skip_to`` so far (s)."""
        return self._skipped / SAMPLE_RATE

    def _drain(self) -> None:
        """Move inserted audio into the buffer and apply a pending ``skip_to``."""
        with self._lock:
            incoming, self._incoming = self._incoming, []
            discard = self._discard_until
        parts = [self._buffer]
        end = self._buffer_end
        for start, chunk in incoming:
            if start != end:
                # a gap: skip_to dropped the audio before ``start``, so the buffer is older still
                self._skipped += max(0, end - max(self._transcribed_until, self._buffer_start))
                parts, self._buffer_start = [], start
            parts.append(chunk)
            end = start + chunk.size
        if incoming:
            self._buffer = np.concatenate(parts) if len(parts) > 1 else parts[0]
        if discard > self._applied_discard:
            self._applied_discard = discard
            cut = min(discard, self._buffer_end)
            if cut > self._buffer_start:
                self._skipped += max(0, cut - max(self._transcribed_until, self._buffer_start))
                self._cut_buffer(cut)
            # words waiting for agreement can no longer get it: keep whisper's last word on them
            skip_s = self._time(discard)
            self._flushed += self._hyp.flush_before(skip_s)
            self._transcribed_until = max(self._transcribed_until, discard)

    # --- helpers ----------------------------------------------------------------------------
    def _time(self, sample: int) -> float:
        return self.offset_s + sample / SAMPLE_RATE

    def _sample(self, t_s: float) -> int:
        return int(round((t_s - self.offset_s) * SAMPLE_RATE))

    @property
    def _buffer_end(self) -> int:
        return self._buffer_start + self._buffer.size

    def _cut_buffer(self, at_sample: int) -> None:
        at_sample = min(max(at_sample, self._buffer_start), self._buffer_end)
        self._buffer = self._buffer[at_sample - self._buffer_start :].copy()
        self._buffer_start = at_sample
        self._segment_ends_s = [t for t in self._segment_ends_s if t > self._time(at_sample)]

    def _prompt(self) -> str | None:
        if self.prompt_chars <= 0:
            return None
        start_s = self._time(self._buffer_start)
        text = self._hyp.prompt_text(start_s)
        return text[-self.prompt_chars :].lstrip() or None

    def _has_new_speech(self) -> bool:
        """Whether audio since the last transcription (with 0.3 s look-back) holds speech."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        # the VAD sees the whole buffer for context, but only speech ending in the new part counts
        chunks = get_speech_timestamps(
            self._buffer, VadOptions(min_silence_duration_ms=100, speech_pad_ms=0), SAMPLE_RATE
        )
        since = max(self._transcribed_until, self._buffer_start) - self._buffer_start - int(0.3 * SAMPLE_RATE)
        return any(c["end"] > since for c in chunks)

    def _transcribe(self) -> list[Word]:
        """Words of the whole buffer (stream times), hallucination filters applied."""
        from faster_whisper.vad import VadOptions

        self.calls += 1
        segments, _info = self.model.transcribe(
            self._buffer,
            language=self.language,
            beam_size=self.beam_size,
            best_of=1,
            temperature=0.0,  # no fallback re-decoding: bounded cost per call
            condition_on_previous_text=False,
            initial_prompt=self._prompt(),
            word_timestamps=True,
            vad_filter=self.vad,
            vad_parameters=VadOptions() if self.vad else None,
        )
        base_s = self._time(self._buffer_start)
        end_s = self._time(self._buffer_end)
        words: list[Word] = []
        seg_ends: list[float] = []
        evidence = SpeechEvidence(self._buffer)
        # The buffer is decoded again on every call: a loop is counted once, in the call that first
        # heard the audio it lies on.
        new_from_s = self._time(max(self._transcribed_until, self._buffer_start)) - base_s
        for seg in segments:
            raw = seg.words or []
            seg_words = []
            keep = loop_free_words(raw, seg.text or "", evidence, offset_s=base_s)  # "thank you thank you ..."
            kept = set(keep)
            self.dropped_loop_words += sum(
                1 for k, w in enumerate(raw) if k not in kept and float(w.start) >= new_from_s
            )
            for i in keep:
                w = raw[i]
                text = w.word.strip()
                if not normalise_word(text):
                    continue  # "♪", "-", "..."
                start = min(base_s + float(w.start), end_s)
                seg_words.append(Word(start, min(max(base_s + float(w.end), start), end_s), text, float(w.probability)))
            if seg_words:
                words.extend(seg_words)
                seg_ends.append(seg_words[-1].end_s)
        # Words whisper places at the very end of the buffer, squashed to (almost) no duration,
        # were not heard but guessed (often a continuation of the prompt): not a hypothesis yet.
        while words and (
            words[-1].start_s >= end_s - 0.15
            or (words[-1].end_s - words[-1].start_s < 0.03 and words[-1].end_s >= end_s - 0.3)
        ):
            words.pop()
        self._segment_ends_s = seg_ends
        self._transcribed_until = self._buffer_end
        return words

    # --- the loop ---------------------------------------------------------------------------
    def process(self) -> list[Word]:
        """Transcribe if ``min_chunk_s`` of new audio has arrived; return newly committed words."""
        self._drain()
        flushed, self._flushed = self._flushed, []
        new = self._buffer_end - max(self._transcribed_until, self._buffer_start)
        if new < self.min_chunk_s * SAMPLE_RATE or self._buffer.size == 0:
            return flushed
        if self.vad and not self._hyp.pending and not self._has_new_speech():
            # silence, noise or hold music: no whisper call; keep only the last second
            self._transcribed_until = self._buffer_end
            self._cut_buffer(max(self._sample(self._hyp.last_end_s), self._buffer_end - SAMPLE_RATE))
            return flushed

        committed = self._hyp.agree(self._hyp.after_committed(self._transcribe()))
        if self.buffer_s > self.max_buffer_s:
            # no agreement for too long: take what whisper says, except a word cut by the buffer end
            committed += self._hyp.force_before(self._time(self._buffer_end) - 1.0)
        if self.buffer_s > self.buffer_trim_s:
            self._trim()
        return flushed + committed

    def _trim(self) -> None:
        """Cut the buffer at a committed boundary so that whisper's work stays bounded."""
        last_end = self._hyp.last_end_s
        if last_end <= self._time(self._buffer_start):
            # nothing committed inside the buffer: only the hard limit applies
            if self.buffer_s > self.max_buffer_s:
                self._cut_buffer(self._buffer_end - int(self.buffer_trim_s * SAMPLE_RATE))
                start_s = self._time(self._buffer_start)
                self._hyp.drop_pending_before(start_s)
            return
        # prefer the end of a segment whisper closed (a pause), else the last committed word
        closed = [t for t in self._segment_ends_s if t <= last_end + 0.05]
        cut_s = closed[-1] if closed and self._hyp.pending else last_end
        self._cut_buffer(self._sample(min(cut_s, last_end)))

    def finish(self) -> list[Word]:
        """Flush at the end of the stream: commit the final hypothesis of what is buffered."""
        self._drain()
        committed, self._flushed = self._flushed, []
        if self._buffer.size:
            unseen = self._buffer_end > max(self._transcribed_until, self._buffer_start)
            if unseen and (not self.vad or self._hyp.pending or self._has_new_speech()):
                hypothesis = self._hyp.after_committed(self._transcribe())
            else:
                hypothesis = self._hyp.pending
            committed += self._hyp.commit(hypothesis)
        self._hyp.pending = []
        self._cut_buffer(self._buffer_end)
        return committed


def transcribe_stream(model, audio: np.ndarray, chunk_s: float = 1.0, **options) -> list[Word]:
    """Feed ``audio`` (16 kHz mono) in ``chunk_s`` pieces, as a live source would; all words.

    No waiting happens: it shows what streaming gives, not when. For when, see
    ``simulate_realtime`` in benchmarks/realtime_reference.py.
    """
    tr = OnlineTranscriber(model, **options)
    step = max(1, int(round(chunk_s * SAMPLE_RATE)))
    words: list[Word] = []
    for i in range(0, len(audio), step):
        tr.insert_audio(audio[i : i + step])
        words += tr.process()
    return words + tr.finish()
