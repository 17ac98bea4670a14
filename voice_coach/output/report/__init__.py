"""Trainer-facing reports: one interactive HTML page per call, plus batch summaries.

``render_report`` writes a self-contained HTML file (the vendored plotly.js basic bundle embedded
deflated, or shared by a batch folder; audio embedded or linked relatively). ``summary_row`` /
``write_summary_csv`` / ``render_index`` summarise a folder of calls, with per-agent weekly trends.
See docs/report.md.
"""

from voice_coach.output.report.batch import failed_row, render_index, summary_row, write_summary_csv
from voice_coach.output.report.html import ReportError, ReportOptions, render_report

__all__ = [
    "ReportError",
    "ReportOptions",
    "failed_row",
    "render_index",
    "render_report",
    "summary_row",
    "write_summary_csv",
]
