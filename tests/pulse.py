"""A real PulseAudio server for end-to-end tests: a null sink ``vmic`` whose monitor is the default
source, so that audio played into the sink is what a program recording from ALSA ``pulse`` hears.

The server runs with its own runtime folder (no clash with a desktop session) and is killed at
the end. When PulseAudio cannot be started here, tests that need it are skipped with the reason.

Running as root needs no ``--system``: PulseAudio only warns ("This program is not intended to be
run as root") and serves the private socket in ``$XDG_RUNTIME_DIR/pulse/native``. Programs reach it
through the ALSA device ``pulse`` (Debian package libasound2-plugins) or libpulse, given ``env``.
The null sink's monitor delivers audio (silence) continuously even when nothing plays, like a real
microphone. Debian packages: pulseaudio pulseaudio-utils libasound2-plugins libportaudio2.

By hand, the same set-up is::

    export XDG_RUNTIME_DIR=$(mktemp -d) HOME=$XDG_RUNTIME_DIR
    pulseaudio --daemonize=yes --exit-idle-time=-1 -n --load=module-native-protocol-unix \
        --load="module-null-sink sink_name=vmic rate=16000 channels=1" --load=module-always-sink
    pactl set-default-source vmic.monitor
    paplay --device=vmic speech.wav &          # what "the microphone" hears
    voice-coach live --device pulse            # records from vmic.monitor
    pulseaudio --kill
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
        return subprocess.Popen(
            ["paplay", "--device=vmic", str(path)], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def pactl(self, *args: str) -> str:
        return subprocess.run(
            ["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10, check=True
        ).stdout


def start_virtual_mic() -> tuple[VirtualMic | None, str]:
    """(VirtualMic, "") or (None, why it could not start)."""
    for tool in ("pulseaudio", "pactl", "paplay"):
        if shutil.which(tool) is None:
            return None, f"{tool} is not installed (apt-get install pulseaudio pulseaudio-utils)"
    runtime = Path(tempfile.mkdtemp(prefix="vc-pulse-"))
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), PULSE_RUNTIME_PATH=str(runtime / "pulse"), HOME=str(runtime))
    env.pop("PULSE_SERVER", None)
    cmd = [
        "pulseaudio",
        "--daemonize=yes",
        "--exit-idle-time=-1",
        "-n",
        "--load=module-native-protocol-unix",
        "--load=module-null-sink sink_name=vmic rate=16000 channels=1",
        "--load=module-always-sink",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=20)
    if proc.returncode != 0:
        return (
            None,
            "pulseaudio would not start: "
            + (proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else str(proc.returncode)),
        )
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


def _reinitialize_portaudio() -> str:
    """Make PortAudio scan devices again (it does so once, at ``import sounddevice``).

    The ALSA ``pulse`` device is only listed when a server answers at that moment, so a test
    process that imported sounddevice before the server was reachable must scan again.
    Returns "" or why PortAudio is unusable.
    """
    try:
        import sounddevice as sd
    except OSError as exc:
        return f"PortAudio is missing ({exc}); apt-get install libportaudio2"
    sd._terminate()
    sd._initialize()
    return ""


def alsa_pulse_device() -> str:
    """ "" if PortAudio lists the ALSA ``pulse`` device, else why not (for pytest.skip)."""
    why = _reinitialize_portaudio()
    if why:
        return why
    import sounddevice as sd

    if not any(d["name"] == "pulse" and d["max_input_channels"] > 0 for d in sd.query_devices()):
        return "PortAudio lists no ALSA 'pulse' device; apt-get install libasound2-plugins"
    return ""


@pytest.fixture(scope="session")
def virtual_mic():
    mic, why = start_virtual_mic()
    if mic is None:
        pytest.skip(f"no audio server: {why}")
    try:
        yield mic
    finally:
        stop_virtual_mic(mic)


@pytest.fixture
def pulse_vmic(virtual_mic):
    """The virtual microphone, reachable from this process: ``play(path)``, ``env``.

    Points libpulse at the test server (environment variables, for the duration of the test) and
    makes PortAudio list the ALSA ``pulse`` device; skips when that device cannot be had.
    """
    with pytest.MonkeyPatch.context() as mp:
        for key in ("XDG_RUNTIME_DIR", "PULSE_RUNTIME_PATH", "HOME"):
            mp.setenv(key, virtual_mic.env[key])
        mp.delenv("PULSE_SERVER", raising=False)
        why = alsa_pulse_device()
        if why:
            pytest.skip(why)
        yield virtual_mic
    _reinitialize_portaudio()  # back to the devices of the real environment
