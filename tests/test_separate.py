"""Separating two voices in a mono recording (voice_coach/voices/separate.py): known answers on the
shipped two-voice call mixed to mono, one voice never split, edge cases, and the clustering and
1-vs-2 decision on synthetic embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from voice_coach.config import SeparationConfig
from voice_coach.errors import AudioError, ConfigError
from voice_coach.sources.decode import load_audio
from voice_coach.voices.separate import Separation, VoiceStretch, separate, separate_embeddings, voice_masks

SR = 16000


def _activity(y: np.ndarray) -> np.ndarray:
    """Per 10 ms frame: within 35 dB of the channel's loudest frame."""
    n = y.size // 160
    db = 10 * np.log10(np.mean(y[: n * 160].reshape(n, 160) ** 2, axis=1) + 1e-12)
    return db > db.max() - 35


def _frames(sep: Separation, n: int) -> np.ndarray:
    p = np.full(n, -1)
    for s in sep.stretches:
        p[int(round(s.start_s * 100)) : int(round(s.end_s * 100))] = s.voice
    return p


def _check_stretches(sep: Separation) -> None:
    ends = [0.0]
    for s in sep.stretches:
        assert isinstance(s, VoiceStretch)
        assert ends[-1] <= s.start_s < s.end_s <= sep.duration_s + 1e-6
        assert s.voice in (-1, 0, 1) and 0.0 <= s.confidence <= 1.0
        ends.append(s.end_s)
    assert sep.centroids.shape == (sep.speakers, 256) and sep.centroids.dtype == np.float32


@pytest.fixture(scope="module")
def call(samples_dir):
    """The first 24 s of samples/call_stereo.wav (agent left, customer right, four turns each side)."""
    return load_audio(samples_dir / "call_stereo.wav")[:, : 24 * SR]


def test_two_voices_of_a_mixed_down_call_are_told_apart(call):
    mono = call.sum(axis=0)
    sep = separate(mono)
    _check_stretches(sep)
    assert sep.speakers == 2 and sep.requested == "auto" and sep.method == "ge2e+mfcc+spectral-clustering"
    assert 0.5 < sep.decision_confidence <= 1.0
    agent, customer = _activity(call[0]), _activity(call[1])
    single = agent ^ customer
    p = _frames(sep, single.size)
    # voice 0 speaks first: the agent greets
    right = ((p == 0) & agent & single) | ((p == 1) & customer & single)
    assert right.sum() / single.sum() >= 0.85
    assert ((p == 1) & agent & single).sum() / single.sum() < 0.05
    masks = voice_masks(sep, mono.size)
    assert masks.shape == (2, mono.size) and masks.dtype == np.float32
    assert set(np.unique(masks)) <= {0.0, 1.0} and masks.sum(axis=0).max() <= 1.0


def test_one_voice_is_not_split(samples_dir):
    """jfk (a real speech) and the synthetic speaker who starts calm and ends rushed stay one voice."""
    jfk = load_audio(samples_dir / "jfk.flac").mean(axis=0)
    rushed = load_audio(samples_dir / "calm_then_rushed.wav")[0]
    calm_then_rushed = np.concatenate([rushed[: 20 * SR], rushed[-20 * SR :]])
    for audio in (jfk, calm_then_rushed):
        sep = separate(audio)
        _check_stretches(sep)
        assert sep.speakers == 1 and sep.method == "single-voice"
        assert sep.stretches and all(s.voice == 0 for s in sep.stretches)
        assert sep.decision_confidence > 0.5
        masks = voice_masks(sep, audio.size)
        assert masks[0].all() and not masks[1].any()


def test_explicit_requests_win(call):
    mono = call.sum(axis=0)[: 12 * SR]
    one = separate(mono, speakers="1")
    assert one.speakers == 1 and one.requested == "1" and one.decision_confidence == 1.0
    assert np.linalg.norm(one.centroids[0]) == pytest.approx(1.0, abs=1e-5)
    two = separate(mono, speakers="2")
    assert two.speakers == 2 and two.requested == "2" and two.decision_confidence == 1.0
    assert {s.voice for s in two.stretches} >= {0, 1}


@pytest.mark.parametrize("seconds", [0.0, 0.01, 0.3, 3.0])
def test_silence_and_very_short_audio_are_one_voice_without_stretches(seconds):
    sep = separate(np.zeros(int(seconds * SR), np.float32))
    assert sep.speakers == 1 and sep.stretches == () and sep.duration_s == pytest.approx(seconds)
    assert sep.centroids.shape == (1, 256)
    assert voice_masks(sep, int(seconds * SR)).shape == (2, int(seconds * SR))


