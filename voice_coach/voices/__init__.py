"""Voices in one mono recording: speech detection, speaker embeddings, separation into two voices
(``separate``) and naming the agent's voice (``naming``). Works on decoded 16 kHz float32 mono audio,
before the engine."""
