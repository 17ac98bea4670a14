"""OnlineTranscriber (LocalAgreement-2 streaming): lifecycle on a scripted model, then the real one.

The scripted model knows where its buffer starts because the test audio *is* the clock: sample i
holds the value i / 2**24 (exact in float32), so the first sample of a buffer tells its stream
position. It answers with the words of a script that lie inside the buffer, the last one garbled
while it is still being spoken, and word times jittered from call to call, as whisper's are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from voice_coach.asr.streaming import OnlineTranscriber, normalise_word, transcribe_stream
from voice_coach.engine.events import Word
from voice_coach.errors import ConfigError

SR = 16000
SAMPLES = Path(__file__).resolve().parent.parent / "samples"
JFK = "and so my fellow americans ask not what your country can do for you ask what you can do for your country"


def clock_audio(seconds: float, start_s: float = 0.0) -> np.ndarray:
    """Audio whose sample i (from stream start) is i / 2**24."""
    start = int(round(start_s * SR))
    return (np.arange(start, start + int(round(seconds * SR))) / 2**24).astype(np.float32)


@dataclass
class FakeWord:
    start: float
    end: float
    word: str
    probability: float = 0.9


@dataclass
class FakeSegment:
    words: list
    text: str = ""


@dataclass
class ScriptedModel:
    """Stands in for faster-whisper's WhisperModel; words are (start_s, end_s, text) in stream time."""

    script: list[tuple[float, float, str]]
    jitter_s: float = 0.06
    garble_last: bool = True
    disagree: bool = False  # every call spells every word differently: nothing ever agrees
    offset_s: float = 0.0
    calls: list[dict] = field(default_factory=list)
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def transcribe(self, audio, **options):
        self.calls.append(dict(options, n=len(audio)))
        start_s = self.offset_s + round(float(audio[0]) * 2**24) / SR
        end_s = start_s + len(audio) / SR
        words = []
        for ws, we, text in self.script:
            if ws < start_s - 0.05 or ws >= end_s - 0.05:
                continue
            if self.disagree:
                text = f"{text}{len(self.calls)}"
            elif we > end_s - 0.1 and self.garble_last:
                text = text[: max(1, len(text) // 2)] + "..."  # heard only in part
            j = self.rng.uniform(-self.jitter_s, self.jitter_s)
            words.append(FakeWord(max(0.0, ws - start_s + j), max(0.0, min(we, end_s) - start_s + j), " " + text))
        segments = [FakeSegment(words, " ".join(w.word for w in words))] if words else []
        return iter(segments), None


def speech_script(seconds: float, *, word_s: float = 0.3, gap_s: float = 0.05, start_s: float = 0.0):
    """Distinct made-up words (text that does not compress like a repetition loop would)."""
    rng = np.random.default_rng(int(seconds * 10 + start_s))
    words, t, i = [], start_s, 0
    while t + word_s <= start_s + seconds:
        text = "".join(rng.choice(list("bcdfghklmnprstvz")) + rng.choice(list("aeiou")) for _ in range(3))
        words.append((round(t, 3), round(t + word_s, 3), f"{text}{i}"))
        t += word_s + gap_s
        i += 1
    return words


def run(tr: OnlineTranscriber, audio: np.ndarray, chunk_s: float = 0.5) -> list[tuple[Word, float]]:
    """Feed in chunks; (word, stream time when it was committed)."""
    out, step = [], int(chunk_s * SR)
    for i in range(0, len(audio), step):
        tr.insert_audio(audio[i : i + step])
        now = (i + len(audio[i : i + step])) / SR
        out += [(w, now) for w in tr.process()]
    end = len(audio) / SR
    return out + [(w, end) for w in tr.finish()]


# --- lifecycle on the scripted model ------------------------------------------------------------
def test_commits_every_word_once_in_order_after_two_hypotheses_agree():
    script = speech_script(20.0)
    model = ScriptedModel(script)
    tr = OnlineTranscriber(model, vad=False, min_chunk_s=1.0)
    got = run(tr, clock_audio(22.0))
    assert [w.text for w, _ in got] == [t for _, _, t in script]
    starts = [w.start_s for w, _ in got]
    assert starts == sorted(starts) and all(w.end_s >= w.start_s for w, _ in got)
    for (w, committed_at), (ws, we, _) in zip(got, script, strict=False):
        assert abs(w.start_s - ws) <= 0.1 and abs(w.end_s - we) <= 0.1
        # LocalAgreement: seen complete in one hypothesis, confirmed by the next (1 s later)
        assert 1.0 <= committed_at - we <= 2.6
    assert len(model.calls) <= 23
    assert tr.finish() == []


def test_options_passed_to_whisper():
    model = ScriptedModel(speech_script(6.0))
    tr = OnlineTranscriber(model, vad=False, beam_size=2, prompt_chars=20, buffer_trim_s=2.0, max_buffer_s=5.0)
    run(tr, clock_audio(6.0))
    first = model.calls[0]
    assert first["word_timestamps"] is True and first["condition_on_previous_text"] is False
    assert first["beam_size"] == 2 and first["language"] == "en" and first["vad_filter"] is False
    prompts = [c["initial_prompt"] for c in model.calls if c["initial_prompt"]]
    # after the buffer was trimmed, the prompt is committed text from before the buffer, capped
    assert prompts and all(len(p) <= 20 for p in prompts)
    assert prompts[-1].split()[-1] in [t for _, _, t in model.script]


def test_buffer_stays_bounded_over_a_long_stream():
    model = ScriptedModel(speech_script(180.0))
    tr = OnlineTranscriber(model, vad=False, buffer_trim_s=10.0, max_buffer_s=25.0)
    audio = clock_audio(182.0)
    sizes, committed = [], []
    for i in range(0, len(audio), SR // 2):
        tr.insert_audio(audio[i : i + SR // 2])
        committed += tr.process()
        sizes.append(tr.buffer_s)
    assert max(sizes) <= 10.0 + 1.0 + 0.5  # trimmed after the call that passes buffer_trim_s
    # a sawtooth (grow to buffer_trim_s, cut at a committed word); no creep from start to end
    assert np.mean(sizes[-160:]) <= np.mean(sizes[40:200]) + 1.0
    assert len(committed) >= len(model.script) - 4


def test_no_agreement_forces_a_commit_at_max_buffer():
    model = ScriptedModel(speech_script(40.0), disagree=True)
    tr = OnlineTranscriber(model, vad=False, anchor_words=0, buffer_trim_s=5.0, max_buffer_s=8.0)
    got = run(tr, clock_audio(40.0))
    assert tr.buffer_s <= 8.0
    assert len(got) >= len(model.script) // 2  # forced, not lost
    times = [w.start_s for w, _ in got]
    assert times == sorted(times)


def test_a_disputed_word_does_not_stall_what_follows():
    """Whisper flips one word between two spellings; the words after it still commit."""
    script = speech_script(12.0)

    class Flipping(ScriptedModel):
        def transcribe(self, audio, **options):
            segments, info = super().transcribe(audio, **options)
            segments = list(segments)
            for seg in segments:
                for w in seg.words:
                    if w.word.strip() == script[3][2]:
                        w.word = w.word if len(self.calls) % 2 else " something-else"
            return iter(segments), info

    for anchors, stalled in ((2, False), (0, True)):
        tr = OnlineTranscriber(Flipping(script), vad=False, anchor_words=anchors)
        got = run(tr, clock_audio(12.0), chunk_s=1.0)
        late = [t - w.end_s for w, t in got if w.text == script[10][2]]
        assert late, [w.text for w, _ in got]
        assert (late[0] > 6.0) is stalled


def test_skip_to_drops_audio_and_keeps_stream_times():
    script = speech_script(30.0)
    model = ScriptedModel(script)
    tr = OnlineTranscriber(model, vad=False)
    audio = clock_audio(30.0)
    words = []
    for i in range(0, 10 * SR, SR // 2):
        tr.insert_audio(audio[i : i + SR // 2])
        words += tr.process()
    tr.insert_audio(audio[10 * SR : 18 * SR])  # ASR fell behind: 8 s arrive at once
    assert tr.unprocessed_s == pytest.approx(8.0, abs=1.01)
    tr.skip_to(18.0)
    words += tr.process()
    assert tr.unprocessed_s == 0.0
    assert tr.skipped_s == pytest.approx(8.0, abs=1.01)
    for i in range(18 * SR, 30 * SR, SR // 2):
        tr.insert_audio(audio[i : i + SR // 2])
        words += tr.process()
    words += tr.finish()
    texts = [w.text for w in words]
    assert len(texts) == len(set(texts))
    after = [w for w in words if w.start_s >= 18.0]
    expected_after = [t for s, _, t in script if s >= 18.1]
    assert [w.text for w in after][-len(expected_after) :] == expected_after
    assert not [w for w in words if 10.5 < w.start_s < 17.9]  # skipped audio: no words


def test_skip_to_beyond_what_was_inserted_drops_future_audio():
    model = ScriptedModel(speech_script(12.0))
    tr = OnlineTranscriber(model, vad=False)
    audio = clock_audio(12.0)
    tr.insert_audio(audio[: 2 * SR])
    tr.skip_to(5.0)
    words = []
    for i in range(2 * SR, 12 * SR, SR // 2):
        tr.insert_audio(audio[i : i + SR // 2])
        words += tr.process()
    words += tr.finish()
    assert tr.skipped_s == pytest.approx(5.0, abs=0.01)
    assert words and min(w.start_s for w in words) >= 4.9
    assert tr.stream_end_s == pytest.approx(12.0)


def test_offset_shifts_word_times():
    script = speech_script(6.0, start_s=100.0)
    model = ScriptedModel(script, offset_s=100.0)
    tr = OnlineTranscriber(model, vad=False, offset_s=100.0)
    got = run(tr, clock_audio(7.0))
    assert [w.text for w, _ in got] == [t for _, _, t in script]
    assert got[0][0].start_s == pytest.approx(100.0, abs=0.1)
    assert tr.last_committed_end_s == pytest.approx(script[-1][1], abs=0.1)


def test_empty_and_short_input():
    model = ScriptedModel([])
    tr = OnlineTranscriber(model, vad=False, min_chunk_s=1.0)
    assert tr.process() == [] and tr.finish() == []
    tr.insert_audio(np.zeros(0, np.float32))
    tr.insert_audio(clock_audio(0.5))
    assert tr.process() == [] and model.calls == []  # less than min_chunk_s: no call
    assert tr.buffer_s == pytest.approx(0.5)
    with pytest.raises(ValueError):
        tr.insert_audio(np.zeros((10, 2), np.float32))


@pytest.mark.parametrize(
    "options",
    [{"min_chunk_s": 0}, {"buffer_trim_s": 20.0, "max_buffer_s": 10.0}, {"max_buffer_s": 31.0}, {"beam_size": 0}],
)
def test_invalid_options(options):
    with pytest.raises(ConfigError):
        OnlineTranscriber(ScriptedModel([]), **options)


def test_hallucination_filters():
    class Noisy(ScriptedModel):
        def transcribe(self, audio, **options):
            self.calls.append(options)
            if len(audio) < 3.2 * SR:
                return iter([]), None
            loop = [FakeWord(0.1 * i, 0.1 * i + 0.1, " thank you") for i in range(20)]
            music = [
                FakeWord(2.0, 2.5, " ♪"),
                FakeWord(2.5, 2.6, " ..."),
                FakeWord(2.6, 2.8, " um", 0.02),
                FakeWord(2.8, 3.0, " yes", 0.8),
            ]
            return iter([FakeSegment(loop, " ".join(w.word for w in loop)), FakeSegment(music, "♪ ... um yes")]), None

    tr = OnlineTranscriber(Noisy([]), vad=False, buffer_trim_s=20.0)
    got = run(tr, clock_audio(5.0))
    # the repetition loop (compression ratio > 2.4), the non-words and the improbable "um" are dropped
    assert [w.text for w, _ in got] == ["yes"]


def test_normalise_word():
    assert normalise_word(" Americans.") == "americans"
    assert normalise_word("Don't!") == "do not"  # the phrase matcher's normalisation, fillers kept
    assert normalise_word("Um,") == "um"
    assert normalise_word("24") == normalise_word("twenty-four") == "twenty four"
    assert normalise_word("♪") == ""


# --- decoding loops, speech that really repeats, skipped speech, word times ----------------------
PHRASE = ["four", "two", "seven,", "four", "two", "seven."]  # a read-back number, said 4 times


def repeated_speech(times: int = 4, *, phrase_s: float = 1.5, gap_s: float = 0.6, tail_s: float = 3.0):
    """Voice-like audio: ``times`` phrases of ``phrase_s`` s (4 syllables/s) with pauses, then
    ``tail_s`` s of silence; and the phrase's words laid over each voiced stretch."""
    from signals import silence, voice

    parts, words, t = [], [], 0.0
    for k in range(times):
        parts += [voice(phrase_s, syllables_per_s=4.0, seed=k), silence(gap_s)]
        step = phrase_s / len(PHRASE)
        words += [
            FakeWord(round(t + i * step, 3), round(t + (i + 0.8) * step, 3), " " + w) for i, w in enumerate(PHRASE)
        ]
        t += phrase_s + gap_s
    parts.append(silence(tail_s))
    return np.concatenate(parts), words


def test_loop_filter_keeps_speech_that_really_repeats():
    from voice_coach.asr.loops import REPETITIVE_COMPRESSION_RATIO, SpeechEvidence, compression_ratio, loop_free_words

    audio, words = repeated_speech()
    text = "".join(w.word for w in words)
    assert compression_ratio(text) > REPETITIVE_COMPRESSION_RATIO  # repetitive text: the old filter's cue
    assert loop_free_words(words, text, SpeechEvidence(audio)) == list(range(len(words)))


def test_loop_filter_drops_loops():
    from voice_coach.asr.loops import SpeechEvidence, loop_free_words

    audio, words = repeated_speech()
    end = len(audio) / SR
    evidence = SpeechEvidence(audio)
    # the same words over the silence at the end: a loop with no speech under it
    over_silence = [FakeWord(end - 2.9 + 0.1 * i, end - 2.9 + 0.1 * i + 0.08, " thank you") for i in range(20)]
    assert loop_free_words(over_silence, "".join(w.word for w in over_silence), evidence) == []
    # a run that goes on past the end of the voiced audio: the heard part stays, the rest goes
    last = words[-1].end
    run = words[-6:] + [
        FakeWord(last + 0.6 + 0.15 * i, last + 0.6 + 0.15 * i + 0.12, " " + PHRASE[i % 6]) for i in range(18)
    ]
    kept = loop_free_words(run, "".join(w.word for w in run), evidence)
    assert kept == list(range(6))
    # thirty words squeezed into one second of speech: more words than a voice can carry
    squeezed = [FakeWord(0.2 + 0.03 * i, 0.2 + 0.03 * i + 0.025, " yes") for i in range(30)]
    assert loop_free_words(squeezed, "".join(w.word for w in squeezed), evidence) == []
    # words of no duration
    instant = [
        FakeWord(1.0 + 0.01 * i, 1.0 + 0.01 * i, " " + w)
        for i, w in enumerate(["so", "we", "can", "go", "there", "now", "then"])
    ]
    assert loop_free_words(instant, "".join(w.word for w in instant), evidence) == []
    # ordinary text that does not repeat is never second-guessed
    plain = [
        FakeWord(end - 2.0 + 0.2 * i, end - 1.85 + 0.2 * i, " " + w)
        for i, w in enumerate(["we", "have", "your", "order", "here", "now"])
    ]
    assert loop_free_words(plain, "".join(w.word for w in plain), evidence) == list(range(6))


@dataclass
class FixedWordsModel:
    """Answers every call with the words that lie inside the buffer, which always starts at 0."""

    words: list
    calls: list = field(default_factory=list)

    def transcribe(self, audio, **options):
        self.calls.append(options)
        end = len(audio) / SR
        inside = [w for w in self.words if w.end <= end - 0.05]
        if not inside:
            return iter([]), None
        seg = FakeSegment(inside, "".join(w.word for w in inside))
        from voice_coach.asr.loops import compression_ratio

        seg.compression_ratio = compression_ratio(seg.text)  # faster-whisper's Segment has it
        return iter([seg]), None


def test_recordings_keep_repeated_speech_drop_loops_and_decode_deterministically():
    from voice_coach.asr.transcribe import ChunkedTranscriber
    from voice_coach.config import TranscriptionConfig

    audio, words = repeated_speech(6)  # 36 words compressing 6:1 (the old filter: over 4:1 and 20 words)
    loop = [
        FakeWord(len(audio) / SR - 2.9 + 0.1 * i, len(audio) / SR - 2.9 + 0.1 * i + 0.08, " thank you")
        for i in range(20)
    ]
    model = FixedWordsModel(words + loop)
    tr = ChunkedTranscriber(model, TranscriptionConfig())
    tr.insert_audio(audio)
    got = tr.process() + tr.finish()
    assert [w.text for w in got] == [w.word.strip() for w in words]
    assert model.calls and all(c["temperature"] == 0.0 for c in model.calls)


def test_recordings_decode_again_the_speech_whisper_skipped():
    from signals import silence, voice

    from voice_coach.asr.transcribe import ChunkedTranscriber
    from voice_coach.config import TranscriptionConfig

    audio = np.concatenate([silence(0.5), voice(1.5, seed=1), silence(1.0), voice(1.5, seed=2), silence(0.5)])

    @dataclass
    class SkippingModel:
        """Hears the first phrase of the whole recording and jumps over the second (as whisper
        sometimes does); decoded on its own, the second phrase is heard."""

        calls: list = field(default_factory=list)

        def transcribe(self, audio, **options):
            self.calls.append(len(audio) / SR)
            if len(self.calls) == 1:
                words = [
                    FakeWord(0.6 + 0.45 * i, 0.95 + 0.45 * i, " " + w) for i, w in enumerate(["we", "can", "help"])
                ]
            else:
                words = [
                    FakeWord(0.3 + 0.45 * i, 0.65 + 0.45 * i, " " + w) for i, w in enumerate(["right", "away", "now"])
                ]
            return iter([FakeSegment(words, "".join(w.word for w in words))]), None

    model = SkippingModel()
    tr = ChunkedTranscriber(model, TranscriptionConfig())
    tr.insert_audio(audio)
    got = tr.process() + tr.finish()
    assert [w.text for w in got] == ["we", "can", "help", "right", "away", "now"]
    assert len(model.calls) == 2 and model.calls[1] < 2.5  # only the skipped phrase, decoded again
    assert all(2.8 <= w.start_s <= 4.6 for w in got[3:])  # at their place on the stream clock

    model = SkippingModel()
    from dataclasses import replace

    tr = ChunkedTranscriber(model, replace(TranscriptionConfig(), repair_gaps=False))
    tr.insert_audio(audio)
    assert [w.text for w in tr.process() + tr.finish()] == ["we", "can", "help"]


def test_speech_that_words_barely_cover_counts_as_skipped():
    from voice_coach.asr.transcribe import uncovered_speech

    speech = [(0.5, 2.0), (3.0, 5.0), (5.3, 6.0), (7.0, 8.0)]
    # the second sentence got one stray word (a sentence-final "door." whisper placed there), the
    # third piece none, the last is covered
    spans = [(0.5, 1.0), (1.0, 2.0), (4.8, 5.0), (7.0, 7.9)]
    assert uncovered_speech(speech, spans, audio_s=9.0) == [(2.8, 6.2)]
    assert uncovered_speech(speech, spans + [(3.0, 4.5)], audio_s=9.0) == [(5.1, 6.2)]


def test_holes_with_no_word_inside_covered_speech_count_as_skipped():
    from voice_coach.asr.transcribe import uncovered_speech

    # one long stretch of fast speech: words for its first 12 s, none for its last 5 s (whisper
    # stopped early in the window); and a 0.6 s gap between two words, which is no hole
    speech = [(1.0, 18.0)]
    spans = [(1.0 + 0.3 * i, 1.25 + 0.3 * i) for i in range(20)] + [(7.2 + 0.3 * i, 7.45 + 0.3 * i) for i in range(20)]
    assert spans[-1][1] < 13.5
    assert uncovered_speech(speech, spans, audio_s=20.0) == [(pytest.approx(12.95), 18.2)]
    # a stretch barely covered is decoded whole; on a later round only its holes are looked at
    few = spans[:5]
    assert uncovered_speech(speech, few, audio_s=20.0) == [(0.8, 18.2)]
    assert uncovered_speech(speech, few, audio_s=20.0, holes_only=True) == [(pytest.approx(2.25), 18.2)]


def test_sparse_speech_finds_stretches_read_too_thinly():
    from voice_coach.asr.transcribe import sparse_speech

    # four 1.5 s sentences of six words each; whisper merged the last two into one sentence and
    # spread its six words over both (four in the third, two in the fourth)
    speech = [(0.5, 2.0), (3.0, 4.5), (5.5, 7.0), (8.0, 9.5)]
    mids = [0.6 + 0.25 * i for i in range(6)] + [3.1 + 0.25 * i for i in range(6)]
    mids += [5.6 + 0.35 * i for i in range(4)] + [8.3, 8.9]
    # 18 words in 6 s of speech: 3 a second; the fourth holds 2 in 1.5 s, under half of that
    assert sparse_speech(speech, mids, audio_s=10.0) == [(7.8, 9.7)]
    assert sparse_speech(speech, mids, audio_s=10.0, ratio=0.3) == []
    assert sparse_speech(speech, mids[:6], audio_s=10.0) == []  # too few words to judge


def test_recordings_decode_again_a_repeated_sentence_whisper_merged():
    from signals import silence, voice

    from voice_coach.asr.transcribe import ChunkedTranscriber
    from voice_coach.config import TranscriptionConfig

    sentence = ["dogs", "are", "sitting", "by", "the", "door"]
    parts = [silence(0.5)]
    for k in range(4):
        parts += [voice(1.5, seed=k), silence(1.0)]
    audio = np.concatenate(parts)  # sentences at 0.5, 3.0, 5.5 and 8.0 s

    @dataclass
    class MergingModel:
        """Reads the whole recording with the last two sentences (the same words) merged into one,
        spread over both; decoded on its own, a sentence is read in full."""

        calls: list = field(default_factory=list)

        def transcribe(self, audio, **options):
            self.calls.append(len(audio) / SR)
            if len(self.calls) == 1:
                spans = [(t, t + 0.2) for t in [0.6 + 0.22 * i for i in range(6)] + [3.1 + 0.22 * i for i in range(6)]]
                spans += [(t, t + 0.3) for t in [5.6 + 0.35 * i for i in range(4)]] + [(8.05, 8.5), (8.9, 9.3)]
                text = sentence * 3
            else:
                spans, text = [(t, t + 0.2) for t in [0.25 + 0.22 * i for i in range(6)]], sentence
            words = [FakeWord(a, b, " " + w) for (a, b), w in zip(spans, text, strict=True)]
            return iter([FakeSegment(words, "".join(w.word for w in words))]), None

    model = MergingModel()
    tr = ChunkedTranscriber(model, TranscriptionConfig())
    tr.insert_audio(audio)
    got = tr.process() + tr.finish()
    assert len(model.calls) == 2 and model.calls[1] < 2.5  # only the thinly read sentence again
    assert [w.text for w in got] == sentence * 2 + sentence[:4] + sentence
    assert all(7.8 <= w.start_s <= 9.7 for w in got[-6:])

    from dataclasses import replace

    model = MergingModel()
    tr = ChunkedTranscriber(model, replace(TranscriptionConfig(), repair_sparse_ratio=0.0))
    tr.insert_audio(audio)
    assert len(tr.process() + tr.finish()) == 18 and len(model.calls) == 1


def test_recordings_look_again_where_a_second_reading_also_stopped_short():
    from signals import silence, voice

    from voice_coach.asr.transcribe import ChunkedTranscriber
    from voice_coach.config import TranscriptionConfig

    audio = np.concatenate([silence(0.5), voice(16.0, seed=3), silence(0.5)])  # one long stretch of speech

    @dataclass
    class ShortModel:
        """Reads at most 3 s of any audio longer than 6 s (a full token budget), all of a shorter one."""

        calls: list = field(default_factory=list)

        def transcribe(self, audio, **options):
            seconds = len(audio) / SR
            self.calls.append(seconds)
            until = 3.0 if seconds > 6 else seconds - 0.2
            words = [FakeWord(t, t + 0.25, " word") for t in np.arange(0.1, until, 0.3)]
            return iter([FakeSegment(words, "".join(w.word for w in words))]), None

    model = ShortModel()
    tr = ChunkedTranscriber(model, TranscriptionConfig())
    tr.insert_audio(audio)
    got = tr.process() + tr.finish()
    # whole (short), the stretch again (short), then the holes it left, until all is read or the
    # rounds run out
    assert len(model.calls) >= 3 and model.calls[1] > 6
    assert max(w.end_s for w in got) > 8.0


def test_decoding_again_is_bounded_per_chunk():
    from signals import silence, voice

    from voice_coach.asr import transcribe
    from voice_coach.asr.transcribe import ChunkedTranscriber
    from voice_coach.config import TranscriptionConfig

    parts = [silence(0.5)]
    for k in range(12):  # phrases at 0.5 + 1.8 k s; whisper writes every other one, never the rest
        parts += [voice(1.0, seed=k), silence(0.8)]
    audio = np.concatenate(parts)

    @dataclass
    class HalfModel:
        calls: list = field(default_factory=list)

        def transcribe(self, audio, **options):
            self.calls.append(len(audio) / SR)
            if len(self.calls) > 1:  # decoded again: still nothing (fillers, noise)
                return iter([]), None
            words = [
                FakeWord(0.55 + 1.8 * k + 0.3 * i, 0.8 + 1.8 * k + 0.3 * i, " word")
                for k in range(0, 12, 2)
                for i in range(3)
            ]
            return iter([FakeSegment(words, "".join(w.word for w in words))]), None

    model = HalfModel()
    tr = ChunkedTranscriber(model, TranscriptionConfig())
    tr.insert_audio(audio)
    assert len(tr.process() + tr.finish()) == 18
    assert len(model.calls) == 1 + transcribe.REPAIR_DECODES < 1 + 6  # six phrases without words


def test_pauses_folded_into_words_are_cut_out():
    from voice_coach.asr.transcribe import trimmed_to_speech
    from voice_coach.signal.activity import talk_time_s
    from voice_coach.signal.rate import talk_spans

    speech = [(0.5, 2.0), (3.2, 4.5)]  # two phrases, 1.2 s of silence between them
    words = [
        Word(0.5, 1.2, "and", 0.9),
        Word(1.2, 2.0, "so", 0.9),
        Word(2.0, 3.6, "ask", 0.9),  # whisper gave the pause to the next word
        Word(3.6, 4.5, "not", 0.9),
        Word(4.8, 4.8, "yes", 0.9),  # a last word of no duration, placed in the pause after the speech
    ]
    assert talk_time_s(talk_spans(words)) == pytest.approx(4.3)  # the pause counted as talk
    trimmed = trimmed_to_speech(words, speech, offset_s=0.0)
    assert [(w.start_s, w.end_s) for w in trimmed] == [(0.5, 1.2), (1.2, 2.0), (3.15, 3.6), (3.6, 4.5), (4.5, 4.5)]
    assert talk_time_s(talk_spans(trimmed)) == pytest.approx(1.5 + 1.35)
    # on the stream clock, and words over no speech the VAD heard are left alone
    later = trimmed_to_speech([Word(12.0, 13.6, "ask", 0.9), Word(20.0, 21.0, "far", 0.9)], speech, offset_s=10.0)
    assert [(w.start_s, w.end_s) for w in later] == [(13.15, 13.6), (20.0, 21.0)]


def test_a_sentence_final_word_of_no_duration_is_kept_and_a_squeezed_run_dropped():
    from voice_coach.asr.loops import SpeechEvidence, loop_free_words

    audio, spoken = repeated_speech()
    evidence = SpeechEvidence(audio)
    # whisper often gives the last word of a sentence no duration, a little after the voice stopped
    words = [FakeWord(w.end + 0.2, w.end + 0.2, w.word) if w.word.endswith(".") else w for w in spoken]
    assert loop_free_words(words, "".join(w.word for w in words), evidence) == list(range(len(words)))
    # real words, then the phrase repeated into no time: only the run goes
    t = spoken[5].end
    squeezed = spoken[:6] + [FakeWord(t, t, " " + w) for w in PHRASE * 2]
    assert loop_free_words(squeezed, "".join(w.word for w in squeezed), evidence) == list(range(6))


def test_live_keeps_repeated_speech():
    audio, words = repeated_speech(tail_s=1.5)
    model = FixedWordsModel(words)
    tr = OnlineTranscriber(model, vad=False, buffer_trim_s=20.0, max_buffer_s=25.0, min_word_probability=0.0)
    got = run(tr, audio)
    assert [w.text for w, _ in got] == [w.word.strip() for w in words]
    assert all(c["temperature"] == 0.0 for c in model.calls)


# --- the real model -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def model():
    from voice_coach.asr.model import load_model

    return load_model()


@pytest.fixture(scope="module")
def jfk():
    import soundfile as sf
    import soxr

    y, sr = sf.read(str(SAMPLES / "jfk.flac"), dtype="float32")
    y = y.mean(axis=1) if y.ndim == 2 else y
    return soxr.resample(y, sr, SR).astype(np.float32)


def _norm(words):
    return " ".join(normalise_word(w.text) for w in words)


@pytest.mark.slow
def test_real_speech_is_transcribed_once_with_stream_times(model, jfk):
    audio = np.concatenate([jfk, np.zeros(6 * SR, np.float32), jfk])
    words = transcribe_stream(model, audio, chunk_s=0.5)
    text = _norm(words)
    assert text.count("ask not what your country can do for you") == 2, text
    assert text.count("country") == 4, text
    starts = [w.start_s for w in words]
    assert starts == sorted(starts) and all(w.end_s >= w.start_s for w in words)
    second = [w for w in words if w.start_s > len(jfk) / SR + 5.0]
    # tiny.en hears the second copy's first words as "and so my" or "and so am i", depending on the
    # context it was given; the rest of the sentence must be there, in order, once.
    assert _norm(second).startswith("and so")
    assert "fellow americans ask not what your country can do for you" in _norm(second)
    # the second speech starts 17 s in (11 s of speech + 6 s of silence)
    assert second[0].start_s == pytest.approx(len(jfk) / SR + 6.0, abs=0.8)
    assert max(w.end_s for w in words) <= len(audio) / SR


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["silence", "noise", "hum"])
def test_no_words_and_no_whisper_calls_without_speech(model, kind):
    rng = np.random.default_rng(1)
    t = np.arange(12 * SR) / SR
    audio = {
        "silence": np.zeros_like(t),
        "noise": rng.normal(0, 0.03, t.size),
        "hum": 0.1 * np.sin(2 * np.pi * 50 * t) + 0.03 * np.sin(2 * np.pi * 150 * t),
    }[kind].astype(np.float32)
    tr = OnlineTranscriber(model)
    got = run(tr, audio)
    assert got == [] and tr.calls == 0
    assert tr.buffer_s <= 2.0  # idle audio is not kept


@pytest.mark.slow
def test_word_lag_on_a_simulated_live_stream(model, jfk):
    """Lag is measured on a virtual clock (each whisper call counted as 0.35 s, as on an idle
    2-core machine), so this checks the algorithm's latency, not this machine's speed."""
    import importlib.util
    import sys

    # The virtual-clock harness is benchmark code (benchmarks/realtime_reference.py), not the package's.
    spec = importlib.util.spec_from_file_location(
        "realtime_reference", SAMPLES.parent / "benchmarks" / "realtime_reference.py"
    )
    reference = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = reference  # dataclasses look their module up there
    spec.loader.exec_module(reference)
    audio = np.concatenate([jfk, np.zeros(3 * SR, np.float32)])
    run_ = reference.simulate_realtime(model, audio, call_s=0.35)
    assert run_.at_finish == 0 and len(run_.lags_s) == len(run_.words) >= 20
    assert run_.lag_percentile_s(50) <= 2.5 and run_.lag_percentile_s(95) <= 4.0
    assert min(run_.lags_s) > 0.0
    assert run_.calls <= 14 and run_.cpu_s > 0
