"""Mono mixes with a known answer for the separation benchmark (``bench_separation.py``).

Every mix is built from separate voices, so who speaks when is known to the 10 ms frame:

* ``stereo_mix``: a two-channel recording (agent left, customer right) summed to mono:
  ``samples/call_stereo.wav`` and faster-whisper's ``stereo_diarization.wav``. The truth is each
  channel's activity (20 ms frames within 35 dB of the channel's loudest, above -60 dBFS).
* ``turn_mix``: two RAVDESS actors taking turns, agent first, like ``warning_streams.call_stream``:
  the agent says their neutral and calm sentences of statement 1 ("Kids are talking by the door"),
  the customer their neutral and calm sentences, then their angry ones (the customer turns angry).
  The agent's statement-2 calm and neutral sentences are kept out of the mix: they are the
  *enrolment* clips a voice print is made from. Truth: each side's activity, as above.
* ``single``: one voice: jfk, ``calm_then_rushed.wav`` and a RAVDESS actor's calm-then-angry stream
  (``warning_streams.actor_stream``).
* ``phone``: any of these as a narrow-band phone call (8 kHz, 300-3400 Hz, mu-law, as
  ``warning_streams.phone``), each side band-limited before the mix.

RAVDESS (CC BY-NC-SA 4.0) is read from ``../shared/data/ravdess`` and never copied into the repository.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from common import SAMPLES, SR, RavdessClip, frame_db, load_mono, shared_data, silence, trim_silence
from warning_streams import TURN_GAP_S, Stream, actor_stream, phone

FRAME_S = 0.01
SILENCE, OVERLAP = -1, 2


@dataclass
class Mix:
    """A mono mix (16 kHz float32) and its answer."""

    name: str
    audio: np.ndarray
    truth: np.ndarray
    """Per 10 ms frame: -1 silence, 0 the first voice (the agent), 1 the second, 2 both."""
    voices: int
    """1 or 2: how many people speak in it."""
    group: str = "tuned"
    """``tuned`` (used to choose the settings) or ``held-out`` (not looked at while tuning)."""
    kind: str = ""
    enrol: list[np.ndarray] = field(default_factory=list)
    """The agent's other calm sentences (not in the mix), for a voice print."""
    channels: np.ndarray | None = None
    """``(2, n)``: the two sides before the mix (two-voice mixes)."""

    @property
    def duration_s(self) -> float:
        return self.audio.size / SR


def activity(y: np.ndarray, *, range_db: float = 35.0, floor_db: float = -60.0) -> np.ndarray:
    """Per 10 ms frame: is this channel speaking (20 ms RMS within ``range_db`` of its loudest)."""
    level = frame_db(np.pad(y, (0, 160)), frame_s=0.02)  # 20 ms frames
    on = level > max(level.max(initial=-120.0) - range_db, floor_db)
    # two 10 ms frames per 20 ms frame
    n = int(np.ceil(y.size / (FRAME_S * SR)))
    return np.repeat(on, 2)[:n] if on.size * 2 >= n else np.pad(np.repeat(on, 2), (0, n - 2 * on.size))


