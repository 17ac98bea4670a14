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
    "default-src 'none'; script-src 'unsafe-inline' 'self' file: blob:; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; media-src 'self' file: data: blob:; connect-src 'none'; "
    "form-action 'none'; base-uri 'none'"
)
"""Inline scripts and styles; scripts (the shared plot library of a batch folder) and audio from the
page's own origin or local files (Chromium counts other files as 'self' of a ``file://`` page;
``file:`` covers browsers that give each file its own origin); images and fonts from data URIs
(plotly); no fetches, no form posts, no <base> redirection, nothing from the network.

``blob:`` in script-src is for the plot library of a self-contained report, which the page embeds
deflated: report.js inflates it into a Blob and loads that with ``<script src="blob:...">``. A
``blob:`` URL can only be made by a script already running in the page, from bytes it holds, so
this lets in no code from outside the file. The alternatives were weaker or worse: ``eval`` or
``new Function`` would need ``'unsafe-eval'`` (also for every other string in the page), and a
``data:`` script URL would also admit ``data:`` scripts written into the markup. Putting the
inflated text into an inline ``<script>`` would pass without a change here, but builds a 1.2 MB
string in the page and runs it as anonymous inline code; the Blob goes from the decompressor to
the script loader as bytes."""


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
