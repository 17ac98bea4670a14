"""The ``voice-coach`` command line: a thin layer over ``voice_coach.app``."""
