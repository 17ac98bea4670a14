"""Realistic synthetic analysis results for report tests, plus a headless-Chromium helper.

``build_result()`` returns a dict shaped like docs/CONTRACT.md (schema_version 1): a scripted
two-voice call whose timeline, words, warnings, phrases, events and scorecard agree with each other,
so that a rendered report looks like one from a real analysis. ``screenshot()`` and
``headless_chrome()`` drive the Debian chromium/chromedriver pair without Selenium Manager (which
would try to download a driver).
"""

from __future__ import annotations

import base64
import contextlib
import math
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

STEP_S = 0.1
"""Timeline step of the contract: one entry every 0.1 s, t = centre of the step."""

# One minute of a call, repeated for longer fixtures. (speaker, start_s, end_s, text)
_SCRIPT: list[tuple[str, float, float, str]] = [
    ("agent", 0.6, 7.6, "Thank you for calling Northwind Energy, my name is Sam, how can I help you today?"),
    (
        "customer",
        8.2,
        14.6,
        "I have been charged twice this month for the same bill and nobody has called me back "
        "like they promised last week.",
    ),
    (
        "agent",
        15.0,
        22.4,
        "I understand, that sounds really frustrating. Let me pull up your account and check the billing.",
    ),
    (
        "customer",
        22.9,
        29.6,
        "This is the third time I am calling about the same problem and every time I get a different answer.",
    ),
    (
        "agent",
        30.2,
        36.4,
        "Okay so what happened is the payment went through twice because you should have "
        "waited for the confirmation before retrying.",
    ),
    ("customer", 36.8, 43.0, "I want to speak to your manager right now, this is ridiculous."),
    ("agent", 42.6, 48.2, "Please, please just let me fix it, I can refund the second payment today."),
    ("customer", 48.6, 51.6, "Fine, how long will that take to show up?"),
    ("agent", 56.0, 59.6, "The refund takes three to five working days and I will email you the reference."),
]

_PHRASES: list[tuple[str, str, str]] = [
    ("agent", "empathy", "I understand"),
    ("agent", "empathy", "sounds really frustrating"),
    ("agent", "blame", "you should have"),
    ("customer", "escalation", "speak to your manager"),
    ("agent", "ownership", "I can refund"),
]


def _words_for(text: str, start_s: float, end_s: float) -> list[dict]:
    """Spread a sentence's words over [start_s, end_s], longer words taking longer."""
    tokens = text.split()
    weights = np.array([len(w) + 2 for w in tokens], dtype=float)
    span = end_s - start_s
    edges = start_s + np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum() * span
    out = []
    for i, tok in enumerate(tokens):
        s, e = float(edges[i]), float(edges[i + 1]) - 0.04
        out.append(
            {
                "start": round(s, 3),
                "end": round(e, 3),
                "text": " " + tok,
                "probability": round(0.55 + 0.45 * ((i * 7919) % 97) / 97, 4),
            }
        )
    return out


def _speaker_timeline(
    n: int,
    turns: list[tuple[float, float]],
    *,
    base_hz: float,
    base_db: float,
    rng: np.random.Generator,
    pitch_bumps: list[tuple[float, float, float]],
    loud_bumps: list[tuple[float, float, float]],
    pace_bumps: list[tuple[float, float, float]],
    agitation_bumps: list[tuple[float, float, float]],
) -> list[dict]:
    t = (np.arange(n) + 0.5) * STEP_S
    speaking = np.zeros(n, dtype=bool)
    for s, e in turns:
        speaking |= (t >= s) & (t < e)

    def bumps(spec: list[tuple[float, float, float]]) -> np.ndarray:
        out = np.zeros(n)
        for s, e, height in spec:
            mid, half = (s + e) / 2, (e - s) / 2
            out += height * np.clip(1.2 - np.abs(t - mid) / max(half, 1e-6), 0, 1)
        return np.minimum(out, np.max([h for _, _, h in spec], initial=0.0))

    def smooth_noise(std: float, keep: float = 0.8) -> np.ndarray:
        """AR(1) noise: prosody wanders rather than jumping frame to frame."""
        e = rng.standard_normal(n) * std * math.sqrt(1 - keep**2)
        out = np.empty(n)
        acc = 0.0
        for i in range(n):
            acc = keep * acc + e[i]
            out[i] = acc
        return out

    # Voicing comes in syllable-sized runs (~0.2-0.4 s) broken by consonants and pauses.
    phase = np.cumsum(rng.uniform(0.06, 0.12, n)) * 2 * np.pi
    voiced = speaking & (np.sin(phase) > -0.5)
    pitch_st = 0.9 * np.sin(t * 0.9) + smooth_noise(0.7) + bumps(pitch_bumps)
    loud_rel = 1.2 * np.sin(t * 0.7 + 1) + smooth_noise(1.0, 0.7) + bumps(loud_bumps)
    wpm = 138 + 6 * np.sin(t * 0.21) + bumps(pace_bumps)
    agitation = np.clip(0.18 + smooth_noise(0.05) + bumps(agitation_bumps), 0, 1)

    rows = []
    for i in range(n):
        v, sp = bool(voiced[i]), bool(speaking[i])
        hz = base_hz * 2 ** (pitch_st[i] / 12) if v else None
        rows.append(
            {
                "t": round(float(t[i]), 3),
                "pitch_hz": round(hz, 2) if hz else None,
                "loudness_db": round(base_db + float(loud_rel[i]), 2) if sp else None,
                "wpm": round(float(wpm[i]), 1) if sp else None,
                "agitation": round(float(agitation[i]), 3) if sp else None,
                "pitch_st": round(float(pitch_st[i]), 2) if v else None,
                "loudness_rel_db": round(float(loud_rel[i]), 2) if sp else None,
                "syllables_per_s": round(float(wpm[i]) / 60 * 1.45, 2) if sp else None,
                "speaking": sp,
            }
        )
    return rows


