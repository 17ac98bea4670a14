"""Regenerate the synthetic demo recordings in ``samples/`` from espeak-ng and sox.

    python tools/make_samples.py [--out DIR]

Writes, into DIR (default: the repository's ``samples/`` folder):

- ``calm_then_rushed.wav``: mono 16 kHz 16-bit, one agent voice; about 37 s calm and slow, then
  about 28 s fast, loud and high. ``calm_then_rushed.truth.json`` gives every sentence's timing.
- ``call_stereo.wav``: stereo 16 kHz 16-bit, left = agent, right = customer, taking turns; the
  customer escalates, the agent mirrors near the end; one interruption and one stretch of dead air.
  ``call_stereo.truth.json`` gives every utterance's timing, text and style, and those two events.

Everything is fixed here (text, voices, rates, pitches, levels, pauses), and espeak-ng and sox are
deterministic, so a rerun with the same espeak-ng and sox versions gives the same bytes. espeak-ng
speaks at 22.05 kHz; sox resamples each sentence to 16 kHz; numpy trims, levels and places it.
Needs the ``espeak-ng`` and ``sox`` programs, numpy and soundfile.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE_RATE = 16000
FRAME_S = 0.01
# A frame is speech when its RMS is within this many dB of the sentence's loudest frame; used both
# to trim espeak-ng's leading/trailing silence and to measure the level of the voiced part.
ACTIVE_RANGE_DB = 40.0
FADE_S = 0.005
PEAK_LIMIT_DBFS = -1.0

AGENT_VOICE = "en-us"
CUSTOMER_VOICE = "en-us+f3"


@dataclass(frozen=True)
class Style:
    """How a sentence is spoken.

    ``speed_wpm`` and ``pitch`` are espeak-ng's ``-s`` and ``-p`` (0-99, 50 is the voice's normal);
    ``level_dbfs`` is the RMS of the voiced frames after levelling, in dB relative to full scale.
    """

    name: str
    speed_wpm: int
    pitch: int
    level_dbfs: float


# One agent voice throughout: "rushed" is the same speaker, faster, 9 dB louder and much higher.
AGENT_CALM = Style("calm", speed_wpm=145, pitch=40, level_dbfs=-34.5)
AGENT_RUSHED = Style("rushed", speed_wpm=225, pitch=85, level_dbfs=-25.5)
# Stereo call: the agent mirrors the customer near the end (louder, higher, faster than calm).
AGENT_MIRRORING = Style("mirroring", speed_wpm=210, pitch=80, level_dbfs=-27.0)
CUSTOMER_CALM = Style("calm", speed_wpm=150, pitch=45, level_dbfs=-34.0)
CUSTOMER_TENSE = Style("tense", speed_wpm=185, pitch=65, level_dbfs=-30.0)
CUSTOMER_ANGRY = Style("angry", speed_wpm=225, pitch=90, level_dbfs=-25.0)

# (text, pause before it in seconds); the first pause is the lead-in silence.
CALM_SENTENCES = [
    ("Thank you for calling, my name is Alex, how can I help you today?", 0.50),
    ("I am sorry to hear that your order hasn't arrived yet.", 0.60),
    ("Could you please give me your order number, so I can look it up for you?", 0.70),
    ("Thank you. I can see the order here, it was shipped on Monday.", 0.50),
    ("It looks like the parcel was held up at our local depot.", 0.80),
    ("I understand, and I will make sure that we sort this out for you.", 0.60),
    ("Let me just check what options we have.", 0.40),
    ("We can send you a replacement, or we can give you a full refund.", 0.70),
    ("Which one would you prefer?", 0.50),
]
RUSHED_SENTENCES = [
    ("Look, I already told you, the refund takes five to seven days, there is nothing else I can do right now.", 0.90),
    ("No, I cannot speed it up, it is not up to me, it is up to the bank.", 0.20),
    ("I have explained this again and again, you need to listen to what I am saying.", 0.15),
    ("If you want to complain you can send us an email, but it will not change anything.", 0.25),
    ("The parcel is delayed, the refund is booked, and I cannot change any of that.", 0.20),
    ("There are other customers waiting, so is there anything else, yes or no?", 0.15),
    ("Honestly, I do not know what else you want me to say, the system will not let me do more.", 0.25),
    ("Fine, I will put a note on your account, but the answer is still the same.", 0.20),
]
TAIL_SILENCE_S = 0.5


@dataclass(frozen=True)
class Line:
    """One utterance of the stereo call.

    ``gap_s`` is the silence from the end of the previous utterance to the start of this one; a
    negative gap starts this one before the previous has finished (an interruption). ``phrase`` is
    the category of a phrase the analyzer should spot: empathy, choice, defensive (or None).
    ``spoken``, when set, is what espeak-ng is given instead of ``text``: a respelling so that its
    pronunciation is heard as the words of ``text``.
    """

    speaker: str
    style: Style
    gap_s: float
    text: str
    phrase: str | None = None
    spoken: str | None = None


DEAD_AIR_S = 7.0
INTERRUPTION_OVERLAP_S = 1.0
CALL = [
    Line("agent", AGENT_CALM, 0.40, "Thank you for calling, my name is Alex, how can I help you today?"),
    Line("customer", CUSTOMER_CALM, 0.60, "Hi, I ordered a coffee machine two weeks ago and it still hasn't arrived."),
    Line("agent", AGENT_CALM, 0.50, "I am sorry to hear that. Could you please give me your order number?"),
    Line("customer", CUSTOMER_CALM, 0.70, "Yes, it is four five seven, two one nine."),
    Line("agent", AGENT_CALM, 0.40, "Thank you. Let me look it up for you."),
    # The agent searches in silence: dead air on both channels.
    Line("agent", AGENT_CALM, DEAD_AIR_S, "Thanks for waiting. I can see the parcel was held up at the depot."),
    Line(
        "customer",
        CUSTOMER_TENSE,
        0.40,
        "Held up again? This is the second time this has happened, and I need it this week.",
    ),
    Line("agent", AGENT_CALM, 0.80, "I understand how frustrating this must be.", "empathy"),
    Line(
        "customer",
        CUSTOMER_ANGRY,
        0.30,
        "No, you do not understand, I have waited two weeks and nobody has called me back!",
    ),
    # The agent talks over the end of the customer's sentence.
    Line("agent", AGENT_CALM, -INTERRUPTION_OVERLAP_S, "Would you prefer a replacement or a refund?", "choice"),
    Line("customer", CUSTOMER_ANGRY, 0.30, "I want my machine, not one more promise, this is ridiculous!"),
    # tiny.en hears espeak-ng's "our" as "how it"; given "are", espeak-ng says what it hears as "our".
    Line(
        "agent",
        AGENT_MIRRORING,
        0.40,
        "Calm down, that's our policy, I cannot send it any faster.",
        "defensive",
        spoken="Calm down, that's are policy, I cannot send it any faster.",
    ),
    Line("customer", CUSTOMER_ANGRY, 0.30, "Don't tell me to calm down! I want to speak to your manager, right now!"),
    Line(
        "agent",
        AGENT_MIRRORING,
        0.35,
        "Look, the manager will tell you exactly the same thing, there is nothing else I can do.",
        "defensive",
    ),
]
CHANNELS = {"agent": 0, "customer": 1}


class SampleError(Exception):
    """A failure reported as one line by ``main``."""


def require_tools() -> None:
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        raise SampleError(
            f"make_samples: {' and '.join(missing)} not found on PATH; install them "
            "(Debian/Ubuntu: apt-get install espeak-ng sox) and rerun"
        )


def synthesize(text: str, voice: str, style: Style, workdir: Path) -> np.ndarray:
    """Speak ``text`` and return it trimmed and levelled: float32 mono at 16 kHz, shape (n,)."""
    raw = workdir / "espeak.wav"
    resampled = workdir / "16k.wav"
    run(["espeak-ng", "-v", voice, "-s", str(style.speed_wpm), "-p", str(style.pitch), "-z", "-w", str(raw), text])
    # -D: no dither, so the float output is a pure function of the input.
    run(["sox", "-D", str(raw), "-e", "floating-point", "-b", "32", str(resampled), "rate", "-v", str(SAMPLE_RATE)])
    audio, sr = sf.read(resampled, dtype="float64")
    assert sr == SAMPLE_RATE
    audio = trim(audio)
    gain = 10.0 ** ((style.level_dbfs - active_rms_dbfs(audio)) / 20.0)
    audio = audio * gain
    fade = int(FADE_S * SAMPLE_RATE)
    ramp = np.linspace(0.0, 1.0, fade)
    audio[:fade] *= ramp
    audio[-fade:] *= ramp[::-1]
    return audio.astype(np.float32)


def run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise SampleError(f"make_samples: {command[0]} failed (exit {result.returncode}): {detail}")


def frame_rms_db(audio: np.ndarray) -> np.ndarray:
    """RMS in dBFS of consecutive 10 ms frames, shape (n // 160,)."""
    hop = int(FRAME_S * SAMPLE_RATE)
    n = len(audio) // hop
    frames = audio[: n * hop].reshape(n, hop)
    return 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


def trim(audio: np.ndarray) -> np.ndarray:
    """Cut the silence before the first and after the last voiced 10 ms frame."""
    db = frame_rms_db(audio)
    active = np.flatnonzero(db > db.max() - ACTIVE_RANGE_DB)
    hop = int(FRAME_S * SAMPLE_RATE)
    return audio[active[0] * hop : (active[-1] + 1) * hop].copy()


def active_rms_dbfs(audio: np.ndarray) -> float:
    """RMS in dBFS over the voiced frames only, so pauses inside a sentence do not lower it."""
    db = frame_rms_db(audio)
    voiced = db[db > db.max() - ACTIVE_RANGE_DB]
    return float(10.0 * np.log10(np.mean(10.0 ** (voiced / 10.0))))


def write_wav(path: Path, audio: np.ndarray) -> None:
    peak = float(np.max(np.abs(audio)))
    peak_dbfs = 20.0 * np.log10(peak)
    if peak_dbfs > PEAK_LIMIT_DBFS:
        raise SampleError(
            f"make_samples: {path.name}: peak {peak_dbfs:.1f} dBFS is above {PEAK_LIMIT_DBFS} dBFS; lower the levels"
        )
    sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def style_dict(style: Style) -> dict:
    return {
        "name": style.name,
        "espeak_speed_wpm": style.speed_wpm,
        "espeak_pitch": style.pitch,
        "level_dbfs": style.level_dbfs,
    }


def make_calm_then_rushed(out: Path, workdir: Path) -> None:
    pieces: list[np.ndarray] = []
    utterances = []
    cursor = 0
    for style, sentences in ((AGENT_CALM, CALM_SENTENCES), (AGENT_RUSHED, RUSHED_SENTENCES)):
        for text, pause_s in sentences:
            speech = synthesize(text, AGENT_VOICE, style, workdir)
            pause = np.zeros(round(pause_s * SAMPLE_RATE), dtype=np.float32)
            pieces += [pause, speech]
            start = cursor + len(pause)
            cursor = start + len(speech)
            utterances.append(
                {
                    "start": round(start / SAMPLE_RATE, 3),
                    "end": round(cursor / SAMPLE_RATE, 3),
                    "text": text,
                    "style": style.name,
                }
            )
    pieces.append(np.zeros(round(TAIL_SILENCE_S * SAMPLE_RATE), dtype=np.float32))
    audio = np.concatenate(pieces)
    write_wav(out / "calm_then_rushed.wav", audio)
    first_rushed = next(u for u in utterances if u["style"] == AGENT_RUSHED.name)
    write_json(
        out / "calm_then_rushed.truth.json",
        {
            "file": "calm_then_rushed.wav",
            "sample_rate": SAMPLE_RATE,
            "duration_s": round(len(audio) / SAMPLE_RATE, 3),
            "voice": AGENT_VOICE,
            "styles": {s.name: style_dict(s) for s in (AGENT_CALM, AGENT_RUSHED)},
            "calm": {"start": utterances[0]["start"], "end": utterances[len(CALM_SENTENCES) - 1]["end"]},
            "rushed": {"start": first_rushed["start"], "end": utterances[-1]["end"]},
            "utterances": utterances,
        },
    )


def make_call_stereo(out: Path, workdir: Path) -> None:
    voices = {"agent": AGENT_VOICE, "customer": CUSTOMER_VOICE}
    placed = []  # (start sample, speaker, style, text, phrase, audio)
    cursor = 0
    for line in CALL:
        speech = synthesize(line.spoken or line.text, voices[line.speaker], line.style, workdir)
        start = cursor + round(line.gap_s * SAMPLE_RATE)
        placed.append((start, line.speaker, line.style, line.text, line.phrase, speech))
        cursor = start + len(speech)
    total = cursor + round(TAIL_SILENCE_S * SAMPLE_RATE)
    audio = np.zeros((total, 2), dtype=np.float32)
    utterances = []
    for start, speaker, style, text, phrase, speech in placed:
        audio[start : start + len(speech), CHANNELS[speaker]] += speech
        utterances.append(
            {
                "start": round(start / SAMPLE_RATE, 3),
                "end": round((start + len(speech)) / SAMPLE_RATE, 3),
                "channel": CHANNELS[speaker],
                "speaker": speaker,
                "text": text,
                "style": style.name,
                "phrase_category": phrase,
            }
        )
    write_wav(out / "call_stereo.wav", audio)

    events = []
    for before, after in zip(utterances, utterances[1:], strict=False):
        gap = after["start"] - before["end"]
        if gap < 0:
            events.append(
                {
                    "kind": "interruption",
                    "start": after["start"],
                    "end": before["end"],
                    "speaker": after["speaker"],
                    "interrupted": before["speaker"],
                    "overlap_s": round(-gap, 3),
                }
            )
        elif gap >= DEAD_AIR_S - 0.01:
            events.append(
                {
                    "kind": "dead_air",
                    "start": before["end"],
                    "end": after["start"],
                    "speaker": None,
                    "duration_s": round(gap, 3),
                }
            )
    write_json(
        out / "call_stereo.truth.json",
        {
            "file": "call_stereo.wav",
            "sample_rate": SAMPLE_RATE,
            "duration_s": round(total / SAMPLE_RATE, 3),
            "channels": {"0": "agent (left)", "1": "customer (right)"},
            "voices": voices,
            "styles": {
                "agent": {s.name: style_dict(s) for s in (AGENT_CALM, AGENT_MIRRORING)},
                "customer": {s.name: style_dict(s) for s in (CUSTOMER_CALM, CUSTOMER_TENSE, CUSTOMER_ANGRY)},
            },
            "utterances": utterances,
            "events": events,
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the synthetic demo recordings from espeak-ng and sox.")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "samples",
        help="folder to write into (default: the repository's samples/)",
    )
    args = parser.parse_args(argv)
    try:
        require_tools()
        args.out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="make_samples_") as tmp:
            make_calm_then_rushed(args.out, Path(tmp))
            make_call_stereo(args.out, Path(tmp))
    except SampleError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"wrote calm_then_rushed.wav, call_stereo.wav and their .truth.json files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
