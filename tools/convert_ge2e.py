"""Rebuild voice_coach/voices/ge2e.npz from Resemblyzer's pretrained GE2E encoder.

The weights ship in the ``resemblyzer`` 0.1.4 wheel as ``resemblyzer/pretrained.pt`` (Apache-2.0,
see voice_coach/voices/LICENSE-resemblyzer). Reading a ``.pt`` needs torch, and the mel filterbank
is computed with librosa exactly as Resemblyzer's front end does, so run this in a throwaway venv,
never in the project's own::

    python -m venv /tmp/rzvenv
    /tmp/rzvenv/bin/pip install torch==2.13.0 resemblyzer==0.1.4 "setuptools<81"
    /tmp/rzvenv/bin/python tools/convert_ge2e.py            # downloads the wheel with pip
    /tmp/rzvenv/bin/python tools/convert_ge2e.py --wheel resemblyzer-0.1.4-py3-none-any.whl

The npz holds float32 arrays only (no pickles), laid out for ``voice_coach.voices.encoder``:

- ``mel_fb`` (40, 201): librosa's Slaney mel filterbank for 16 kHz, n_fft 400;
- ``window`` (400,): the periodic Hann window of librosa's STFT;
- ``w_ih{k}`` (in, 1024), ``w_hh{k}`` (256, 1024), ``b{k}`` (1024,) for LSTM layers k = 0, 1, 2: the
  transposed PyTorch matrices (gate order i, f, g, o) and the sum of the two biases;
- ``w_out`` (256, 256), ``b_out`` (256,): the projection, transposed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "voice_coach" / "voices" / "ge2e.npz"
VERSION = "0.1.4"
SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms at 16 kHz
N_MELS = 40
LAYERS = 3


def fetch_wheel(dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", f"resemblyzer=={VERSION}", "--no-deps", "-d", str(dest), "-q"],
        check=True,
    )
    # the wheel's file name is capitalised ("Resemblyzer-0.1.4-py3-none-any.whl")
    return next(p for p in dest.glob("*.whl") if p.name.lower().startswith(f"resemblyzer-{VERSION}-"))


def read_state(wheel: Path) -> dict[str, np.ndarray]:
    import torch

    with zipfile.ZipFile(wheel) as z:
        blob = z.read("resemblyzer/pretrained.pt")
    print(f"pretrained.pt: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")
    checkpoint = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=False)
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in checkpoint["model_state"].items()}


def convert(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    import librosa

    arrays: dict[str, np.ndarray] = {
        "mel_fb": librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).astype(np.float32),
        "window": librosa.filters.get_window("hann", N_FFT, fftbins=True).astype(np.float32),
    }
    for k in range(LAYERS):
        arrays[f"w_ih{k}"] = np.ascontiguousarray(state[f"lstm.weight_ih_l{k}"].T)
        arrays[f"w_hh{k}"] = np.ascontiguousarray(state[f"lstm.weight_hh_l{k}"].T)
        arrays[f"b{k}"] = state[f"lstm.bias_ih_l{k}"] + state[f"lstm.bias_hh_l{k}"]
    arrays["w_out"] = np.ascontiguousarray(state["linear.weight"].T)
    arrays["b_out"] = state["linear.bias"]
    return {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, help="the resemblyzer 0.1.4 wheel (default: pip download it)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        arrays = convert(read_state(wheel))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)  # type: ignore[arg-type]
    n = sum(a.size for a in arrays.values())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {n} float32 values)")


if __name__ == "__main__":
    main()
