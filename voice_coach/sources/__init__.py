"""Audio at the edge: decoding files, capturing a microphone, recording a session."""