def test_a_short_burst_of_speech_is_one_voice(call):
    sep = separate(call[0][int(0.4 * SR) : int(1.4 * SR)])
    assert sep.speakers == 1 and len(sep.stretches) <= 2


def test_bad_input_is_a_one_line_error():
    with pytest.raises(ConfigError, match="speakers"):
        separate(np.zeros(SR, np.float32), speakers="3")
    with pytest.raises(AudioError, match="non-finite"):
        separate(np.full(SR, np.nan, np.float32))
    with pytest.raises(AudioError, match="mono"):
        separate(np.zeros((2, SR), np.float32))
    with pytest.raises(AudioError, match="16000"):
        separate(np.zeros(SR, np.float32), sample_rate=8000)


def test_voice_masks_leave_unattributed_speech_to_neither_voice():
    sep = Separation(
        method="ge2e+spectral-clustering",
        speakers=2,
        requested="2",
        decision_confidence=1.0,
        stretches=(VoiceStretch(0.0, 1.0, 0, 0.9), VoiceStretch(1.0, 1.5, -1, 0.1), VoiceStretch(2.0, 3.0, 1, 0.8)),
        centroids=np.zeros((2, 256), np.float32),
        duration_s=3.5,
    )
    m = voice_masks(sep, int(3.5 * SR))
    assert m[0, :SR].all() and not m[0, SR:].any()
    assert m[1, 2 * SR : 3 * SR].all() and not m[1, : 2 * SR].any() and not m[1, 3 * SR :].any()
    assert not m[:, SR : int(1.5 * SR)].any()


