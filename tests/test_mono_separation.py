"""Mono recordings of a call: two voices told apart and analyzed like the two channels of a stereo call.

Most tests build the ``Separation`` by hand from the known utterances of ``samples/call_stereo.wav`` mixed
to mono, so they test the integration (channels from the mix, the engine, naming, result, CLI) independently
of how well the voices are clustered; the last ones go through the real ``separate``.
"""

import json

import numpy as np
import pytest
from conftest import SAMPLES, write_wav
from typer.testing import CliRunner

import voice_coach.voices.separate as separate_module
from voice_coach.analysis.baseline import VOICEPRINT_DIM, Baseline, load_profile, save_profile
from voice_coach.app.analyze import analyze_file, masked_chunks, read_mono
from voice_coach.cli.main import app
from voice_coach.errors import ConfigError
from voice_coach.output.result import to_csv
from voice_coach.voices.naming import UNCERTAIN_MARGIN, name_agent, parse_agent_voice
from voice_coach.voices.separate import Separation, VoiceStretch, voice_masks

SR = 16000
CALL = SAMPLES / "call_stereo.wav"
TRUTH = json.loads((SAMPLES / "call_stereo.truth.json").read_text())
MIRRORING_FROM_S = 51.0  # the agent stays calm until here (samples/README.md)
runner = CliRunner()


def stereo_call() -> np.ndarray:
    """``samples/call_stereo.wav`` as ``(2, n)``: agent left, customer right."""
    import soundfile as sf

    data, rate = sf.read(str(CALL), dtype="float32", always_2d=True)
    assert rate == SR
    return np.ascontiguousarray(data.T)


def truth_stretches(end_s: float | None = None) -> tuple[VoiceStretch, ...]:
    """The utterances of the call as stretches: agent = voice 0 (speaks first), customer = voice 1; where two
    utterances overlap (the interruption at 45.33-46.33 s) the overlap is not attributed (voice -1)."""
    utts = sorted([u["start"], u["end"], 0 if u["speaker"] == "agent" else 1] for u in TRUTH["utterances"])
    out: list[VoiceStretch] = []
    for i, (a, b, v) in enumerate(utts):
        nxt = utts[i + 1] if i + 1 < len(utts) else None
        if nxt is not None and nxt[0] < b:
            out += [VoiceStretch(a, nxt[0], v, 0.9), VoiceStretch(nxt[0], b, -1, 0.1)]
            nxt[0] = b
        else:
            out.append(VoiceStretch(a, b, v, 0.9))
    if end_s is not None:
        out = [VoiceStretch(s.start_s, min(s.end_s, end_s), s.voice, s.confidence) for s in out if s.start_s < end_s]
    return tuple(out)


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=VOICEPRINT_DIM)
    return (v / np.linalg.norm(v)).astype(np.float32)


def hand_separation(duration_s: float, *, stretches=None, centroids=None, requested: str = "2") -> Separation:
    return Separation(
        method="hand",
        speakers=2,
        requested=requested,
        decision_confidence=1.0,
        stretches=truth_stretches(duration_s) if stretches is None else stretches,
        centroids=np.stack([unit(1), unit(2)]) if centroids is None else centroids,
        duration_s=duration_s,
    )


@pytest.fixture
def by_hand(monkeypatch):
    """``separate`` replaced by the known answer for the mix it is given (the call's utterances)."""
    seen: dict = {}

    def known(audio, **kwargs):
        seen.update(kwargs)
        return hand_separation(len(audio) / SR, requested=kwargs.get("speakers", "auto"))

    monkeypatch.setattr(separate_module, "separate", known)
    return seen


@pytest.fixture(scope="module")
def call_files(tmp_path_factory):
    """The call as stereo and mixed down to mono, whole and cut before the agent starts mirroring."""
    d = tmp_path_factory.mktemp("call")
    y = stereo_call()
    cut = int(MIRRORING_FROM_S * SR)
    return {
        "stereo": CALL,
        "mono": write_wav(d / "mono.wav", y.sum(axis=0), subtype="FLOAT"),
        "stereo_calm_agent": write_wav(d / "stereo51.wav", y[:, :cut], subtype="FLOAT"),
        "mono_calm_agent": write_wav(d / "mono51.wav", y[:, :cut].sum(axis=0), subtype="FLOAT"),
    }