def truth_of(channels: np.ndarray, active: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    a, b = active if active is not None else (activity(channels[0]), activity(channels[1]))
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    t = np.full(n, SILENCE, dtype=np.int8)
    t[a & ~b] = 0
    t[b & ~a] = 1
    t[a & b] = OVERLAP
    return t


def from_channels(name: str, channels: np.ndarray, *, group: str, kind: str, enrol=None, active=None) -> Mix:
    mono = channels.sum(axis=0).astype(np.float32)
    return Mix(name, mono, truth_of(channels, active), 2, group, kind, list(enrol or []), channels)


def stereo_mixes() -> list[Mix]:
    from common import SHARED_DATA

    out = [
        from_channels("call_stereo", _channels(SAMPLES / "call_stereo.wav"), group="tuned", kind="two channels summed")
    ]
    fw = SAMPLES / "stereo_diarization.wav"
    if not fw.exists():
        fw = SHARED_DATA / "faster-whisper" / "stereo_diarization.wav"
    if fw.exists():
        out.append(from_channels("stereo_diarization", _channels(fw), group="held-out", kind="two channels summed"))
    return out


def _channels(path) -> np.ndarray:
    from voice_coach.sources.decode import load_audio

    return np.asarray(load_audio(path), dtype=np.float32)


# ------------------------------------------------------------------------------------------- RAVDESS
TUNED_PAIRS = [(1, 3), (5, 7), (2, 4), (6, 8), (1, 2), (4, 5), (8, 3), (7, 6)]
"""(agent, customer) pairs used while choosing the settings: actors 1-8 (odd male, even female)."""
HELD_OUT_PAIRS = [(9, 11), (11, 9), (10, 12), (12, 10), (9, 10), (12, 11)]
"""Pairs of actors 9-12, never looked at while tuning."""
SINGLE_TUNED = [1, 2, 3, 4, 5, 6, 7, 8]
SINGLE_HELD_OUT = [9, 10, 11, 12]


def _sentence(clip: RavdessClip) -> np.ndarray:
    return trim_silence(load_mono(clip.path), keep_s=0.1)


def turn_mix(clips: list[RavdessClip], agent: int, customer: int, *, group: str, seed: int = 0) -> Mix:
    rng = np.random.default_rng(seed * 1000 + agent * 37 + customer)
    mine = lambda actor, emotions: sorted(  # noqa: E731
        (c for c in clips if c.actor == actor and c.emotion in emotions), key=lambda c: c.path.name
    )
    a_calm = [c for c in mine(agent, ("neutral", "calm")) if c.statement == 1]
    enrol = [c for c in mine(agent, ("neutral", "calm")) if c.statement == 2]
    c_calm = mine(customer, ("neutral", "calm"))
    c_angry = mine(customer, ("angry",))
    c_turns = [c_calm[i] for i in rng.permutation(len(c_calm))] + [c_angry[i] for i in rng.permutation(len(c_angry))]
    # the customer's turns hold 1 to 3 sentences; the agent answers each with one sentence, taking
    # their 6 sentences in turn; a sentence said again is another take (resampled by 4 %, so not
    # the same samples twice: identical audio would make identical embeddings)
    sizes = []
    while sum(sizes) < len(c_turns):
        sizes.append(int(rng.integers(1, 4)))
    groups, k = [], 0
    for n in sizes:
        groups.append(c_turns[k : k + n])
        k += n
    a_order = [a_calm[i] for i in rng.permutation(len(a_calm))]
    turns: list[tuple[str, np.ndarray]] = []
    for i in range(len(groups) + 1):
        take = i // len(a_order)
        y = _sentence(a_order[i % len(a_order)])
        if take:
            y = _retake(y, take)
        turns.append(("agent", y))
        if i < len(groups):
            turns += [("customer", _sentence(c)) for c in groups[i]]
    left: list[np.ndarray] = [silence(0.5)]
    right: list[np.ndarray] = [silence(0.5)]
    # activity per sentence, relative to that sentence's loudest frame: a customer who shouts later
    # must not make their calm sentences count as silence
    act: dict[str, list[np.ndarray]] = {"agent": [], "customer": []}
    for j, (who, y) in enumerate(turns):
        z = np.zeros_like(y)
        left.append(y if who == "agent" else z)
        right.append(y if who == "customer" else z)
        same = j + 1 < len(turns) and turns[j + 1][0] == who
        gap = silence(rng.uniform(*(WITHIN_TURN_S if same else TURN_GAP_S)))
        left.append(gap)
        right.append(gap)
        act[who].append(activity(y))
        act["customer" if who == "agent" else "agent"].append(np.zeros(0, bool))
    channels = np.stack([np.concatenate(left), np.concatenate(right)])
    active = tuple(_placed(channels.shape[1], left, act[side]) for side in ("agent", "customer"))
    gender = "".join("MF"[a % 2 == 0] for a in (agent, customer))
    return from_channels(
        f"ravdess{agent:02d}-{customer:02d}",
        channels,
        group=group,
        kind=f"RAVDESS turns, {gender}, customer turns angry",
        enrol=[_sentence(c) for c in enrol],
        active=active,
    )


WITHIN_TURN_S = (0.3, 0.8)
"""Pause between two sentences of one customer turn."""


def _retake(y: np.ndarray, take: int) -> np.ndarray:
    """Another take of a sentence: resampled 4 % slower or faster (tempo and pitch), alternately."""
    from scipy.signal import resample_poly

    up, down = (25, 24) if take % 2 else (24, 25)
    return resample_poly(y.astype(np.float64), up, down).astype(np.float32)


def _placed(n: int, pieces: list[np.ndarray], sentence_activity: list[np.ndarray]) -> np.ndarray:
    """Per 10 ms frame of the whole side: each sentence's own activity at its place."""
    out = np.zeros(int(np.ceil(n / (FRAME_S * SR))), dtype=bool)
    t = pieces[0].size  # the leading silence
    for k, i in enumerate(range(1, len(pieces), 2)):  # sentence (or its silent stand-in), then the gap
        a = sentence_activity[k] if k < len(sentence_activity) else np.zeros(0, bool)
        f0 = int(round(t / (FRAME_S * SR)))
        out[f0 : f0 + a.size] |= a[: max(0, out.size - f0)]
        t += pieces[i].size + pieces[i + 1].size
    return out


def ravdess_mixes(clips: list[RavdessClip]) -> list[Mix]:
    out = [turn_mix(clips, a, c, group="tuned") for a, c in TUNED_PAIRS]
    out += [turn_mix(clips, a, c, group="held-out") for a, c in HELD_OUT_PAIRS]
    return out


def single_mixes(clips: list[RavdessClip]) -> list[Mix]:
    out = []
    for name in ("jfk.flac", "calm_then_rushed.wav"):
        y = load_mono(SAMPLES / name)
        t = np.where(activity(y), 0, SILENCE).astype(np.int8)
        out.append(Mix(name.split(".")[0], y, t, 1, "tuned", "one voice (shipped sample)"))
    for actor in SINGLE_TUNED + SINGLE_HELD_OUT:
        if not any(c.actor == actor for c in clips):
            continue
        s = actor_stream(clips, actor)
        y = s.audio[0].astype(np.float32)
        on = np.zeros(int(np.ceil(y.size / (FRAME_S * SR))), dtype=bool)
        for a, b, _ in s.speech_spans["agent"]:  # each sentence's activity against its own loudest frame
            f0 = int(round(a / FRAME_S))
            seg = activity(y[int(round(a * SR)) : int(round(b * SR))])
            on[f0 : f0 + seg.size] |= seg[: max(0, on.size - f0)]
        t = np.where(on, 0, SILENCE).astype(np.int8)
        group = "tuned" if actor in SINGLE_TUNED else "held-out"
        out.append(Mix(f"actor{actor:02d}", y, t, 1, group, "one RAVDESS actor, calm then angry"))
    return out


def phone_mix(mix: Mix) -> Mix:
    """The mix as a phone call delivers it; two-voice mixes are band-limited per side; the truth
    stays the wideband one."""
    src = mix.channels if mix.channels is not None else mix.audio[None, :]
    narrow = phone(Stream(mix.name, src)).audio
    n = mix.audio.size
    mono = narrow.sum(axis=0)[:n].astype(np.float32)
    enrol = [phone(Stream("e", e[None, :])).audio[0].astype(np.float32) for e in mix.enrol]
    return Mix(mix.name + "-phone", mono, mix.truth, mix.voices, mix.group, mix.kind + ", phone band", enrol)


def all_mixes(*, with_phone: bool = True) -> list[Mix]:
    """Every mix this benchmark uses (RAVDESS ones only when ../shared/data/ravdess is present)."""
    from common import ravdess_clips

    folder = shared_data("ravdess", what="RAVDESS actors for the turn-taking and one-actor mixes")
    clips = ravdess_clips(folder) if folder else []
    two = stereo_mixes()
    rav = ravdess_mixes(clips) if clips else []
    one = single_mixes(clips)
    out = two + rav + one
    if with_phone:
        out += [phone_mix(m) for m in rav]
        out += [phone_mix(m) for m in one if m.name.startswith("actor")]
    return out


# ------------------------------------------------------------------------------------------- scoring
@dataclass
class Score:
    right: float
    """Share of single-speaker speech time given to the right voice (best label permutation;
    unattributed counts as wrong)."""
    unattributed: float
    """Share of single-speaker speech time given to no voice (voice -1 or outside every stretch)."""
    wrong: float
    """Share given to the other voice."""
    speakers: int
    single_s: float
    """Seconds of single-speaker speech in the truth."""
    agent_voice: int
    """Which separated voice (0/1) holds most of the agent's speech (-1 when not split)."""


def predicted_frames(sep, n: int) -> np.ndarray:
    """Per 10 ms frame: the voice the separation gives it (-1 none)."""
    p = np.full(n, -1, dtype=np.int8)
    for s in sep.stretches:
        a, b = int(round(s.start_s / FRAME_S)), int(round(s.end_s / FRAME_S))
        p[max(a, 0) : max(min(b, n), 0)] = s.voice if sep.speakers == 2 else 0
    return p


def score(mix: Mix, sep) -> Score:
    t = mix.truth
    p = predicted_frames(sep, t.size)
    single = (t == 0) | (t == 1)
    n = max(int(single.sum()), 1)
    if mix.voices == 1:
        right = float(((p == 0) & single).sum()) / n if sep.speakers == 1 else float(np.nan)
        if sep.speakers == 2:  # the one voice should be all in one of the two
            right = max(float(((p == v) & single).sum()) / n for v in (0, 1))
        unattr = float(((p < 0) & single).sum()) / n
        return Score(right, unattr, 1 - right - unattr, sep.speakers, n * FRAME_S, -1)
    best, agent_voice = -1.0, -1
    for perm in ((0, 1), (1, 0)):
        ok = ((p == perm[0]) & (t == 0)) | ((p == perm[1]) & (t == 1))
        r = float(ok.sum()) / n
        if r > best:
            best, agent_voice = r, perm[0]
    unattr = float(((p < 0) & single).sum()) / n
    if sep.speakers == 1:
        agent_voice = -1
    return Score(best, unattr, 1 - best - unattr, sep.speakers, n * FRAME_S, agent_voice)
