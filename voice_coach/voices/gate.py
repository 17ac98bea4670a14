"""A streaming voice filter for one microphone: speech that is clearly not the agent's is silenced.

``voice-coach live`` with one microphone hears the caller leaking through the headset and colleagues
nearby as if they were the agent. With the agent's voice print (``voice-coach calibrate`` stores it in
the profile), ``VoiceGate`` judges the stream block by block, before the agent's analyzer and
transcriber see it:

1. The stream is cut into blocks of ``BLOCK_FRAMES`` Silero VAD frames (6 x 32 ms = 0.192 s). A block
   is speech when at least ``SPEECH_FRAMES`` of its frames are (the VAD that ships in faster-whisper,
   the same detector as the offline voice split). Speech less than ``gap_s`` apart is one *turn*.
2. For a block of speech, the audio of the current turn ending at the block's end, at most
   ``window_s`` (1.6 s, one GE2E partial) of it, is brought to one loudness, ``level_db`` (GE2E's
   power mel front end is not level-invariant: the same speech 10 dB quieter is about 0.17 less similar
   to itself, 20 dB quieter 0.25, so an agent who gets loud would stop sounding like themselves; the live app uses the
   profile's calm loudness plus ``LEVEL_OFFSET_DB``, near the level the voice print was made at),
   and embedded with the GE2E encoder. The block is judged on the mean cosine similarity to the voice
   print of the turn's last ``SMOOTH_WINDOWS`` windows (about 1 s of blocks): ``other`` when below
   ``threshold``, else ``agent``. The mean smooths the dips of single windows (an upset agent's windows
   dip most); keeping it short lets a voice that takes over without a pause (the agent talking over
   an angry caller) be heard as itself within a second.
3. While the turn holds less than ``min_window_s`` of audio there is too little voice to judge: its
   blocks wait, up to ``hold_s``, for the first judgement of the turn, which then applies to them
   too; a block that waited ``hold_s`` (rounded up to whole blocks) without one is let through as
   ``unsure`` (kept as the agent's).
4. A turn clearly louder than the agent's calm speech (``loud_db``, the profile's calm loudness, plus
   ``LOUD_KEEP_DB``, 6 dB) is kept whatever its voice: the agent's mouth is next to their microphone, so
   the caller leaking through the headset and a colleague across the desk reach it quieter, while an
   upset agent gets louder and their voice moves furthest from their calm voice print.
5. ``other`` blocks are replaced by silence, and so is non-speech right after them (within ``gap_s``:
   the tail of the other voice that the VAD no longer calls speech). Everything else passes unchanged.

Its job is to drop voices that are clearly someone else's, not to diarize: judging a window against a
voice print is weak for fine attribution, so every doubt keeps the audio, because a missed cue is worse
than a leaked sentence (docs/voiceprint.md, docs/benchmarks/live_voicefilter.md). The delay it adds to
what the analyzer sees is at most one block plus ``hold_s`` (0.576 s) plus the time to embed a window.

Pure and stateful, no I/O: ``feed`` takes 16 kHz mono float32 audio and returns the audio it has
decided on (same length in total, possibly later), ``flush`` the rest at the end of the stream.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

__all__ = ["THRESHOLD", "GateBlock", "GateStats", "VoiceGate"]

SAMPLE_RATE = 16000
VAD_FRAME = 512
"""Silero VAD frame (32 ms at 16 kHz)."""
BLOCK_FRAMES = 6
"""VAD frames per block: a block is 0.192 s, the unit of decision."""
SPEECH_FRAMES = 2
"""VAD frames of a block that must be speech for the block to be speech."""
VAD_THRESHOLD = 0.5
"""Silero's speech probability above which a frame is speech (its own default)."""
LEVEL_DBFS = -30.0
"""RMS level every window is brought to before it is embedded, when no ``level_db`` is given."""
LEVEL_OFFSET_DB = 5.0
"""``level_db`` = the profile's calm loudness (its voice print was made from the same recordings) plus this
(0 and +5 dB compared on RAVDESS actors 01-08; +5 separated the voices better)."""
THRESHOLD = 0.62
"""Mean cosine similarity to the voice print below which a turn's blocks are another voice (chosen with
``LOUD_KEEP_DB`` on RAVDESS actors 01-08, checked on 09-12: docs/benchmarks/live_voicefilter.md)."""
LOUD_KEEP_DB = 6.0
"""A turn whose window is louder than the agent's calm loudness plus this is the agent's (see rule 4). Chosen
with ``THRESHOLD`` on RAVDESS actors 01-08 among -3, 0, +3 and +6 dB: the pair that silences most of the other
voices' angry speech while the agents keep 98 % of their calm and of their angry speech."""
MIN_WINDOW_S = 0.5
"""Audio of a turn needed before it is judged (shorter windows are too little voice to embed)."""
HOLD_S = 0.384
"""How long a block of a new turn may wait for its turn's first judgement, after it is complete (counted in
whole blocks: two). A sample thus reaches the analyzer at most a block plus this late: 0.576 s."""
SMOOTH_WINDOWS = 5
"""Windows of a turn averaged for a block's judgement (one per 0.192 s block: the last 0.96 s)."""
GAP_S = 0.3
"""Non-speech shorter than this does not end a turn."""