def kinds(result: dict) -> list[tuple[str, str]]:
    return [(w["speaker"], w["kind"]) for w in result["warnings"]]


# --- channels from the mix -------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_n", [1, 1600, 16000, 48001])
@pytest.mark.parametrize("voices", [(0, 1), (1, 0)])
def test_masked_chunks_equal_the_mix_times_the_voice_masks(chunk_n, voices):
    rng = np.random.default_rng(0)
    n = 5 * SR + 123
    mix = rng.normal(size=n).astype(np.float32)
    stretches = (
        VoiceStretch(0.1, 0.9, 0, 0.8),
        VoiceStretch(0.9, 1.2, -1, 0.1),
        VoiceStretch(1.2, 2.51234, 1, 0.7),
        VoiceStretch(3.0, 3.0001, 0, 0.9),
        VoiceStretch(4.5, 5.2, 1, 0.6),  # runs past the end of the audio
    )
    sep = hand_separation(n / SR, stretches=stretches)
    masks = voice_masks(sep, n)
    chunks = list(masked_chunks(mix if chunk_n > 1 else mix[:3000], sep, voices, chunk_n))
    got = np.concatenate(chunks, axis=1)
    ref = (mix * masks[list(voices)])[:, : got.shape[1]]
    assert got.dtype == np.float32 and got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)
    # Unattributed speech and silence are on neither channel; attributed speech on exactly one.
    assert not got[:, int(0.95 * SR) : int(1.15 * SR)].any()
    both = (got[0] != 0) & (got[1] != 0)
    assert not both.any()


def test_read_mono_takes_the_whole_file_in_one_buffer(call_files):
    y = read_mono(call_files["mono"])
    assert y.dtype == np.float32 and y.ndim == 1
    np.testing.assert_allclose(y, stereo_call().sum(axis=0), atol=1e-6)


# --- the same engine path as a stereo call ---------------------------------------------------------------


def test_mono_split_by_hand_is_analyzed_like_the_stereo_call(by_hand, call_files):
    stereo = analyze_file(call_files["stereo"], transcribe=False)
    mono = analyze_file(call_files["mono"], transcribe=False, speakers="2")
    assert by_hand["speakers"] == "2"
    # Same warnings, same voices: the customer's anger, then the agent mirroring it.
    assert kinds(mono) == kinds(stereo) == [("customer", "customer_agitated"), ("agent", "mirroring")]
    for m, s in zip(mono["warnings"], stereo["warnings"], strict=True):
        assert m["start"] == pytest.approx(s["start"], abs=0.3)
        assert m["raised_at"] == pytest.approx(s["raised_at"], abs=0.3)
    for who in ("agent", "customer"):
        ms, ss = mono[who]["summary"], stereo[who]["summary"]
        assert ms["pitch_median_hz"] == pytest.approx(ss["pitch_median_hz"], rel=0.03)
        assert ms["loudness_median_db"] == pytest.approx(ss["loudness_median_db"], abs=0.5)
        assert ms["talk_time_s"] == pytest.approx(ss["talk_time_s"], abs=1.5)
    # Conversation dynamics: the dead air is found; the interruption is overlapping speech, which is
    # attributed to neither voice, so a mono recording cannot show it (documented).
    assert [e["kind"] for e in stereo["events"]] == ["dead_air", "interruption"]
    assert [e["kind"] for e in mono["events"]] == ["dead_air"]
    assert mono["events"][0]["start"] == pytest.approx(stereo["events"][0]["start"], abs=0.1)
    assert mono["conversation"]["agent_talk_share"] == pytest.approx(
        stereo["conversation"]["agent_talk_share"], abs=0.05
    )
    # Stereo results have no separation; the CSV has both voices' columns in both.
    assert stereo["separation"] is None
    assert to_csv(mono).splitlines()[0] == to_csv(stereo).splitlines()[0]


