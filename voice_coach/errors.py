"""The package's exceptions. One root, so that the CLI can turn any of them into one line."""


class VoiceCoachError(Exception):
    """Root of every error voice-coach raises on purpose. The message is shown to the user as is."""


class AudioError(VoiceCoachError):
    """An input could not be read as audio (missing, empty, not audio, truncated, non-finite)."""


class ConfigError(VoiceCoachError):
    """A configuration, profile or phrase file is invalid."""


class ModelError(VoiceCoachError):
    """The speech recognition model could not be loaded."""


class DeviceError(VoiceCoachError):
    """An audio input device could not be opened or went away."""
