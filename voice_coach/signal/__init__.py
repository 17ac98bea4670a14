"""Signal analysis: pure functions over numpy arrays (pitch, loudness, syllables, rates, cues)."""