@dataclass(frozen=True)
class GateBlock:
    """One decided block: stream times, ``verdict`` (``agent``, ``other``, ``unsure``, ``silence``) and
    the turn's mean similarity to the voice print that decided it (None when no window was embedded);
    ``loud``: kept for its loudness (rule 4); ``level_db``: the RMS level (dBFS) of the window that decided it."""

    start_s: float
    end_s: float
    verdict: str
    similarity: float | None
    loud: bool = False
    level_db: float | None = None


@dataclass
class GateStats:
    """What the gate did so far: seconds of speech judged each way, windows embedded and their cost."""

    speech_s: float = 0.0
    agent_s: float = 0.0
    other_s: float = 0.0
    unsure_s: float = 0.0
    silenced_s: float = 0.0
    """All audio replaced by silence: ``other`` speech and the non-speech tails after it."""
    windows: int = 0
    embed_s: float = 0.0
    """Processor time spent embedding windows (wall clock)."""

    def to_dict(self) -> dict:
        return {
            "speech_s": round(self.speech_s, 2),
            "agent_s": round(self.agent_s, 2),
            "other_s": round(self.other_s, 2),
            "unsure_s": round(self.unsure_s, 2),
            "silenced_s": round(self.silenced_s, 2),
            "windows": self.windows,
            "embed_ms_per_window": round(1000 * self.embed_s / self.windows, 1) if self.windows else None,
        }


Silenced = tuple[float, float, float | None]
"""A stretch of silenced speech: start and end (stream seconds), the highest similarity that silenced it."""


@dataclass
class _Pending:
    audio: np.ndarray
    start: int  # first sample, stream index
    speech: bool
    turn: int
    since: int  # stream sample count when it was queued