def test_separation_section_says_how_the_voices_were_split_and_named(by_hand, call_files):
    r = analyze_file(call_files["mono"], transcribe=False, speakers="2")
    sep = r["separation"]
    assert sep["requested"] == "2" and sep["speakers"] == 2 and sep["method"] == "hand"
    assert sep["agent_choice"] == {
        "method": "rule:first",
        "voice": "first",
        "similarity": None,
        "margin": None,
        "uncertain": False,
    }
    voices = [s["voice"] for s in sep["stretches"]]
    assert voices[:2] == ["agent", "customer"] and None in voices
    overlap = [s for s in sep["stretches"] if s["voice"] is None]
    assert [(s["start"], s["end"]) for s in overlap] == [(45.33, 46.33)]
    assert sep["unattributed_s"] == pytest.approx(1.0, abs=0.01)
    assert all(0 <= s["confidence"] <= 1 for s in sep["stretches"])
    # The terminal summary says it in one line.
    from rich.console import Console

    from voice_coach.output.summary_view import render_result, separation_line

    console = Console(record=True, width=200)
    render_result(r, console)
    line = (
        "Mono recording: 2 voices (as asked); agent = first voice to speak (rule); "
        "1.0 s of speech given to neither voice (overlap, unsure)"
    )
    assert line in console.export_text()
    sep["requested"], sep["agent_choice"]["uncertain"] = "auto", True
    assert separation_line(sep).startswith("Mono recording: 2 voices (confidence 1.00); agent = first voice")
    assert "uncertain" in separation_line(sep)
    assert separation_line(None) is None
    one = {**sep, "requested": "2", "speakers": 1, "agent_choice": None}
    assert separation_line(one) == (
        "Mono recording: 1 voice (asked for 2: too little speech to tell two voices apart); "
        "all of it analyzed as the agent"
    )


def test_agent_voice_second_swaps_the_voices(by_hand, call_files):
    first = analyze_file(call_files["mono_calm_agent"], transcribe=False, speakers="2")
    second = analyze_file(call_files["mono_calm_agent"], transcribe=False, speakers="2", agent_voice="second")
    assert second["separation"]["agent_choice"]["method"] == "rule:second"
    assert second["agent"]["summary"]["pitch_median_hz"] == first["customer"]["summary"]["pitch_median_hz"]
    assert second["customer"]["summary"]["pitch_median_hz"] == first["agent"]["summary"]["pitch_median_hz"]
    # The customer (female voice) is now taken for the agent: her anger is the agent's warning.
    assert [k for _, k in kinds(second)] != ["customer_agitated"]


def test_voiceprint_in_the_profile_names_the_agent(monkeypatch, call_files):
    agent_print, other = unit(7), unit(8)
    near = agent_print + 0.3 * unit(9)
    centroids = np.stack([other, near / np.linalg.norm(near)])  # the agent is the second voice here

    def known(audio, **kwargs):
        return hand_separation(
            len(audio) / SR,
            stretches=tuple(
                VoiceStretch(s.start_s, s.end_s, 1 - s.voice if s.voice >= 0 else -1, s.confidence)
                for s in truth_stretches(len(audio) / SR)
            ),
            centroids=centroids,
        )

    monkeypatch.setattr(separate_module, "separate", known)
    profile = Baseline(None, -34.5, None, "profile", 20.0, tuple(float(x) for x in agent_print))
    r = analyze_file(call_files["mono_calm_agent"], transcribe=False, speakers="2", profile=profile)
    choice = r["separation"]["agent_choice"]
    assert choice["method"] == "voiceprint" and choice["voice"] == "second" and not choice["uncertain"]
    assert choice["similarity"]["agent"] > 0.9 > choice["similarity"]["customer"]
    assert choice["margin"] == pytest.approx(choice["similarity"]["agent"] - choice["similarity"]["customer"], abs=2e-3)
    # Named by voice, the calm agent is still the agent and the angry customer the customer.
    assert kinds(r) == [("customer", "customer_agitated")]
    assert r["agent"]["baseline"]["source"] == "profile"
    assert "voiceprint" not in r["agent"]["baseline"]  # biometric data stays in the profile file


# --- naming ----------------------------------------------------------------------------------------------


def test_name_agent_by_voiceprint_margin_and_uncertainty():
    a, b = unit(1), unit(2)
    sep = hand_separation(60.0, centroids=np.stack([a, b]))
    choice = name_agent(sep, voiceprint=b * 3.0)  # need not be normalised
    assert (choice.voice, choice.customer, choice.method) == (1, 0, "voiceprint")
    assert choice.similarity[1] == pytest.approx(1.0, abs=1e-6)
    assert choice.margin == pytest.approx(1.0 - float(a @ b), abs=1e-6) and not choice.uncertain
    # Halfway between the two voices: still a choice, but marked uncertain.
    mid = a + b + 0.01 * unit(3)
    halfway = name_agent(sep, voiceprint=mid)
    assert halfway.uncertain and 0 <= halfway.margin < UNCERTAIN_MARGIN
    # A rule given by the user wins over the voice print.
    assert name_agent(sep, voiceprint=b, rule="first").voice == 0


