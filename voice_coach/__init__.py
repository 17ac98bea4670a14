"""voice-coach: an offline voice de-escalation analyzer.

Listens to the agent's side of a call and checks that they talk slowly and calmly, in a low tone,
relative to their own calm baseline. Heavy dependencies (faster-whisper, librosa) are imported
lazily by the modules that need them, so ``import voice_coach`` and ``voice-coach --help`` stay fast.
"""

__version__ = "0.1.0"

SAMPLE_RATE = 16000
"""The one sample rate used inside the package (Hz). Everything is resampled to it at the edge."""

__all__ = ["SAMPLE_RATE", "__version__"]