def _summary(timeline: list[dict], words: list[dict], base_hz: float) -> dict:
    def vals(key: str) -> np.ndarray:
        return np.array([r[key] for r in timeline if r[key] is not None], dtype=float)

    talk = sum(STEP_S for r in timeline if r["speaking"])
    pitch, sts, loud, agit = vals("pitch_hz"), vals("pitch_st"), vals("loudness_db"), vals("agitation")
    sps = vals("syllables_per_s")
    mean_agit = float(agit.mean()) if agit.size else None
    return {
        "talk_time_s": round(talk, 1),
        "speaking_rate_wpm": round(len(words) / talk * 60, 1) if talk else None,
        "articulation_rate_sps": round(float(np.median(sps)), 2) if sps.size else None,
        "pitch_median_hz": round(float(np.median(pitch)), 1) if pitch.size else None,
        "pitch_spread_st": round(float(np.percentile(sts, 90) - np.percentile(sts, 10)), 2) if sts.size else None,
        "loudness_median_db": round(float(np.median(loud)), 1) if loud.size else None,
        "agitation_mean": round(mean_agit, 3) if mean_agit is not None else None,
        "calm_score": round(100 * (1 - mean_agit)) if mean_agit is not None else None,
    }


def build_result(
    duration_s: float = 60.0,
    *,
    seed: int = 0,
    customer: bool = True,
    hostile_text: bool = False,
    source: str = "calls/2024-05-14_north_0931.wav",
) -> dict:
    """A synthetic schema-1 result for a call of ``duration_s`` seconds.

    The one-minute script repeats for longer calls (a 3600 s call has 36 000 timeline points per
    speaker, ~9000 words, 120 warnings). ``hostile_text`` puts HTML/JS-looking text into words,
    messages, phrases and the scorecard, for escaping tests. ``customer=False`` gives a one-voice
    result (customer null, no two-voice keys).
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s / STEP_S))
    cycles = int(math.ceil(duration_s / 60.0))

    words: dict[str, list[dict]] = {"agent": [], "customer": []}
    turns: dict[str, list[tuple[float, float]]] = {"agent": [], "customer": []}
    warnings, phrases, events = [], [], []
    bumps = {k: [] for k in ("pitch", "loud", "pace", "agit", "cust_agit")}
    for c in range(cycles):
        off = 60.0 * c
        for speaker, s, e, text in _SCRIPT:
            if off + e > duration_s:
                continue
            if hostile_text and c == 0 and speaker == "agent" and s < 1:
                text = text.replace("Sam,", "<script>alert('x')</script> Sam & \"Jo\",")
            turns[speaker].append((off + s, off + e))
            words[speaker].extend(_words_for(text, off + s, off + e))
        if off + 48.0 > duration_s:
            continue
        warnings.append(
            {
                "start": round(off + 31.2, 2),
                "end": round(off + 35.6, 2),
                "kind": "fast",
                "speaker": "agent",
                "message": "Talking fast: 172 wpm, calm range is 120-150.",
            }
        )
        warnings.append(
            {
                "start": round(off + 45.0, 2),
                "end": round(off + 47.6, 2),
                "kind": "high_pitch",
                "speaker": "agent",
                "message": "Pitch 3.4 st above your calm baseline.",
            }
        )
        bumps["pace"].append((off + 30.6, off + 36.2, 34.0))
        bumps["pitch"].append((off + 44.6, off + 48.0, 3.6))
        bumps["loud"].append((off + 44.6, off + 48.0, 3.5))
        bumps["agit"].append((off + 43.0, off + 48.0, 0.35))
        bumps["cust_agit"].append((off + 37.0, off + 43.0, 0.55))
        events.append(
            {
                "start": round(off + 42.6, 2),
                "end": round(off + 43.0, 2),
                "kind": "interruption",
                "speaker": "agent",
                "interrupted": "customer",
            }
        )
        if off + 56.0 <= duration_s:
            events.append(
                {"start": round(off + 51.6, 2), "end": round(off + 56.0, 2), "kind": "dead_air", "speaker": "agent"}
            )

    for speaker, category, needle in _PHRASES:
        toks = needle.lower().split()
        ws = words[speaker]
        for i in range(len(ws) - len(toks) + 1):
            got = [w["text"].strip(" ,.?!").lower() for w in ws[i : i + len(toks)]]
            if got == toks:
                phrases.append(
                    {
                        "start": ws[i]["start"],
                        "end": ws[i + len(toks) - 1]["end"],
                        "speaker": speaker,
                        "category": category,
                        "text": needle,
                    }
                )
    phrases.sort(key=lambda p: p["start"])

    agent_tl = _speaker_timeline(
        n,
        turns["agent"],
        base_hz=190.0,
        base_db=-24.0,
        rng=rng,
        pitch_bumps=bumps["pitch"],
        loud_bumps=bumps["loud"],
        pace_bumps=bumps["pace"],
        agitation_bumps=bumps["agit"],
    )
    baseline = {
        "source": "self-calibrated",
        "pitch_median_hz": 190.0,
        "loudness_median_db": -24.0,
        "articulation_rate_sps": 3.35,
    }
    agent = {
        "words": words["agent"],
        "timeline": agent_tl,
        "summary": _summary(agent_tl, words["agent"], 190.0),
        "baseline": baseline,
    }

    result: dict = {
        "schema_version": 1,
        "source": source,
        "duration_s": float(duration_s),
        "model": "tiny.en",
        "config": {"pace_wpm_max": 150, "pitch_st_max": 2.0, "loudness_db_max": 3.0},
        "agent": agent,
        "customer": None,
        "warnings": warnings,
    }
    if not customer:
        result["warnings"] = [w for w in warnings if w["speaker"] == "agent"]
        return result

    cust_tl = _speaker_timeline(
        n,
        turns["customer"],
        base_hz=125.0,
        base_db=-27.0,
        rng=rng,
        pitch_bumps=[],
        loud_bumps=[],
        pace_bumps=[],
        agitation_bumps=bumps["cust_agit"],
    )
    result["customer"] = {
        "words": words["customer"],
        "timeline": cust_tl,
        "summary": _summary(cust_tl, words["customer"], 125.0),
        "baseline": {
            "source": None,
            "pitch_median_hz": None,
            "loudness_median_db": None,
            "articulation_rate_sps": None,
        },
    }
    result["events"] = events
    result["phrases"] = phrases
    moments_fast = [w["start"] for w in warnings if w["kind"] == "fast"]
    moments_pitch = [w["start"] for w in warnings if w["kind"] == "high_pitch"]
    result["scorecard"] = {
        "items": [
            {
                "id": "pace",
                "advice": "Talk slowly",
                "verdict": "warn",
                "value": "172 wpm vs 140 baseline",
                "moments": moments_fast,
            },
            {
                "id": "pitch",
                "advice": "Keep a low tone",
                "verdict": "warn",
                "value": "+3.4 st at peak",
                "moments": moments_pitch,
            },
            {
                "id": "loudness",
                "advice": "Keep your voice down",
                "verdict": "pass",
                "value": "+0.6 dB median",
                "moments": [],
            },
            {
                "id": "empathy",
                "advice": "Acknowledge the feeling",
                "verdict": "pass",
                "value": "2 empathy phrases",
                "moments": [p["start"] for p in phrases if p["category"] == "empathy"],
            },
            {
                "id": "blame",
                "advice": "Avoid blaming language",
                "verdict": "fail",
                "value": "1 blaming phrase",
                "moments": [p["start"] for p in phrases if p["category"] == "blame"],
            },
            {
                "id": "interruptions",
                "advice": "Let the customer finish",
                "verdict": "warn",
                "value": f"{sum(e['kind'] == 'interruption' for e in events)} interruption(s)",
                "moments": [e["start"] for e in events if e["kind"] == "interruption"],
            },
        ],
        "overall": 72,
    }
    if hostile_text:
        result["warnings"][0]["message"] = "<img src=x onerror=alert(1)> too fast"
        result["phrases"][0]["category"] = 'empathy"><script>alert(2)</script>'
        result["scorecard"]["items"][0]["advice"] = "Talk <b>slowly</b>"
    return result


def write_tone_wav(path: Path, duration_s: float = 20.0, sample_rate_hz: int = 16000) -> Path:
    """A quiet 220 Hz tone with a little noise, 16-bit PCM mono, for the browser test."""
    import soundfile as sf

    t = np.arange(int(duration_s * sample_rate_hz)) / sample_rate_hz
    rng = np.random.default_rng(1)
    y = 0.1 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(t.size)
    sf.write(str(path), y.astype(np.float32), sample_rate_hz, subtype="PCM_16")
    return path


CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
)


def chrome_available() -> str | None:
    """None when the Debian chromium and chromedriver are installed, else why not."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    return f"needs {' and '.join(missing)} (apt-get install chromium chromium-driver)" if missing else None