def test_name_agent_by_rule_follows_who_speaks_first():
    late_first = (VoiceStretch(0.0, 0.5, -1, 0.0), VoiceStretch(0.5, 2.0, 1, 0.9), VoiceStretch(2.5, 4.0, 0, 0.9))
    sep = hand_separation(4.0, stretches=late_first)
    assert name_agent(sep).voice == 1 and name_agent(sep).method == "rule:first"
    assert name_agent(sep, rule="second").voice == 0
    # Speech given to neither voice came first: who spoke first is not sure.
    assert name_agent(sep).uncertain
    assert not name_agent(hand_separation(4.0, stretches=late_first[1:])).uncertain
    unsure = hand_separation(4.0, stretches=(VoiceStretch(0.5, 2.0, 1, 0.2),))
    assert name_agent(unsure).uncertain
    nothing = hand_separation(4.0, stretches=(VoiceStretch(0.5, 2.0, -1, 0.0),))
    assert name_agent(nothing).uncertain and name_agent(nothing).voice == 0


def test_name_agent_by_rule_judges_the_opening_window_when_separate_measured_it():
    """``separate`` measures how near the first 1.6 s of speech is to each voice: the rule goes by that,
    even where the smoothed attribution gave the first stretch to the other voice, and says it is unsure
    when the opening is about as near to both."""
    from dataclasses import replace

    wrong_first = (VoiceStretch(0.5, 2.0, 1, 0.3), VoiceStretch(2.5, 4.0, 0, 0.9))
    sep = replace(hand_separation(4.0, stretches=wrong_first), opening=(0.82, 0.61))
    choice = name_agent(sep)
    assert choice.voice == 0 and choice.method == "rule:first" and not choice.uncertain
    assert name_agent(sep, rule="second").voice == 1
    close = replace(sep, opening=(0.70, 0.70 + UNCERTAIN_MARGIN / 2))
    assert name_agent(close).voice == 1 and name_agent(close).uncertain


@pytest.mark.parametrize("bad", ["third", "", "1"])
def test_agent_voice_must_be_first_or_second(bad):
    with pytest.raises(ConfigError, match="--agent-voice must be first or second"):
        parse_agent_voice(bad)
    assert parse_agent_voice(" Second ") == "second" and parse_agent_voice(None) is None


# --- options that do not fit the input --------------------------------------------------------------------


def test_speakers_one_is_todays_behaviour_with_no_separation(monkeypatch, call_files):
    def never(*_a, **_k):
        raise AssertionError("separate() must not run for --speakers 1")

    monkeypatch.setattr(separate_module, "separate", never)
    r = analyze_file(call_files["mono_calm_agent"], transcribe=False, speakers="1")
    assert r["customer"] is None and r["separation"] is None and r["conversation"] is None
    # The customer's anger lands on the agent: the reason this issue exists.
    assert any(s == "agent" for s, _ in kinds(r))


def test_a_two_channel_call_ignores_auto_and_refuses_one_speaker_or_agent_voice(monkeypatch, call_files):
    monkeypatch.setattr(separate_module, "separate", lambda *a, **k: pytest.fail("stereo is never separated"))
    r = analyze_file(call_files["stereo_calm_agent"], transcribe=False, speakers="auto")
    assert r["separation"] is None and r["customer"] is not None
    assert analyze_file(call_files["stereo_calm_agent"], transcribe=False, speakers="2")["separation"] is None
    with pytest.raises(ConfigError, match="--speakers 1 applies to mono recordings"):
        analyze_file(call_files["stereo_calm_agent"], transcribe=False, speakers="1")
    with pytest.raises(ConfigError, match="--agent-voice applies to mono recordings"):
        analyze_file(call_files["stereo_calm_agent"], transcribe=False, agent_voice="second")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--speakers", "3"], "--speakers must be auto, 1 or 2, got '3'"),
        (["--agent-voice", "bogus"], "--agent-voice must be first or second, got 'bogus'"),
        (
            ["--speakers", "1", "--agent-voice", "first"],
            "--agent-voice needs two voices; it makes no sense with --speakers 1",
        ),
    ],
)
def test_cli_bad_voice_options_are_one_line(tmp_path, call_files, args, message):
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["analyze", str(call_files["mono_calm_agent"]), *args, "--json", str(out)])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [f"voice-coach: error: {message}"]
    assert not out.exists()


