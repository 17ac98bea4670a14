"""Screenshot a voice-coach HTML report in headless Chromium (for docs/report-screenshot.png).

    python tools/screenshot_report.py REPORT.html docs/report-screenshot.png
    python tools/screenshot_report.py --fixture docs/report-screenshot.png   # synthetic 60 s call

Needs Debian's chromium and chromium-driver, and selenium (the `test` extra). The browser helpers
live in tests/report_fixtures.py, shared with the browser test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from report_fixtures import build_result, chrome_available, screenshot, write_tone_wav  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", nargs="?", type=Path, help="the report HTML (omit with --fixture)")
    ap.add_argument("png", type=Path, help="where to write the PNG")
    ap.add_argument("--fixture", action="store_true", help="render the synthetic 60 s call first")
    ap.add_argument("--width", type=int, default=1400)
    ap.add_argument("--height", type=int, default=1000)
    ap.add_argument("--click", default="#warnings button", help="CSS selector to click before the shot ('' for none)")
    ap.add_argument("--scroll-to", default="", help="CSS selector to scroll to the top of the view")
    args = ap.parse_args(argv)
    why = chrome_available()
    if why:
        print(f"screenshot_report: {why}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        report = args.report
        if args.fixture:
            from voice_coach.output.report import render_report

            wav = write_tone_wav(Path(tmp) / "call.wav", duration_s=60.0)
            report = Path(tmp) / "report.html"
            render_report(build_result(60.0), report, audio_path=wav)
        if report is None:
            ap.error("give REPORT.html, or --fixture")
        screenshot(
            report,
            args.png,
            width=args.width,
            height=args.height,
            click=args.click or None,
            scroll_to=args.scroll_to or None,
        )
    print(args.png)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
