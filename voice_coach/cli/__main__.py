"""``python -m voice_coach.cli``: the same as the ``voice-coach`` command."""

from voice_coach.cli.main import main

main()
