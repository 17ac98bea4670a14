import json

import numpy as np
import pytest

from voice_coach.analysis.baseline import Baseline, BaselineEstimator, load_profile, save_profile
from voice_coach.analysis.cues import CueTracker
from voice_coach.config import BaselineConfig, Config, WarningConfig
from voice_coach.errors import ConfigError
from voice_coach.signal.agitation import Cues, agitation_score, calm_score, cues, ramp, semitones


# ---------------------------------------------------------------- config
def test_config_from_toml_overrides_and_echoes(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("[warnings]\nsustain_s = 3\nevidence_window_s = 4\n[prosody]\nfmin_hz = 50.0\n")
    cfg = Config.from_toml(p)
    assert cfg.warnings.sustain_s == 3.0 and cfg.prosody.fmin_hz == 50.0
    assert cfg.to_dict()["warnings"]["sustain_s"] == 3.0
    assert cfg.agitation == Config().agitation


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[warnings]\nsustain = 3\n", "unknown setting 'sustain'"),
        ("[nope]\nx = 1\n", "unknown table [nope]"),
        ("[warnings]\nsustain_s = 'long'\n", "must be float"),
        ("[warnings\n", "not valid TOML"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, text, fragment):
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=None) as info:
        Config.from_toml(p)
    assert fragment in str(info.value) and str(p) in str(info.value)


# ---------------------------------------------------------------- agitation
def test_ramp_and_semitones():
    assert ramp(0, 1, 3) == 0 and ramp(2, 1, 3) == 0.5 and ramp(5, 1, 3) == 1 and ramp(None, 1, 3) is None
    assert semitones(220, 110) == pytest.approx(12)
    assert semitones(None, 110) is None


def test_agitation_score_is_zero_at_baseline_and_one_when_all_cues_are_full():
    calm = cues(loudness_rel_db=0, pitch_st=0, rate_sps=4, baseline_rate_sps=4)
    assert agitation_score(calm) == 0
    hot = cues(loudness_rel_db=12, pitch_st=6, rate_sps=8, baseline_rate_sps=4)
    assert agitation_score(hot) == pytest.approx(1)
    one = agitation_score(Cues(loud=1.0, high_pitch=0.0, fast=0.0))
    assert 0.5 < one < 1
    assert agitation_score(Cues(None, None, None)) is None


def test_rate_cue_uses_the_absolute_norm_too():
    # A speaker whose calm baseline is already rushed still gets the rate cue.
    c = cues(loudness_rel_db=0, pitch_st=0, rate_sps=7.5, baseline_rate_sps=7.5)
    assert c.fast == 1.0


def test_calm_score_range():
    assert calm_score([]) is None
    assert calm_score([0.0] * 10) == 100
    assert calm_score([1.0] * 10) == 0
    assert 0 < calm_score([0.0] * 8 + [0.9] * 2) < 100


# ---------------------------------------------------------------- baseline
def _feed(est, f0, level, seconds, rate=4.0):
    for _ in range(int(seconds * 10)):
        est.add(voiced=np.ones(10, bool), f0_hz=np.full(10, f0), loudness_db=np.full(10, level), rate_sps=rate)


def test_self_calibration_is_not_set_by_a_heated_start():
    est = BaselineEstimator(BaselineConfig(calibration_speech_s=30))
    _feed(est, 200.0, -20.0, 8, rate=6.0)  # heated first 8 s of speech
    _feed(est, 120.0, -32.0, 22, rate=4.0)  # then calm
    b = est.estimate()
    assert b.pitch_median_hz == pytest.approx(120, rel=0.01)
    assert b.loudness_median_db == pytest.approx(-32)
    assert b.articulation_rate_sps == pytest.approx(4.0)
    assert est.frozen


def test_baseline_needs_minimum_speech_and_freezes():
    est = BaselineEstimator(BaselineConfig(min_speech_s=6, calibration_speech_s=10))
    _feed(est, 120, -30, 5)
    assert est.estimate() is None
    _feed(est, 120, -30, 5)
    assert est.estimate() is not None and est.frozen
    _feed(est, 300, -10, 20)  # ignored once frozen
    assert est.estimate().pitch_median_hz == pytest.approx(120)


def test_agitated_blocks_do_not_pull_the_baseline_up():
    est = BaselineEstimator(BaselineConfig(min_speech_s=5, calibration_speech_s=60))
    _feed(est, 120, -30, 6)  # provisional baseline from calm speech
    assert est.estimate().loudness_median_db == pytest.approx(-30)
    for _ in range(100):  # 10 s of agitated speech, marked so by the speaker analysis
        est.add(
            voiced=np.ones(10, bool), f0_hz=np.full(10, 220.0), loudness_db=np.full(10, -15.0), rate_sps=6.0, calm=False
        )
    b = est.estimate()
    assert b.loudness_median_db == pytest.approx(-30) and b.pitch_median_hz == pytest.approx(120, rel=0.01)
    assert est.rejected_s == pytest.approx(10.0)
    _feed(est, 125, -29, 10)  # calm speech goes on refining it
    assert est.speech_s == pytest.approx(16.0)