# ----------------------------------------------------------------- clustering on synthetic embeddings
def _voices(rng, n_turns: int, *, two: bool, drift: bool = False):
    """Embeddings of turns of 1.6 s windows: two fixed directions taking turns, or one voice whose
    style drifts half way (a second direction it moves to for good, as calm turns to angry)."""
    a, b = rng.normal(size=256), rng.normal(size=256)
    emb, starts, ends, spans, truth = [], [], [], [], []
    t = 0.5
    for i in range(n_turns):
        who = i % 2 if two else 0
        base = (a if who == 0 else b) if two else (a if not drift or i < n_turns // 2 else 0.55 * a + 0.45 * b)
        t = _turn(rng, t, base, 0.6 * np.linalg.norm(base) / 16, who, (emb, starts, ends, spans, truth))
    return np.array(emb, np.float32), np.array(starts), np.array(ends), spans, np.array(truth), t


def _turn(rng, t: float, base: np.ndarray, noise: float, who: int, out: tuple) -> float:
    """Append one turn starting at ``t`` to ``out`` = (emb, starts, ends, spans, truth): 2-4 windows of
    1.6 s every 0.2 s, each ``base`` plus Gaussian noise of scale ``noise``, normalised. Returns the
    start of the next turn (0.6 s later)."""
    emb, starts, ends, spans, truth = out
    n = int(rng.integers(2, 5))
    spans.append((t, t + 1.6 + 0.2 * (n - 1)))
    for k in range(n):
        v = base + noise * rng.normal(size=256)
        emb.append(v / np.linalg.norm(v))
        starts.append(t + 0.2 * k)
        ends.append(t + 0.2 * k + 1.6)
        truth.append(who)
    return spans[-1][1] + 0.6


def _mirroring_call(rng, styles: dict, n_turns: int):
    """Two people taking turns (voice 0 first) in ``styles[(who, angry)]``, both angry in the second
    half of the turns: (emb, starts, ends, spans, truth per window, duration)."""
    emb, starts, ends, spans, truth = [], [], [], [], []
    t = 0.5
    for i in range(n_turns):
        t = _turn(rng, t, styles[(i % 2, i >= n_turns // 2)], 0.25 / 16, i % 2, (emb, starts, ends, spans, truth))
    return np.array(emb, np.float32), np.array(starts), np.array(ends), spans, np.array(truth), t


def test_alternating_voices_are_two_and_a_drifting_voice_is_one():
    rng = np.random.default_rng(3)
    emb, starts, ends, spans, truth, dur = _voices(rng, 40, two=True)
    sep = separate_embeddings(emb, starts, ends, spans, duration=dur)
    assert sep.speakers == 2 and sep.similarity < 0.5
    got = [s.voice for s in sep.stretches]
    assert got == [i % 2 for i in range(40)]  # every turn, voice 0 first
    emb, starts, ends, spans, truth, dur = _voices(rng, 40, two=False, drift=True)
    sep = separate_embeddings(emb, starts, ends, spans, duration=dur)
    assert sep.speakers == 1 and sep.decision_confidence > 0.5  # its two styles never alternate
    forced = separate_embeddings(emb, starts, ends, spans, duration=dur, speakers="2")
    assert forced.speakers == 2


def test_the_decision_thresholds_are_the_configured_ones():
    rng = np.random.default_rng(4)
    emb, starts, ends, spans, _, dur = _voices(rng, 30, two=True)
    sep = separate_embeddings(emb, starts, ends, spans, duration=dur)
    strict = SeparationConfig(two_voice_max_similarity=sep.similarity - 0.01)
    assert separate_embeddings(emb, starts, ends, spans, duration=dur, config=strict).speakers == 1
    never = SeparationConfig(min_copresence=1.0)
    assert separate_embeddings(emb, starts, ends, spans, duration=dur, config=never).speakers == 2  # cop is 1.0
    with pytest.raises(ConfigError, match="min_copresence"):
        SeparationConfig(min_copresence=1.5)


def _styled_call(rng, n_turns: int, *, two: bool):
    """Turns of windows in three styles. ``two``: an agent (style a) and a customer taking turns, the
    customer calm (style b, near a) for the first half and angry (style c, far from both) after; the
    plain two-way split falls on calm vs angry. Otherwise one person: calm (a) for the first 60 % of the
    turns, then angry in two styles (b, c) turn by turn."""
    x, y, z = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 256)))
    a, b, c = x, 0.6 * x + 0.8 * y, z
    emb, starts, ends, spans, truth = [], [], [], [], []
    t = 0.5
    for i in range(n_turns):
        late = i >= (n_turns // 2 if two else int(0.6 * n_turns))
        if two:
            who = i % 2
            base = a if who == 0 else (c if late else b)
        else:
            who = 0
            base = (b if i % 2 else c) if late else a
        t = _turn(rng, t, base, 0.25 / 16, who, (emb, starts, ends, spans, truth))
    return np.array(emb, np.float32), np.array(starts), np.array(ends), spans, np.array(truth), t


def test_a_customer_who_turns_angry_is_still_a_second_voice():
    """The plain split falls on the customer's calm vs angry speech (its halves follow each other, so
    it says one voice); the voices joined from the three styles take turns all through: two voices,
    every turn given to the right one."""
    rng = np.random.default_rng(5)
    emb, starts, ends, spans, truth, dur = _styled_call(rng, 40, two=True)
    sep = separate_embeddings(emb, starts, ends, spans, duration=dur)
    assert sep.speakers == 2 and sep.decision_confidence > 0.5
    assert [s.voice for s in sep.stretches] == [i % 2 for i in range(40)]
    # the plain split alone (the second test switched off) keeps one voice
    plain_only = SeparationConfig(max_voice_absence=0.0)
    assert separate_embeddings(emb, starts, ends, spans, duration=dur, config=plain_only).speakers == 1
    with pytest.raises(ConfigError, match="max_voice_absence"):
        SeparationConfig(max_voice_absence=1.5)


def test_one_person_whose_anger_takes_two_styles_is_one_voice():
    """Calm, then angry speech alternating between two styles: the joined voices leave the calm part to
    one of them, so the other is silent for more than half the speech: one voice."""
    rng = np.random.default_rng(6)
    emb, starts, ends, spans, _, dur = _styled_call(rng, 40, two=False)
    sep = separate_embeddings(emb, starts, ends, spans, duration=dur)
    assert sep.speakers == 1 and sep.decision_confidence > 0.5
    lenient = SeparationConfig(max_voice_absence=0.6)  # the absence test is what keeps it one voice
    assert separate_embeddings(emb, starts, ends, spans, duration=dur, config=lenient).speakers == 2


def test_window_timbre_describes_each_window_of_real_speech(call):
    """MFCC statistics of windows: finite, one row per window, the same window twice gives the same row,
    and the agent's and the customer's windows differ more from each other than among themselves."""
    from voice_coach.voices.separate import TIMBRE_COEFFS, window_timbre

    mono = call.sum(axis=0)
    cfg = SeparationConfig()
    agent, customer = _activity(call[0]), _activity(call[1])
    a_at = [
        t / 100
        for t in range(0, agent.size - 160, 40)
        if agent[t : t + 160].mean() > 0.8 and not customer[t : t + 160].any()
    ]
    c_at = [
        t / 100
        for t in range(0, customer.size - 160, 40)
        if customer[t : t + 160].mean() > 0.8 and not agent[t : t + 160].any()
    ]
    assert len(a_at) >= 3 and len(c_at) >= 3
    starts = np.array(a_at[:3] + c_at[:3] + a_at[:1])
    t = window_timbre(mono, starts, starts + cfg.window_s, cfg)
    assert t.shape == (7, 2 * TIMBRE_COEFFS) and np.isfinite(t).all()
    np.testing.assert_array_equal(t[0], t[6])
    z = (t - t.mean(axis=0)) / t.std(axis=0)
    d = np.linalg.norm(z[:, None] - z[None, :], axis=-1)
    within = max(d[:3, :3].max(), d[3:6, 3:6].max())
    assert d[:3, 3:6].mean() > within * 0.9 and d[:3, 3:6].mean() > np.mean([d[:3, :3].mean(), d[3:6, 3:6].mean()])


def test_timbre_tells_apart_voices_the_embeddings_confuse():
    """Two voices whose embeddings are the same direction (as GE2E puts two calm same-gender voices in
    the phone band) but whose MFCC statistics differ: the embeddings alone cannot attribute the turns,
    the joined features do; the centroids stay embeddings (256-d) for the voice print."""
    rng = np.random.default_rng(7)
    emb, starts, ends, spans, truth, dur = _voices(rng, 40, two=True)
    same = emb[truth == 0].mean(axis=0)
    emb = emb.copy()
    for i in range(len(emb)):
        v = same + 0.6 * rng.normal(size=256) * np.linalg.norm(same) / 16
        emb[i] = v / np.linalg.norm(v)
    timbre = rng.normal(size=(len(emb), 38)) * 0.3
    timbre[:, :5] += np.where(truth == 0, 1.0, -1.0)[:, None]

    def share_right(sep: Separation) -> float:  # speech time given to the voice of its turn (voice 0 first)
        right = sum(
            max(0.0, min(b, st.end_s) - max(a, st.start_s))
            for i, (a, b) in enumerate(spans)
            for st in sep.stretches
            if st.voice == i % 2
        )
        return right / sum(b - a for a, b in spans)

    alone = separate_embeddings(emb, starts, ends, spans, duration=dur, speakers="2")
    assert share_right(alone) < 0.8
    joined = separate_embeddings(emb, starts, ends, spans, duration=dur, speakers="2", timbre=timbre)
    assert joined.method == "ge2e+mfcc+spectral-clustering"
    assert share_right(joined) > 0.9
    assert joined.centroids.shape == (2, 256)
    off = SeparationConfig(timbre_weight=0.0)
    unused = separate_embeddings(emb, starts, ends, spans, duration=dur, speakers="2", timbre=timbre, config=off)
    assert unused.method == "ge2e+spectral-clustering"
    with pytest.raises(ConfigError, match="timbre_weight"):
        SeparationConfig(timbre_weight=-1.0)


def test_a_call_where_both_turn_angry_is_two_voices_by_timbre():
    """Both people turn angry half way (mirroring): the embeddings group calm against angry speech, so
    neither of their tests finds two voices. The voices' MFCC statistics differ all through: the
    grouping of the joined features takes turns in every block, so two voices, every turn right."""
    rng = np.random.default_rng(8)
    x, y, z = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 256)))
    calm_b = 0.7 * x + 0.714 * y
    styles = {(0, False): x, (1, False): calm_b, (0, True): 0.5 * x + 0.866 * z, (1, True): 0.5 * calm_b + 0.866 * z}
    n_turns = 40
    emb, starts, ends, spans, truth, t = _mirroring_call(rng, styles, n_turns)
    timbre = rng.normal(size=(len(emb), 38)) * 0.3 + rng.normal(size=(2, 38))[truth]
    assert separate_embeddings(emb, starts, ends, spans, duration=t).speakers == 1
    sep = separate_embeddings(emb, starts, ends, spans, duration=t, timbre=timbre)
    assert sep.speakers == 2 and sep.method == "ge2e+mfcc+spectral-clustering"
    assert [s.voice for s in sep.stretches] == [i % 2 for i in range(n_turns)]


