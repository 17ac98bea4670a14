"""Build (and cache) the long recordings the throughput benchmark runs on.

    python benchmarks/make_long_recording.py [--hour]

* ``long_10min.wav``: about 10 minutes of mono 16 kHz speech, made of the repository's samples
  (``calm_then_rushed.wav``, the agent (left) channel of ``call_stereo.wav``, ``jfk.flac``, the
  left channel of ``stereo_diarization.wav``) interleaved with paragraphs of contact-centre talk
  read by espeak-ng in four voices at different speeds and levels, joined by 0.6 to 1.5 s pauses.
  So it has calm and rushed stretches, a real voice, the long silences of a call's agent channel
  (customer turns, dead air) and mostly unrepeated text, so that Whisper sees what a real call
  gives it rather than one clip over and over.
* ``long_1hour.wav``: the 10-minute recording six times over (written block by block, so building
  it never holds the hour in memory).

Both are written to ``benchmarks/.cache/`` with a ``.json`` manifest listing each part's span, and
reused while the manifest's ``version`` matches ``VERSION`` below.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SAMPLES, SR, cache_dir, espeak, level_to, load_mono, rel, silence, trim_silence  # noqa: E402

VERSION = 1
TARGET_S = 600.0
HOUR_REPEATS = 6

# (voice, espeak speed in wpm, espeak pitch 0-99, level in dBFS, text)
PARAGRAPHS = [
    (
        "en-gb",
        150,
        45,
        -30.0,
        "Good morning, you are through to the billing team, my name is Priya. Before we start, can I take the "
        "account number and the first line of the address, please? Thank you. I can see the last invoice went "
        "out on the third of the month, and there is a charge on it for a late payment. Let me explain where "
        "that comes from. The direct debit was set up for the first, but the bank returned it, so the system "
        "added the fee automatically. I can take that fee off today, as a one-off, and move the payment date to "
        "the fifteenth so it lines up with your salary. Would that work for you?",
    ),
    (
        "en-us+f3",
        170,
        55,
        -28.0,
        "Okay, so I have been on hold for forty minutes already and nobody has told me anything. The engineer "
        "was supposed to come on Tuesday between eight and twelve. I took the morning off work. Nobody came, "
        "nobody called, and when I rang the number on the letter it just went to a recorded message. I want to "
        "know what happened, and I want a proper appointment, not another window of four hours where I sit at "
        "home waiting. Can you actually book it, or do I need to speak to somebody else?",
    ),
    (
        "en-us",
        140,
        40,
        -33.0,
        "I completely understand, and I am sorry that you lost a morning. Let me look at what the engineer's "
        "notes say. Right, I can see the visit was cancelled at seven in the morning because the van broke "
        "down, and the text message that should have gone to you was sent to an old number. That is our "
        "mistake. What I can do now is book the first slot tomorrow, between eight and ten, and I will put a "
        "note on it so that the engineer calls you thirty minutes before arriving. I will also update the "
        "phone number on the account so this does not happen again.",
    ),
    (
        "en+m3",
        185,
        60,
        -26.0,
        "Look, I have heard all of that before. Every time I call it is a new excuse. Last month it was the "
        "weather, the month before it was a system upgrade. I pay for this service every single month and it "
        "has not worked properly since the summer. I am not interested in another apology, I want to know what "
        "you are going to do about the money I have paid for a service I did not get.",
    ),
    (
        "en-gb",
        145,
        35,
        -32.0,
        "That is a fair question. Looking at the account, there were eleven days in July and six days in "
        "August when the line was down. I can credit those seventeen days back to you, which comes to "
        "twenty-three pounds and forty pence, and it will show on your next bill. On top of that I can "
        "apply the loyalty discount, which takes five pounds off every month for the next year. I know it does "
        "not give you the time back, but I would like to make it right where I can.",
    ),
    (
        "en-us+f3",
        155,
        50,
        -31.0,
        "Alright, thank you, that does help. Can you send me an email confirming the credit and the new "
        "appointment? And the reference number, in case I need to call again. I would rather not explain the "
        "whole story from the beginning a third time. Also, is there a direct number for the engineering team, "
        "or does everything have to go through the main line?",
    ),
    (
        "en-us",
        165,
        45,
        -30.0,
        "Of course. I have sent the confirmation to the address on the account just now, it should arrive "
        "in the next few minutes, and the reference number is at the top. The engineering team do not take "
        "calls directly, I am afraid, but if you quote that reference when you call, whoever answers will see "
        "everything we did today, so you will not need to start again. Is there anything else I can help you "
        "with while I have you on the line?",
    ),
    (
        "en+m3",
        150,
        40,
        -29.0,
        "No, I think that is everything. Sorry for shouting earlier, it has been a long week and this was the "
        "last thing I needed. I appreciate you sorting it out. If the engineer turns up tomorrow then we are "
        "good. Thanks for your help, and have a good rest of the day.",
    ),
]
PAUSES_S = [0.8, 1.2, 0.6, 1.5, 0.9, 1.1, 0.7, 1.3]


def _sample_parts() -> list[tuple[str, np.ndarray]]:
    return [
        ("samples/calm_then_rushed.wav", load_mono(SAMPLES / "calm_then_rushed.wav")),
        ("samples/call_stereo.wav (left, agent)", load_mono(SAMPLES / "call_stereo.wav", channel=0)),
        ("samples/jfk.flac (channel 0)", load_mono(SAMPLES / "jfk.flac", channel=0)),
        ("samples/stereo_diarization.wav (left)", load_mono(SAMPLES / "stereo_diarization.wav", channel=0)),
    ]


def _paragraph_parts() -> list[tuple[str, np.ndarray]]:
    out = []
    for i, (voice, speed, pitch, level, text) in enumerate(PARAGRAPHS):
        y = trim_silence(espeak(text, voice=voice, speed_wpm=speed, pitch=pitch), keep_s=0.1)
        out.append(
            (f"espeak-ng paragraph {i + 1} ({voice}, -s {speed}, -p {pitch}, {level:.0f} dBFS)", level_to(y, level))
        )
    return out


def _manifest_ok(wav: Path, manifest: Path) -> bool:
    if not (wav.exists() and manifest.exists()):
        return False
    try:
        return json.loads(manifest.read_text()).get("version") == VERSION
    except (OSError, json.JSONDecodeError):
        return False


def long_recording(*, rebuild: bool = False) -> Path:
    """The ~10-minute mono recording (see the module docstring); built on first use."""
    from common import write_wav

    folder = cache_dir()
    wav, manifest = folder / "long_10min.wav", folder / "long_10min.json"
    if not rebuild and _manifest_ok(wav, manifest):
        return wav
    print("building the 10-minute recording (espeak-ng + samples) ...", file=sys.stderr)
    samples, paragraphs = _sample_parts(), _paragraph_parts()
    # Interleave: a sample, then a paragraph, cycling both lists until TARGET_S is reached.
    parts, parts_s = [], 0.0
    k = 0
    while parts_s < TARGET_S:
        source = samples if k % 2 == 0 else paragraphs
        name, y = source[(k // 2) % len(source)]
        parts.append((name, y))
        parts_s += len(y) / SR + PAUSES_S[k % len(PAUSES_S)]
        k += 1
    pieces, spans, t = [], [], 0.0
    for i, (name, y) in enumerate(parts):
        pause = silence(PAUSES_S[i % len(PAUSES_S)])
        pieces += [pause, y]
        start = t + len(pause) / SR
        t = start + len(y) / SR
        spans.append({"start": round(start, 3), "end": round(t, 3), "part": name})
    audio = np.concatenate(pieces + [silence(0.5)])
    write_wav(wav, audio)
    manifest.write_text(
        json.dumps({"version": VERSION, "duration_s": round(len(audio) / SR, 3), "parts": spans}, indent=1) + "\n"
    )
    return wav


def hour_recording(*, rebuild: bool = False) -> Path:
    """The 10-minute recording repeated ``HOUR_REPEATS`` times; built on first use."""
    import soundfile as sf

    src = long_recording(rebuild=rebuild)
    folder = cache_dir()
    wav, manifest = folder / "long_1hour.wav", folder / "long_1hour.json"
    if not rebuild and _manifest_ok(wav, manifest) and wav.stat().st_mtime >= src.stat().st_mtime:
        return wav
    print("building the 1-hour recording ...", file=sys.stderr)
    y, sr = sf.read(str(src), dtype="int16")
    tmp = wav.with_name(wav.stem + ".partial.wav")
    with sf.SoundFile(str(tmp), "w", samplerate=sr, channels=1, subtype="PCM_16") as f:
        for _ in range(HOUR_REPEATS):
            f.write(y)
    tmp.replace(wav)
    manifest.write_text(
        json.dumps(
            {
                "version": VERSION,
                "duration_s": round(HOUR_REPEATS * len(y) / sr, 3),
                "repeats_of": rel(src),
                "repeats": HOUR_REPEATS,
            },
            indent=1,
        )
        + "\n"
    )
    return wav


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hour", action="store_true", help="also build the 1-hour recording")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even when cached")
    args = parser.parse_args()
    path = long_recording(rebuild=args.rebuild)
    info = json.loads(path.with_suffix(".json").read_text())
    print(f"{rel(path)}: {info['duration_s']:.1f} s, {len(info['parts'])} parts")
    for p in info["parts"]:
        print(f"  {p['start']:7.2f} - {p['end']:7.2f}  {p['part']}")
    if args.hour:
        h = hour_recording(rebuild=args.rebuild)
        print(f"{rel(h)}: {json.loads(h.with_suffix('.json').read_text())['duration_s']:.1f} s")


if __name__ == "__main__":
    main()