def test_flush_counts_the_last_partial_block():
    est = BaselineEstimator(BaselineConfig(min_speech_s=2, block_s=1.0))
    _feed(est, 120, -30, 1.7)
    assert est.speech_s == pytest.approx(1.0) and est.heard_s == pytest.approx(1.7)
    assert est.estimate() is None
    est.flush(min_s=0.1)
    assert est.speech_s == pytest.approx(1.7)
    assert est.estimate(min_speech_s=1.5) is not None


def test_profile_round_trip_and_errors(tmp_path):
    p = tmp_path / "agent.json"
    save_profile(Baseline(118.0, -31.5, 4.2, "profile", 40.0), p, sources=["calm.wav"])
    b = load_profile(p)
    assert (b.pitch_median_hz, b.loudness_median_db, b.articulation_rate_sps, b.source) == (
        118.0,
        -31.5,
        4.2,
        "profile",
    )
    assert not list(tmp_path.glob(".*tmp"))
    with pytest.raises(ConfigError, match="profile not found"):
        load_profile(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "something-else"}))
    with pytest.raises(ConfigError, match="not a voice-coach profile"):
        load_profile(bad)
    bad.write_text("{")
    with pytest.raises(ConfigError, match="invalid JSON"):
        load_profile(bad)


# ---------------------------------------------------------------- warnings
def _run(tracker, series, step=0.1):
    changes = []
    for i, values in enumerate(series):
        changes += [(round((i + 1) * step, 2), c) for c in tracker.step((i + 1) * step, values)]
    return changes


def test_warning_needs_enough_agitated_speech_in_the_evidence_window():
    cfg = WarningConfig(sustain_s=1.0, evidence_window_s=2.0, release_s=1.0)
    tr = CueTracker(cfg, kinds=("loud",))
    short = [{"loud": 1.0}] * 5 + [{"loud": 0.0}] * 50  # 0.5 s of loud speech, then calm speech
    assert _run(tr, short) == []
    tr = CueTracker(cfg, kinds=("loud",))
    changes = _run(tr, [{"loud": 1.0}] * 30 + [{"loud": 0.0}] * 30)
    assert [c.ended for _, c in changes] == [False, True]
    raised_t, raised = changes[0]
    assert raised_t == pytest.approx(1.0)  # raised once 1 s of loud speech was heard
    assert raised.raised_at == pytest.approx(1.0)
    assert raised.start_s == pytest.approx(0.0)  # backdated to the first loud step
    ended = changes[1][1]
    assert ended.raised_at == pytest.approx(1.0)
    assert ended.end_s == pytest.approx(3.0)  # calm speech took over at 3.0 s
    assert changes[1][0] == pytest.approx(4.0)  # ...and had lasted release_s


def test_short_sentences_separated_by_pauses_add_up():
    # Sentences of 0.4 s of loud speech with 1.5 s of silence (None) between them: no single one
    # is long enough, together they are an episode.
    cfg = WarningConfig(sustain_s=1.0, evidence_window_s=2.0)
    tr = CueTracker(cfg, kinds=("loud",))
    sentence = [{"loud": 1.0}] * 4 + [{"loud": None}] * 15
    changes = _run(tr, sentence * 4)
    starts = [(t, c) for t, c in changes if not c.ended]
    assert len(starts) == 1
    assert starts[0][0] == pytest.approx(2 * 1.9 + 0.2)  # the second step of the third sentence
    # The other party's turn is silence for this voice too: it neither adds nor clears.


def test_silence_does_not_clear_a_warning_calm_speech_does():
    cfg = WarningConfig(sustain_s=0.5, evidence_window_s=2.0, release_s=1.0)
    tr = CueTracker(cfg, kinds=("loud",))
    series = [{"loud": 1.0}] * 10 + [{"loud": None}] * 300 + [{"loud": 0.0}] * 9
    changes = _run(tr, series)
    assert [c.ended for _, c in changes] == [False]  # 30 s of silence and 0.9 s of calm: still on
    changes = _run(tr, [{"loud": 0.0}] * 2)
    assert [c.ended for _, c in changes] == [True]