def test_each_grouping_gets_both_tests():
    """The plain split of the joined features alone can decide two voices (a mirroring call whose
    joined styles leave one voice out for too long); how different its halves are is measured on
    their embeddings, on the scale of ``two_voice_max_similarity``."""
    from voice_coach.voices.separate import _Clusters, _decide

    def grouping(split_sim: float, cop: float, voice_sim: float, absence: float) -> _Clusters:
        two = np.eye(2, 256, dtype=np.float32)
        return _Clusters(
            labels=np.array([0, 1] * 10),
            sub_centroids=two,
            voice_of=np.arange(2),
            centroids=two,
            similarity=0.1,
            voice_similarity=voice_sim,
            split_similarity=split_sim,
            copresence=cop,
            minor_share=0.4,
            joined_share=0.4,
            absence=absence,
            spectrum=np.zeros((20, 5)),
        )

    cfg = SeparationConfig()
    calm_vs_angry = grouping(0.6, 0.27, 0.76, 0.14)  # the embeddings: both tests fail
    by_timbre = grouping(0.4, 1.0, 0.41, 0.14)  # the joined features: the plain split passes
    assert not _decide(calm_vs_angry, cfg)[0]
    assert _decide(calm_vs_angry, cfg, by_timbre)[0]
    # the same halves, as alike as one person's voice by their embeddings: one voice
    alike = grouping(0.95, 1.0, 0.95, 0.14)
    assert not _decide(calm_vs_angry, cfg, alike)[0]


