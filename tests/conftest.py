import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


def write_wav(path: Path, audio: np.ndarray, sr: int = 16000, subtype: str = "PCM_16") -> Path:
    import soundfile as sf

    data = audio.T if audio.ndim == 2 else audio
    sf.write(str(path), data, sr, subtype=subtype)
    return path


@pytest.fixture
def wav_writer(tmp_path):
    def make(name: str, audio: np.ndarray, sr: int = 16000, subtype: str = "PCM_16") -> Path:
        return write_wav(tmp_path / name, audio, sr, subtype)

    return make


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (apt-get install {tool})")