def test_cli_stereo_with_speakers_one_is_one_line(tmp_path, call_files):
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["analyze", str(call_files["stereo_calm_agent"]), "--speakers", "1", "--json", str(out)])
    assert res.exit_code == 1 and len(res.output.strip().splitlines()) == 1
    assert "--speakers 1 applies to mono recordings" in res.output and not out.exists()


def help_text(command: str) -> str:
    """``voice-coach COMMAND --help`` as one line of words (the panel's borders and wrapping removed)."""
    res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    return " ".join(res.output.replace("│", " ").split())


def test_cli_help_explains_the_voice_flags():
    text = help_text("analyze")
    assert "--speakers" in text and "--agent-voice" in text and "nearer to the --profile's voice print" in text
    text = help_text("calibrate")
    assert "--no-voiceprint" in text and "biometric data" in text


# --- voice print in the profile ---------------------------------------------------------------------------


def test_profile_keeps_a_voiceprint_and_old_profiles_still_load(tmp_path):
    vp = unit(4) * 2.0
    path = tmp_path / "p.json"
    save_profile(Baseline(118.0, -31.5, 4.2, "profile", 40.0, tuple(float(x) for x in vp)), path, sources=["a.wav"])
    data = json.loads(path.read_text())
    assert len(data["voiceprint"]) == VOICEPRINT_DIM
    loaded = load_profile(path)
    assert np.linalg.norm(loaded.voiceprint) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(loaded.voiceprint, vp / np.linalg.norm(vp), atol=1e-5)
    assert "voiceprint" not in loaded.to_dict() and "voiceprint" not in repr(loaded)
    del data["voiceprint"]
    path.write_text(json.dumps(data))
    assert load_profile(path).voiceprint is None and load_profile(path).pitch_median_hz == 118.0


@pytest.mark.parametrize(
    "value, problem",
    [
        ([0.1] * 10, "must be a list of 256 numbers, got 10 values"),
        ("abc", "must be a list of 256 numbers, got str"),
        ([0.1] * 255 + ["x"], "not a finite number"),
        ([0.0] * 256, "all zeros"),
    ],
)
def test_malformed_voiceprint_is_one_line(tmp_path, call_files, value, problem):
    path = tmp_path / "p.json"
    save_profile(Baseline(118.0, -31.5, 4.2, "profile", 40.0), path, sources=["a.wav"])
    data = json.loads(path.read_text())
    data["voiceprint"] = value
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=problem):
        load_profile(path)
    res = runner.invoke(app, ["analyze", str(call_files["mono_calm_agent"]), "--profile", str(path)])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1 and problem in res.output


# --- through the real separation --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def calm_agent_profile(tmp_path_factory):
    """A profile, with a voice print, from the calm part of ``calm_then_rushed.wav``: the same synthetic
    agent voice as in the call."""
    import soundfile as sf

    d = tmp_path_factory.mktemp("profile")
    y, _ = sf.read(str(SAMPLES / "calm_then_rushed.wav"), dtype="float32")
    calm = write_wav(d / "calm.wav", y[: 37 * SR])
    prof = d / "agent.json"
    res = runner.invoke(app, ["calibrate", str(calm), "--out", str(prof)])
    assert res.exit_code == 0, res.output
    assert "with a voice print" in res.output
    return prof


def test_calibrate_stores_a_voiceprint_unless_told_not_to(tmp_path, calm_agent_profile):
    data = json.loads(calm_agent_profile.read_text())
    vp = np.asarray(data["voiceprint"])
    assert vp.shape == (VOICEPRINT_DIM,) and np.linalg.norm(vp) == pytest.approx(1.0, abs=1e-4)
    calm = calm_agent_profile.parent / "calm.wav"
    res = runner.invoke(app, ["calibrate", str(calm), "--out", str(tmp_path / "p.json"), "--no-voiceprint"])
    assert res.exit_code == 0 and "no voice print (--no-voiceprint)" in res.output
    plain = json.loads((tmp_path / "p.json").read_text())
    assert "voiceprint" not in plain
    assert plain["pitch_median_hz"] == data["pitch_median_hz"]  # the baseline itself does not change


