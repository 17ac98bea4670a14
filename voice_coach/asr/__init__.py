"""Speech recognition: the bundled model, one-pass file transcription and live LocalAgreement streaming."""