@contextlib.contextmanager
def headless_chrome(*, width: int = 1400, height: int = 1000, log_network: bool = False) -> Iterator:
    """A headless Chromium WebDriver with a fresh profile, browser console logs enabled.

    Uses /usr/bin/chromium and /usr/bin/chromedriver explicitly, so Selenium Manager never runs and
    nothing is downloaded. With ``log_network``, Chrome performance logs (Network.* events) are on.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="vc-chrome-") as profile:
        opts = webdriver.ChromeOptions()
        opts.binary_location = str(CHROMIUM)
        for arg in CHROME_ARGS:
            opts.add_argument(arg)
        opts.add_argument(f"--user-data-dir={profile}")
        opts.add_argument(f"--window-size={width},{height}")
        prefs = {"browser": "ALL"}
        if log_network:
            prefs["performance"] = "ALL"
        opts.set_capability("goog:loggingPrefs", prefs)
        service = Service(executable_path=str(CHROMEDRIVER), log_output=os.devnull)
        driver = webdriver.Chrome(service=service, options=opts)
        try:
            yield driver
        finally:
            driver.quit()


def screenshot(
    html_path: Path,
    png_path: Path,
    *,
    width: int = 1400,
    height: int = 1000,
    click: str | None = None,
    scroll_to: str | None = None,
) -> Path:
    """Open ``html_path`` in headless Chromium and save a ``width`` x ``height`` PNG of the viewport.

    ``click`` is a CSS selector of an element to click first (e.g. ``"#warnings button"`` to show
    the playhead and a selected warning); ``scroll_to`` one to scroll to the top of the view.
    """
    import time

    html_path, png_path = Path(html_path).resolve(), Path(png_path)
    with headless_chrome(width=width, height=height) as driver:
        # The window size includes browser chrome in some versions; fix the viewport exactly.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        driver.get(html_path.as_uri())
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if driver.execute_script("return document.body.dataset.ready === '1'"):
                break
            time.sleep(0.1)
        if click:
            driver.execute_script("var el = document.querySelector(arguments[0]); if (el) el.click();", click)
            time.sleep(0.4)
            driver.execute_script("var a = document.getElementById('audio'); if (a) a.pause();")
        if scroll_to:
            driver.execute_script(
                "var el = document.querySelector(arguments[0]);"
                "if (el) window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 60);",
                scroll_to,
            )
        time.sleep(0.4)  # let plotly finish drawing
        png_path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(png_path))
    return png_path


def unpack(block: dict) -> dict[str, np.ndarray]:
    """The page's ``packed`` block decoded in plain Python (a second reading of the format of
    voice_coach/output/report/packing.py, independent of its numpy encoder): key -> values, NaN for
    null."""
    raw = zlib.decompress(base64.b64decode(block["b64"]))
    pos = 0

    def varint() -> int:
        nonlocal pos
        value, shift = 0, 0
        while True:
            byte = raw[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    out = {}
    for sec in block["sections"]:
        pairs = [(varint(), varint()) for _ in range(varint())]
        values: list[float] = []
        q = 0
        for nulls, run in pairs:
            values += [math.nan] * nulls
            for _ in range(run):
                z = varint()
                q += -(z >> 1) - 1 if z & 1 else z >> 1
                values.append(q / sec["scale"])
        assert len(values) == sec["n"], f"{sec['key']}: {len(values)} values, expected {sec['n']}"
        out[sec["key"]] = np.array(values)
    assert pos == len(raw), "bytes left after the last section"
    return out
