"""What the code drops or skips leaves a debug line on the ``voice_coach`` logger and a count."""

from __future__ import annotations

import logging

import numpy as np
from test_streaming_asr import SR, FakeWord, FixedWordsModel, repeated_speech
from typer.testing import CliRunner

from voice_coach.cli.main import app
from voice_coach.engine.events import Word

LOGGER = "voice_coach"


def _debug_lines(caplog, fragment: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.levelno == logging.DEBUG and fragment in r.getMessage()
    ]


def test_a_dropped_loop_leaves_a_debug_line_and_a_count_reachable_on_the_async_wrapper(caplog):
    from voice_coach.asr.transcribe import AsyncTranscriber, ChunkedTranscriber
    from voice_coach.config import TranscriptionConfig

    audio, words = repeated_speech(4)
    end = len(audio) / SR
    loop = [FakeWord(end - 2.9 + 0.1 * i, end - 2.9 + 0.1 * i + 0.08, " thank you") for i in range(20)]
    tr = AsyncTranscriber(ChunkedTranscriber(FixedWordsModel(words + loop), TranscriptionConfig(repair_gaps=False)))
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        tr.insert_audio(audio)
        got = tr.finish()
    assert [w.text for w in got] == [w.word.strip() for w in words]
    assert tr.dropped_loop_words == 20 == tr.inner.dropped_loop_words
    (line,) = _debug_lines(caplog, "decoding loop")
    assert "dropped 20 of" in line and "thank you" in line and "no speech" in line


def test_a_dropped_leaked_word_leaves_a_debug_line_and_a_count(caplog):
    from voice_coach.engine.core import ChannelMap, Engine

    engine = Engine(channels=ChannelMap(0, 1))
    n = 100  # 1 s of 10 ms frames: all of it the customer's voice on the agent's channel
    engine.leak_frames = [np.ones(n, bool)]
    engine.analyzers["agent"].history.voiced_frames = [np.zeros(n, bool)]
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        kept = engine._drop_leaked_words([Word(0.2, 0.5, "sorry", 0.9)])
    assert kept == [] and engine.dropped_leak_words == 1
    (line,) = _debug_lines(caplog, "leaked word dropped")
    assert "'sorry'" in line and "0.20-0.50 s" in line


def test_debug_lines_only_with_verbose_and_warnings_always_say_so(tmp_path):
    from voice_coach.cli.main import _StderrHandler

    logger = logging.getLogger(LOGGER)
    before = [h for h in logger.handlers if not isinstance(h, _StderrHandler)]
    runner = CliRunner()
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0 and "--verbose" in res.output
    try:
        res = runner.invoke(app, ["report", str(tmp_path / "missing.json")])
        assert res.exit_code != 0 and "Traceback" not in res.output
        ours = [h for h in logger.handlers if isinstance(h, _StderrHandler)]
        assert len(ours) == 1 and logger.level == logging.WARNING and not logger.isEnabledFor(logging.DEBUG)
        record = logger.makeRecord(LOGGER, logging.WARNING, __file__, 1, "a worker was lost", (), None)
        assert ours[0].format(record) == "voice-coach: warning: a worker was lost"
        res = runner.invoke(app, ["--verbose", "report", str(tmp_path / "missing.json")])
        assert res.exit_code != 0 and "Traceback" not in res.output
        assert logger.level == logging.DEBUG
        record = logger.makeRecord(LOGGER, logging.DEBUG, __file__, 1, "a dropped word", (), None)
        assert ours[0].format(record) == "voice-coach: debug: a dropped word"
        res = runner.invoke(app, ["-v", "report", str(tmp_path / "missing.json")])
        assert [h for h in logger.handlers if isinstance(h, _StderrHandler)] == ours  # one, however often it runs
        assert [h for h in logger.handlers if not isinstance(h, _StderrHandler)] == before
    finally:
        for h in [h for h in logger.handlers if isinstance(h, _StderrHandler)]:
            logger.removeHandler(h)
        logger.setLevel(logging.NOTSET)
