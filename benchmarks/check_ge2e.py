"""Check the numpy GE2E encoder against Resemblyzer itself, on real speech.

Needs torch and resemblyzer, which the project does not depend on, so it runs in the throwaway venv
that ``tools/convert_ge2e.py`` uses (not a ``bench_*.py``: ``run_all.py`` does not run it)::

    /tmp/rzvenv/bin/python benchmarks/check_ge2e.py

(resemblyzer imports webrtcvad, which needs ``pkg_resources``: ``setuptools<81`` in that venv.)

For each clip (shipped samples, and RAVDESS clips and the faster-whisper clips when ../shared/data
is present) it embeds the same float32 array with Resemblyzer's ``VoiceEncoder.embed_utterance`` and
with ``voice_coach.voices.encoder.VoiceEncoder.embed_utterance``, and 1.6 s windows with both
(Resemblyzer's ``embed_utterance`` of the window vs our ``embed_windows``), and reports the largest
absolute difference of any component. Writes ``benchmarks/.cache/results/ge2e_check.json``, which
``bench_separation.py`` quotes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / ".cache" / "results" / "ge2e_check.json"
SHARED = ROOT.parent / "shared" / "data"


def load(path: Path) -> np.ndarray:
    import librosa

    y, _ = librosa.load(str(path), sr=16000, mono=True)
    return y.astype(np.float32)


def clips() -> list[Path]:
    out = [ROOT / "samples" / n for n in ("jfk.flac", "calm_then_rushed.wav", "call_stereo.wav")]
    if SHARED.exists():
        out.append(SHARED / "faster-whisper" / "stereo_diarization.wav")
        rav = sorted((SHARED / "ravdess").glob("*.flac"))
        out += rav[:: max(1, len(rav) // 12)][:12]
    return out


def main() -> None:
    from resemblyzer import VoiceEncoder as TorchEncoder
    from resemblyzer import preprocess_wav

    from voice_coach.voices.encoder import VoiceEncoder

    ref = TorchEncoder(device="cpu", verbose=False)
    ours = VoiceEncoder()
    rows = []
    worst = 0.0
    for path in clips():
        y = load(path)
        for name, wav in (("raw", y), ("preprocessed", preprocess_wav(y).astype(np.float32))):
            t0 = time.perf_counter()
            a = ref.embed_utterance(wav)
            t_ref = time.perf_counter() - t0
            t0 = time.perf_counter()
            b = ours.embed_utterance(wav)
            t_ours = time.perf_counter() - t0
            d_utt = float(np.max(np.abs(a - b)))
            starts = np.arange(0.0, max(0.0, len(wav) / 16000 - 1.6), 0.5)[:8]
            d_win = 0.0
            if len(starts):
                cut = [wav[int(round(s * 16000)) : int(round(s * 16000)) + 25600] for s in starts]
                wins_ref = np.stack([ref.embed_utterance(w) for w in cut])
                d_win = float(np.max(np.abs(wins_ref - ours.embed_windows(wav, starts))))
            worst = max(worst, d_utt, d_win)
            rows.append(
                {
                    "clip": path.name,
                    "input": name,
                    "seconds": round(len(wav) / 16000, 2),
                    "max_abs_diff_utterance": d_utt,
                    "max_abs_diff_windows": d_win,
                    "windows": len(starts),
                    "cosine": float(a @ b),
                    "resemblyzer_s": round(t_ref, 3),
                    "numpy_s": round(t_ours, 3),
                }
            )
            print(f"{path.name:32s} {name:12s} utt {d_utt:.2e} windows {d_win:.2e} cos {a @ b:.7f}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"max_abs_diff": worst, "clips": rows}, indent=1))
    print(f"largest absolute difference: {worst:.2e} over {len(rows)} embeddings")


if __name__ == "__main__":
    main()
