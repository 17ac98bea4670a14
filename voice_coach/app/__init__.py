"""Entry points: a recording (``analyze_file``), a live session (``run_live``), calibration and batches."""
