"""Refresh or check the plotly.js bundle vendored in voice_coach/output/report/assets/.

    python tools/vendor_plotly.py --check          # offline: the file matches plotlyjs.py's record
    python tools/vendor_plotly.py 4.1.1            # fetch that version with `npm pack`, vendor it

Fetching runs ``npm pack plotly.js-basic-dist-min@VERSION`` (the npm registry, nothing else), takes
``plotly-basic.min.js`` and ``LICENSE`` from the tarball, writes them as
``plotly-basic-VERSION.min.js`` and ``plotly-basic-VERSION.LICENSE.txt``, removes the old version's
files and rewrites the version and sha256 in ``voice_coach/output/report/plotlyjs.py``. Afterwards
update ``assets/VENDORED.md`` and run ``pytest tests/test_report.py tests/test_report_browser.py``:
the browser test is what shows that the figure JSON of the installed python plotly still renders.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "voice_coach" / "output" / "report" / "assets"
MODULE = ROOT / "voice_coach" / "output" / "report" / "plotlyjs.py"
PACKAGE = "plotly.js-basic-dist-min"


def _record() -> tuple[str, str]:
    text = MODULE.read_text(encoding="utf-8")
    version = re.search(r'^PLOTLY_JS_VERSION = "([^"]+)"', text, re.MULTILINE)
    sha = re.search(r'^PLOTLY_JS_SHA256 = "([0-9a-f]{64})"', text, re.MULTILINE)
    if not version or not sha:
        raise SystemExit(f"error: no PLOTLY_JS_VERSION / PLOTLY_JS_SHA256 in {MODULE}")
    return version.group(1), sha.group(1)


def check() -> int:
    version, sha = _record()
    js = ASSETS / f"plotly-basic-{version}.min.js"
    lic = ASSETS / f"plotly-basic-{version}.LICENSE.txt"
    for p in (js, lic):
        if not p.is_file():
            print(f"error: {p} is missing", file=sys.stderr)
            return 1
    got = hashlib.sha256(js.read_bytes()).hexdigest()
    if got != sha:
        print(f"error: {js.name} has sha256 {got}, plotlyjs.py records {sha}", file=sys.stderr)
        return 1
    print(f"ok: {js.name} ({js.stat().st_size} bytes, sha256 {sha})")
    return 0


def fetch(version: str) -> int:
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        print(f"error: version {version!r} is not X.Y.Z", file=sys.stderr)
        return 2
    old_version, _ = _record()
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{version}"], cwd=tmp, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            print(f"error: npm pack failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return 1
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as tar:
            js = tar.extractfile("package/plotly-basic.min.js")
            lic = tar.extractfile("package/LICENSE")
            if js is None or lic is None:
                print(f"error: {tarball.name} lacks plotly-basic.min.js or LICENSE", file=sys.stderr)
                return 1
            js_bytes, lic_bytes = js.read(), lic.read()
    if f"v{version}".encode() not in js_bytes[:400]:
        print(f"error: the bundle's header does not name v{version}", file=sys.stderr)
        return 1
    sha = hashlib.sha256(js_bytes).hexdigest()
    (ASSETS / f"plotly-basic-{version}.min.js").write_bytes(js_bytes)
    (ASSETS / f"plotly-basic-{version}.LICENSE.txt").write_bytes(lic_bytes)
    if old_version != version:
        for name in (f"plotly-basic-{old_version}.min.js", f"plotly-basic-{old_version}.LICENSE.txt"):
            (ASSETS / name).unlink(missing_ok=True)
    text = MODULE.read_text(encoding="utf-8")
    text = re.sub(r'^PLOTLY_JS_VERSION = "[^"]+"', f'PLOTLY_JS_VERSION = "{version}"', text, flags=re.MULTILINE)
    text = re.sub(r'^PLOTLY_JS_SHA256 = "[0-9a-f]+"', f'PLOTLY_JS_SHA256 = "{sha}"', text, flags=re.MULTILINE)
    MODULE.write_text(text, encoding="utf-8")
    print(f"vendored {PACKAGE}@{version}: {len(js_bytes)} bytes, sha256 {sha}")
    print("now update assets/VENDORED.md and run the report tests (browser included)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("version", nargs="?", help=f"{PACKAGE} version to fetch with npm pack")
    ap.add_argument("--check", action="store_true", help="only check the vendored file against its record")
    args = ap.parse_args(argv)
    if args.check or not args.version:
        return check()
    return fetch(args.version)


if __name__ == "__main__":
    sys.exit(main())
