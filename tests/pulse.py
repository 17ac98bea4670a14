"""A real PulseAudio server for end-to-end tests: a null sink ``vmic`` whose monitor is the default
source, so that audio played into the sink is what a program recording from ALSA ``pulse`` hears.

The server runs with its own runtime folder (no clash with a desktop session) and is killed at
the end. When PulseAudio cannot be started here, tests that need it are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class VirtualMic:
    env: dict
    runtime: Path

    def play(self, path: Path) -> subprocess.Popen:
        """Start playing ``path`` into the virtual microphone (returns at once)."""
        return subprocess.Popen(["paplay", "--device=vmic", str(path)], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def pactl(self, *args: str) -> str:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10, check=True).stdout


def start_virtual_mic() -> tuple[VirtualMic | None, str]:
    """(VirtualMic, "") or (None, why it could not start)."""
    for tool in ("pulseaudio", "pactl", "paplay"):
        if shutil.which(tool) is None:
            return None, f"{tool} is not installed (apt-get install pulseaudio pulseaudio-utils)"
    runtime = Path(tempfile.mkdtemp(prefix="vc-pulse-"))
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), PULSE_RUNTIME_PATH=str(runtime / "pulse"), HOME=str(runtime))
    env.pop("PULSE_SERVER", None)
    cmd = [
        "pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n",
        "--load=module-native-protocol-unix",
        "--load=module-null-sink sink_name=vmic rate=16000 channels=1",
        "--load=module-always-sink",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=20)
    if proc.returncode != 0:
        return None, f"pulseaudio would not start: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
    mic = VirtualMic(env, runtime)
    for _ in range(50):
        try:
            mic.pactl("info")
            break
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            time.sleep(0.1)
    else:
        stop_virtual_mic(mic)
        return None, "pulseaudio started but does not answer pactl"
    mic.pactl("set-default-source", "vmic.monitor")
    mic.pactl("set-default-sink", "vmic")
    return mic, ""


def stop_virtual_mic(mic: VirtualMic) -> None:
    subprocess.run(["pulseaudio", "--kill"], env=mic.env, capture_output=True, timeout=10)
    shutil.rmtree(mic.runtime, ignore_errors=True)


@pytest.fixture(scope="session")
def virtual_mic():
    mic, why = start_virtual_mic()
    if mic is None:
        pytest.skip(f"no audio server: {why}")
    try:
        yield mic
    finally:
        stop_virtual_mic(mic)
