"""The streaming engine (one for files and microphones) and the typed events it emits."""
