"""One page head and one Content-Security-Policy for every HTML page (report and batch index)."""

import re

from report_fixtures import build_result

from voice_coach.output.report.batch import render_index, summary_row
from voice_coach.output.report.html import render_report
from voice_coach.output.report.page import CSP, page_head


def _csp(path) -> str:
    metas = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', path.read_text("utf-8"))
    assert len(metas) == 1
    return metas[0]


def test_report_and_index_share_the_strict_csp(tmp_path):
    result = build_result(20.0)
    report = tmp_path / "call.html"
    render_report(result, report)
    index = render_index([summary_row(result, agent=None)], tmp_path / "index.html", report_links={})
    assert _csp(report) == _csp(index) == CSP
    for directive in ("default-src 'none'", "connect-src 'none'", "form-action 'none'", "base-uri 'none'"):
        assert directive in CSP


def test_page_head_escapes_the_title():
    head = page_head('<b>"x"</b>')
    assert "<title>&lt;b&gt;&quot;x&quot;&lt;/b&gt;</title>" in head
    assert head.startswith("<!DOCTYPE html>") and head.rstrip().endswith("</head>")