def test_hysteresis_keeps_one_warning_through_a_dip():
    cfg = WarningConfig(sustain_s=1.0, release_s=1.0, on_loud=0.5, off_loud=0.25)
    tr = CueTracker(cfg, kinds=("loud",))
    # Up, then hovering between the end and start thresholds, then up again: one warning.
    series = [{"loud": 0.8}] * 20 + [{"loud": 0.3}] * 30 + [{"loud": 0.8}] * 20 + [{"loud": 0.0}] * 20
    changes = _run(tr, series)
    assert [c.ended for _, c in changes] == [False, True]


def test_cooldown_and_gap_prevent_repeats():
    cfg = WarningConfig(sustain_s=1.0, release_s=0.5, cooldown_s=10.0, gap_s=0.0)
    tr = CueTracker(cfg, kinds=("loud",))
    burst = [{"loud": 1.0}] * 15 + [{"loud": 0.0}] * 10
    changes = _run(tr, burst * 6)  # six bursts of 2.5 s: 15 s
    assert sum(1 for _, c in changes if not c.ended) == 2  # the first, then one after the cooldown


def test_scattered_hot_steps_in_calm_speech_raise_nothing():
    # One hot step in every five (emphasis in calm speech) never fills the evidence window.
    cfg = WarningConfig(sustain_s=0.6, evidence_window_s=2.0)
    tr = CueTracker(cfg, kinds=("loud",))
    series = ([{"loud": 0.9}] + [{"loud": 0.1}] * 4) * 200
    assert _run(tr, series) == []


def test_several_cues_at_once_are_one_agitated_warning():
    tr = CueTracker(WarningConfig(sustain_s=1.0))
    series = [{"loud": 1.0, "high_pitch": 1.0, "fast": 0.0, "agitated": 0.9}] * 30 + [
        {"loud": 0, "high_pitch": 0, "fast": 0, "agitated": 0}
    ] * 30
    starts = [c.kind for _, c in _run(tr, series) if not c.ended]
    assert starts == ["agitated"]


def test_mirroring_upgrades_an_active_lower_warning_once():
    # A calm agent's "fast" warning is on when their voice rises with the customer upset: the
    # mirroring warning replaces it (the fast one ends where mirroring begins), and stays one warning.
    cfg = WarningConfig(sustain_s=0.6, release_s=1.5)
    tr = CueTracker(cfg)
    fast = {"loud": 0.0, "high_pitch": 0.0, "fast": 0.9, "agitated": 0.0, "mirroring": 0.0}
    rising = {"loud": 0.9, "high_pitch": 0.0, "fast": 0.9, "agitated": 0.0, "mirroring": 0.9}
    changes = _run(tr, [fast] * 10 + [rising] * 40)
    kinds = [(c.kind, c.ended) for _, c in changes]
    assert kinds == [("fast", False), ("fast", True), ("mirroring", False)]
    (t_fast, raised), (t_end, ended), (t_mirror, mirroring) = changes
    assert t_fast == pytest.approx(0.6)
    assert t_end == t_mirror == pytest.approx(1.6)  # 0.6 s of mirroring evidence after 1.0 s
    assert mirroring.start_s == pytest.approx(1.0)  # backdated to its first hot step
    assert ended.end_s == pytest.approx(mirroring.start_s)  # no overlap, a clear end
    assert ended.raised_at == pytest.approx(0.6)
    # Calm speech ends the mirroring warning; nothing downgrades or flaps in between.
    calm = dict.fromkeys(fast, 0.0)
    more = _run(tr, [rising] * 10 + [calm] * 20)
    assert [(c.kind, c.ended) for _, c in more] == [("mirroring", True)]


def test_no_upgrade_without_mirroring_evidence():
    cfg = WarningConfig(sustain_s=0.6)
    tr = CueTracker(cfg)
    fast = {"loud": 0.0, "high_pitch": 0.0, "fast": 0.9, "agitated": 0.0, "mirroring": 0.0}
    brief = dict(fast, loud=0.9, mirroring=0.9)
    changes = _run(tr, [fast] * 10 + [brief] * 5 + [fast] * 30)  # 0.5 s of rising voice: not enough
    assert [(c.kind, c.ended) for _, c in changes] == [("fast", False)]


@pytest.mark.parametrize(
    "key, value, fragment",
    [
        ("phrase_min_voiced_s", 2.0, "window_s"),
        ("phrase_min_voiced_s", 0.0, "phrase_min_voiced_s"),
        ("phrase_pause_s", -1.0, "phrase_pause_s"),
    ],
)
def test_phrase_loudness_settings_are_checked(key, value, fragment):
    from voice_coach.config import AgitationConfig

    with pytest.raises(ConfigError, match=fragment):
        AgitationConfig(**{key: value})
