"""Streaming analyzers: one speaker's analysis, its baseline and warnings, and the conversation between two voices."""