class VoiceGate:
    """Silences speech that is clearly not the voice print's (see the module docstring).

    ``voiceprint``: the agent's (256,) voice print (need not be normalised). ``encoder``: a
    ``VoiceEncoder`` (default: the shipped one, loaded once); ``vad``: a callable giving Silero speech
    probabilities for 512-sample frames (default: faster-whisper's model). ``keep_blocks``: keep every
    decided block in ``blocks`` (benchmarks and tests; off in a live session, where they would pile up).
    """

    def __init__(
        self,
        voiceprint,
        *,
        threshold: float = THRESHOLD,
        window_s: float = 1.6,
        min_window_s: float = MIN_WINDOW_S,
        hold_s: float = HOLD_S,
        gap_s: float = GAP_S,
        level_db: float = LEVEL_DBFS,
        loud_db: float | None = None,
        encoder=None,
        vad=None,
        keep_blocks: bool = False,
    ):
        vp = np.asarray(voiceprint, dtype=np.float64).ravel()
        norm = float(np.linalg.norm(vp))
        if vp.size == 0 or not np.isfinite(norm) or norm == 0:
            raise ValueError("the voice gate needs a non-zero, finite voice print")
        self.voiceprint = (vp / norm).astype(np.float32)
        self.threshold = float(threshold)
        self.level = 10 ** (float(level_db) / 20)
        self.loud = None if loud_db is None else 10 ** ((float(loud_db) + LOUD_KEEP_DB) / 20)
        self.window = int(round(window_s * SAMPLE_RATE))
        self.min_window = int(round(min_window_s * SAMPLE_RATE))
        self.hold = int(round(hold_s * SAMPLE_RATE))
        self.gap = int(round(gap_s * SAMPLE_RATE))
        self.block = BLOCK_FRAMES * VAD_FRAME
        if encoder is None:
            from voice_coach.voices.encoder import load_encoder

            encoder = load_encoder()
        if vad is None:
            from faster_whisper.vad import get_vad_model

            vad = get_vad_model()
        self.encoder = encoder
        self.vad = vad
        self.stats = GateStats()
        self.blocks: list[GateBlock] | None = [] if keep_blocks else None
        self._in = np.zeros(0, np.float32)  # received, not yet a whole block
        self._seen = 0  # samples cut into blocks so far
        self._history = np.zeros(0, np.float32)  # the last window + block of audio, ending at ``_seen``
        self._prev_frame = np.zeros(VAD_FRAME, np.float32)
        self._pending: deque[_Pending] = deque()
        self._turn = 0
        self._turn_start: int | None = None
        self._turn_sims: list[float] = []
        self._last_speech_end = -(10**12)
        self._first: tuple[str, float, bool, float] | None = None  # the current turn's first judgement
        self._other_until = -1  # non-speech before this sample is the tail of another voice
        self._silenced_run: Silenced | None = None  # the stretch being silenced now
        self._silenced_done: list[Silenced] = []

    # ------------------------------------------------------------------------------------ stream
    def feed(self, audio: np.ndarray) -> np.ndarray:
        """Take the next audio; return the audio decided so far (possibly empty), in stream order."""
        x = np.asarray(audio, dtype=np.float32).ravel()
        self._in = np.concatenate([self._in, x]) if self._in.size else x.copy()
        out: list[np.ndarray] = []
        while self._in.size >= self.block:
            block, self._in = self._in[: self.block], self._in[self.block :]
            out.extend(self._block(block))
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def flush(self) -> np.ndarray:
        """The end of the stream: decide what is still held (a partial last block passes as it is)."""
        out = [self._release(p, *self._first_of(p)) for p in self._pending]
        self._pending.clear()
        if self._in.size:
            out.append(self._in)
            self._in = np.zeros(0, np.float32)
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def take_silenced(self, *, final: bool = False) -> list[Silenced]:
        """Stretches of speech silenced since the last call, each ``(start_s, end_s, similarity)`` in
        stream seconds, once released audio that is not silenced follows them (``final``: also the one
        still running, at the end of the stream)."""
        if final:
            self._close_silenced()
        done, self._silenced_done = self._silenced_done, []
        return done

    @property
    def held_s(self) -> float:
        """Audio received but not yet released."""
        return (self._in.size + sum(p.audio.size for p in self._pending)) / SAMPLE_RATE

    # ------------------------------------------------------------------------------------ one block
    def _block(self, block: np.ndarray) -> list[np.ndarray]:
        start = self._seen
        self._seen += block.size
        self._history = np.concatenate([self._history, block])[-(self.window + self.block) :]
        probs = np.asarray(self.vad(np.concatenate([self._prev_frame, block])), dtype=np.float64).ravel()[1:]
        self._prev_frame = block[-VAD_FRAME:].copy()
        speech_frames = np.flatnonzero(probs >= VAD_THRESHOLD)
        speech = speech_frames.size >= SPEECH_FRAMES
        if speech:
            first = start + int(speech_frames[0]) * VAD_FRAME
            if self._turn_start is None or first - self._last_speech_end > self.gap:
                self._turn += 1
                self._turn_start = first
                self._turn_sims = []
                self._first = None
            self._last_speech_end = start + (int(speech_frames[-1]) + 1) * VAD_FRAME
            turn_audio = self._seen - self._turn_start
            if turn_audio >= self.min_window:
                sim, rms = self._similarity(min(turn_audio, self.window))
                self._turn_sims = [*self._turn_sims[-(SMOOTH_WINDOWS - 1) :], sim]
                similarity = float(np.mean(self._turn_sims))
                loud = self.loud is not None and rms >= self.loud
                verdict = "agent" if loud or similarity >= self.threshold else "other"
                if self._first is None:
                    self._first = (verdict, similarity, loud, _db(rms))
                # blocks of this turn that waited take its first judgement; this block takes its own
                out = [self._release(p, *self._first_of(p)) for p in self._pending]
                self._pending.clear()
                out.append(
                    self._release(
                        _Pending(block, start, True, self._turn, self._seen), verdict, similarity, loud, _db(rms)
                    )
                )
                if verdict == "other":
                    self._other_until = self._seen + self.gap
                return out
        self._pending.append(_Pending(block, start, speech, self._turn if speech else 0, self._seen))
        out = []
        while self._pending and (
            not any(p.speech for p in self._pending) or self._seen - self._pending[0].since >= self.hold
        ):
            p = self._pending.popleft()
            out.append(self._release(p, "unsure" if p.speech else "silence"))
        return out

    def _first_of(self, p: _Pending) -> tuple[str, float | None, bool, float | None]:
        """A waiting block's verdict: its turn's first judgement when there is one, else unsure."""
        if p.speech and p.turn == self._turn and self._first is not None:
            return self._first
        return ("unsure" if p.speech else "silence", None, False, None)

    def _similarity(self, n: int) -> tuple[float, float]:
        """Similarity to the voice print of the last ``n`` samples, and their RMS level (linear)."""
        window = self._history[-n:].astype(np.float64)
        rms = float(np.sqrt(np.mean(window**2)))
        if rms > 0:
            window *= self.level / rms
        t0 = time.perf_counter()
        # a turn shorter than the window is repeated to fill it (the encoder's rule for short stretches)
        emb = self.encoder.embed_windows(
            window.astype(np.float32),
            np.zeros(1),
            window_s=self.window / SAMPLE_RATE,
            ends_s=np.array([n / SAMPLE_RATE]),
        )[0]
        self.stats.embed_s += time.perf_counter() - t0
        self.stats.windows += 1
        return float(np.dot(emb, self.voiceprint)), rms

    def _release(
        self,
        p: _Pending,
        verdict: str,
        similarity: float | None = None,
        loud: bool = False,
        level_db: float | None = None,
    ) -> np.ndarray:
        seconds = p.audio.size / SAMPLE_RATE
        if not p.speech:
            verdict = "silence"
        if p.speech:
            self.stats.speech_s += seconds
            setattr(self.stats, f"{verdict}_s", getattr(self.stats, f"{verdict}_s") + seconds)
        silenced = verdict == "other" or (verdict == "silence" and p.start < self._other_until)
        if self.blocks is not None:
            self.blocks.append(
                GateBlock(
                    p.start / SAMPLE_RATE,
                    (p.start + p.audio.size) / SAMPLE_RATE,
                    "other" if silenced and not p.speech else verdict,
                    similarity,
                    loud,
                    level_db,
                )
            )
        self._track_silenced(p, verdict == "other", similarity)
        if silenced:
            self.stats.silenced_s += seconds
            return np.zeros_like(p.audio)
        return p.audio

    def _track_silenced(self, p: _Pending, other_speech: bool, similarity: float | None) -> None:
        """Join consecutive silenced speech blocks (with the pauses between them) into one stretch, keeping
        the highest similarity that silenced it; a stretch ends at the next block of speech that passes."""
        if other_speech:
            end = (p.start + p.audio.size) / SAMPLE_RATE
            run = self._silenced_run or (p.start / SAMPLE_RATE, end, None)
            best = max((v for v in (run[2], similarity) if v is not None), default=None)
            self._silenced_run = (run[0], end, best)
        elif p.speech:
            self._close_silenced()

    def _close_silenced(self) -> None:
        if self._silenced_run is not None:
            self._silenced_done.append(self._silenced_run)
            self._silenced_run = None


def _db(rms: float) -> float:
    return float(20 * np.log10(max(rms, 1e-10)))