def test_separate_puts_the_voice_of_the_opening_first(call):
    """On a real mixed-down call the voice heard first is voice 0, and its opening similarity is the
    larger."""
    from voice_coach.voices.naming import name_agent

    sep = separate(call.sum(axis=0), speakers="2")
    assert sep.opening is not None and sep.opening[0] > sep.opening[1]
    assert name_agent(sep).voice == 0


def test_when_both_turn_angry_each_keeps_their_angry_turns(monkeypatch):
    """Two people who both turn angry half way, their angry speech alike: in three styles (calm of
    each, angry of both) the angry half goes to one voice. In four styles each person's calm and angry
    speech follow each other (rarely in one block) while the two keep taking turns, so the styles are
    joined that way and every turn goes to its speaker."""
    import voice_coach.voices.separate as separate_module

    rng = np.random.default_rng(9)
    x, y, z = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 256)))
    calm_b = 0.6 * x + 0.8 * y
    styles = {(0, False): x, (1, False): calm_b, (0, True): 0.8 * z + 0.6 * x, (1, True): 0.8 * z + 0.6 * calm_b}
    n_turns = 60
    emb, starts, ends, spans, _, t = _mirroring_call(rng, styles, n_turns)
    turns = [i % 2 for i in range(n_turns)]
    sep = separate_embeddings(emb, starts, ends, spans, duration=t, speakers="2")
    assert [s.voice for s in sep.stretches] == turns
    monkeypatch.setattr(separate_module, "PAIRED_STYLES", ())  # three styles only
    three = separate_embeddings(emb, starts, ends, spans, duration=t, speakers="2")
    wrong = sum(s.voice != want for s, want in zip(three.stretches, turns, strict=True))
    assert wrong >= n_turns // 5  # the angry half shared out by style, not by speaker


def test_when_turn_taking_allows_two_pairings_equally_the_three_styles_stay(monkeypatch):
    """Each person's anger as near the other's calm voice as their own: joining each calm style with
    its own anger or with the other's takes turns just as well and is as alike, so the styles do not
    say who is who; the four-style joining is not used (``PAIRED_MARGIN``)."""
    import voice_coach.voices.separate as separate_module
    from voice_coach.voices.separate import _cluster, _paired_styles

    rng = np.random.default_rng(9)
    x, y, z, w = (v / np.linalg.norm(v) for v in rng.normal(size=(4, 256)))
    between = (x + y) / np.linalg.norm(x + y)
    styles = {(0, False): x, (1, False): y, (0, True): 0.6 * between + 0.8 * z, (1, True): 0.6 * between + 0.8 * w}
    emb, starts, _, _, _, _ = _mirroring_call(rng, styles, 60)
    cl = _cluster(emb, starts)
    assert _paired_styles(emb, starts, cl, SeparationConfig()) is cl
    monkeypatch.setattr(separate_module, "PAIRED_MARGIN", 0.0)  # without the margin a joining is picked
    assert _paired_styles(emb, starts, cl, SeparationConfig()) is not cl