def test_real_separation_with_voiceprint_names_the_agent(tmp_path, call_files, calm_agent_profile):
    """The customer speaks second; the voice print still names the agent when told the opposite rule would
    not, and the calm agent gets no warning while the angry customer raises customer_agitated."""
    out = tmp_path / "r.json"
    args = ["analyze", str(call_files["mono_calm_agent"]), "--profile", str(calm_agent_profile), "--json", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    r = json.loads(out.read_text())
    sep = r["separation"]
    assert sep["requested"] == "auto" and sep["speakers"] == 2 and sep["method"] == "ge2e+mfcc+spectral-clustering"
    choice = sep["agent_choice"]
    assert choice["method"] == "voiceprint" and choice["voice"] == "first" and not choice["uncertain"]
    assert choice["similarity"]["agent"] > choice["similarity"]["customer"] + UNCERTAIN_MARGIN
    assert kinds(r) == [("customer", "customer_agitated")]
    # Most of each voice's speech time went to the right voice.
    assert attributed_right(sep["stretches"], end_s=MIRRORING_FROM_S) >= 0.9


def attributed_right(stretches: list[dict], *, end_s: float) -> float:
    """Share of single-speaker speech time (per the truth) given to the right voice."""
    step = 0.01
    t = np.arange(0, end_s, step)
    truth = np.full(len(t), "", dtype=object)
    count = np.zeros(len(t), int)
    for u in TRUTH["utterances"]:
        inside = (t >= u["start"]) & (t < u["end"])
        truth[inside] = u["speaker"]
        count[inside] += 1
    got = np.full(len(t), None, dtype=object)
    for s in stretches:
        got[(t >= s["start"]) & (t < s["end"])] = s["voice"]
    single = count == 1
    return float(np.mean(got[single] == truth[single]))


def test_end_to_end_mono_call_with_transcription(tmp_path, call_files):
    """The whole mono call through the CLI (real separation, tiny.en on each voice): each voice's words
    land in its own section, the customer's anger is the customer's, the agent's phrases are spotted."""
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["analyze", str(call_files["mono"]), "--json", str(out)])
    assert res.exit_code == 0, res.output
    r = json.loads(out.read_text())
    assert r["separation"]["agent_choice"]["method"] == "rule:first"
    agent_text = " ".join(w["text"] for w in r["agent"]["words"]).lower()
    customer_text = " ".join(w["text"] for w in r["customer"]["words"]).lower()
    assert "thank you for calling" in agent_text and "coffee machine" not in agent_text
    assert "coffee machine" in customer_text and "thank you for calling" not in customer_text
    assert ("customer", "customer_agitated") in kinds(r)
    assert "defensive" in {p["category"] for p in r["phrases"]}  # "... nothing else I can do", the agent's
    assert r["scorecard"]["items"]


def test_report_marks_unattributed_speech_and_how_the_agent_was_chosen(by_hand, call_files, tmp_path):
    from voice_coach.output.report import render_report

    r = analyze_file(call_files["mono"], transcribe=False, speakers="2")
    out = tmp_path / "r.html"
    render_report(r, out)
    page = out.read_text()
    assert "agent = first voice to speak (rule)" in page and "speech given to neither voice" in page
    assert page.count('"name":"unattributed"') == 1  # one grey band: the overlap at 45.33-46.33 s
    # A stereo call has no such note and no bands.
    render_report(analyze_file(call_files["stereo"], transcribe=False), out)
    page = out.read_text()
    assert 'id="voices"' not in page and "unattributed" not in page


def test_voice_options_travel_to_batch_workers(tmp_path):
    """Batch workers get analyze_file's keyword arguments pickled: the voice options and a profile with a
    voice print survive the trip."""
    import pickle

    from voice_coach.app.batch import Job

    profile = Baseline(118.0, -31.5, 4.2, "profile", 40.0, tuple(float(x) for x in unit(5)))
    options = {"profile": profile, "speakers": "2", "agent_voice": "second"}
    job = Job(tmp_path / "call.wav", "alex", {}, options)
    back = pickle.loads(pickle.dumps(job))
    assert back.options["speakers"] == "2" and back.options["agent_voice"] == "second"
    assert back.options["profile"].voiceprint == profile.voiceprint
