"""The plotting library of the call report: plotly.js's basic bundle, vendored in ``assets/``.

A call's report either embeds it (one self-contained file: ``packed_js``, deflated and base64, which
the page's loader.js inflates and runs as an inline script) or, in a batch folder, loads one shared
copy of the plain file by a relative path (``write_shared``). Where the file comes from and how to refresh it:
``assets/VENDORED.md`` and ``tools/vendor_plotly.py``. The python ``plotly`` package is not used
at run time: timeline.py writes the figure as plain dicts.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import zlib
from importlib import resources
from pathlib import Path

from voice_coach.output.files import atomic_open
from voice_coach.output.report.page import ReportError

__all__ = ["PLOTLY_JS_FILE", "PLOTLY_JS_SHA256", "PLOTLY_JS_VERSION", "js_bytes", "packed_js", "write_shared"]

PLOTLY_JS_VERSION = "4.1.1"
"""npm ``plotly.js-basic-dist-min`` version: the plotly.js of python plotly 7.1, whose ``make_subplots``
layout timeline.py writes (tests/test_report_library.py compares them)."""
PLOTLY_JS_FILE = f"plotly-basic-{PLOTLY_JS_VERSION}.min.js"
"""The file name in ``assets/`` and in a batch's shared folder (versioned, so two versions never clash)."""
PLOTLY_JS_SHA256 = "99784e3abfb07b142a15e521a439e6d9addceadb3f79553fd24c72774f0649ba"
"""sha256 of the file as published in the npm tarball (checked by tests/test_report.py)."""


@functools.lru_cache(maxsize=1)
def js_bytes() -> bytes:
    """The vendored bundle, byte for byte."""
    return resources.files("voice_coach.output.report").joinpath("assets", PLOTLY_JS_FILE).read_bytes()


@functools.lru_cache(maxsize=1)
def packed_js() -> str:
    """The bundle as a self-contained page embeds it: zlib-deflated at level 9, then base64.

    1.19 MB of JavaScript become 0.53 MB of page text. The page inflates it with the same
    ``DecompressionStream("deflate")`` that unpacks its data (packing.py) and runs the result as an
    inline script (assets/loader.js).

    Compressed here, from the vendored file, rather than shipped pre-compressed: the vendored file
    stays the one copy (its sha256 is checked, tools/vendor_plotly.py refreshes it and nothing else),
    so there is no second file to keep in step with it. It costs about 0.1 s once per process (the
    cache); a batch pays it once.
    """
    return base64.b64encode(zlib.compress(js_bytes(), 9)).decode("ascii")


def write_shared(folder: Path) -> Path:
    """Put one copy of the bundle in ``folder`` (created if needed) and return its path.

    An identical file already there is left alone; anything else under that name is replaced
    atomically, so reports rendered in parallel never see a half-written library.
    """
    data = js_bytes()
    target = Path(folder) / PLOTLY_JS_FILE
    try:
        if target.is_file() and target.stat().st_size == len(data) and _sha256(target) == PLOTLY_JS_SHA256:
            return target
        with atomic_open(target, "wb") as fh:
            fh.write(data)
    except OSError as e:
        raise ReportError(f"Cannot write the shared plot library {target}: {e.strerror or e}") from None
    return target


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
