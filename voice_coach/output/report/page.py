"""What every HTML page of the report shares: escaping, packaged assets and the page head.

The call report and the batch index open from disk and load nothing from the network; one
Content-Security-Policy, written once here, enforces that for both.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import Any

from voice_coach import __version__
from voice_coach.errors import VoiceCoachError

__all__ = ["CSP", "ReportError", "asset", "esc", "page_head"]


class ReportError(VoiceCoachError):
    """A report could not be written (e.g. the audio to embed is missing, a call date is not a date)."""


CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'self' file:; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; media-src 'self' file: data: blob:; connect-src 'none'; "
    "form-action 'none'; base-uri 'none'"
)
"""Inline scripts and styles; scripts (the shared plot library of a batch folder) and audio from the
page's own origin or local files (Chromium counts other files as 'self' of a ``file://`` page;
``file:`` covers browsers that give each file its own origin); images and fonts from data URIs
(plotly); no fetches, no form posts, no <base> redirection, nothing from the network.

The plot library of a self-contained report is embedded deflated; loader.js inflates it and runs
it as an inline ``<script>`` (its text set as a DOM property), which ``'unsafe-inline'`` already
allows for the page's own scripts, so the policy needs nothing more: no ``'unsafe-eval'`` (no
``eval`` or ``new Function``), no ``data:`` or ``blob:`` script sources. A ``blob:`` URL was
tried (it needs ``blob:`` here): opening a first report took as long, but every later report in
the same browser took 0.3-0.55 s longer, since the browser's cache of compiled scripts does not
apply to a new ``blob:`` URL each time; the inline script is found in it (docs/report.md)."""


def esc(value: Any) -> str:
    """``value`` as HTML text or attribute content (None is empty)."""
    return html.escape("" if value is None else str(value), quote=True)


def asset(name: str) -> str:
    """A packaged asset of the report (``report.css``, ``report.js``) as text."""
    return resources.files("voice_coach.output.report").joinpath("assets", name).read_text(encoding="utf-8")


def page_head(title: str) -> str:
    """``<!DOCTYPE html>`` up to and including ``</head>``: charset, the CSP, viewport, generator,
    an empty icon (no favicon request), the title (escaped here) and the report stylesheet."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="voice-coach {esc(__version__)}">
<link rel="icon" href="data:,">
<title>{esc(title)}</title>
<style>{asset("report.css")}</style>
</head>
"""
