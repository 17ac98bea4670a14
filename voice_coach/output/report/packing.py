"""Compact numbers for the report page: quantised, delta-coded, deflated, base64.

A report of a long call carries every 0.1 s step of several series (pitch, loudness, pace,
agitation, both voices) and the time of every word. As JSON text that is megabytes; packed here it
is tens of kilobytes. ``assets/report.js`` unpacks it at load (``DecompressionStream("deflate")``,
no ``eval``) into typed arrays and builds the plot's traces from them.

The format, one deflate (zlib) stream, base64 in the page's JSON data block::

    section*          in the order of ``Packer.sections`` (key, n, scale)
    section  = varint P, P pairs of varints (null run, value run), then one varint per value
    value    = zigzag(q[i] - q[i-1]), q = round(value * scale) (the previous q of the first is 0)

A varint is 7 bits per byte, least significant first, high bit set on all but the last byte;
zigzag maps 0, -1, 1, -2, ... to 0, 1, 2, 3, .... Values are kept to 1/scale: the precision the
page shows (``timeline.SERIES_FORMAT``); null (NaN) steps are kept as nulls.
"""

from __future__ import annotations

import base64
import zlib

import numpy as np

__all__ = ["MAX_Q", "Packer", "encode_series", "varints"]

MAX_Q = 2**50
"""Quantised values are clipped to +-MAX_Q, so their zigzag form stays an exact number in JavaScript."""


def varints(u: np.ndarray) -> bytes:
    """Non-negative integers (uint64) as LEB128 varints, all at once."""
    u = np.asarray(u, dtype=np.uint64)
    if u.size == 0:
        return b""
    nbytes = np.ones(u.size, dtype=np.int64)
    for k in range(1, 10):
        nbytes += u >= np.uint64(1 << (7 * k))
    starts = np.cumsum(nbytes) - nbytes
    out = np.zeros(int(nbytes.sum()), dtype=np.uint8)
    for k in range(int(nbytes.max())):
        has = nbytes > k
        chunk = (u[has] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (nbytes[has] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[has] + k] = (chunk | more).astype(np.uint8)
    return out.tobytes()


def encode_series(values: np.ndarray, scale: int) -> bytes:
    """One section: ``values`` (NaN for null) kept to 1/``scale``, as run lengths and zigzag deltas."""
    v = np.asarray(values, dtype=float)
    finite = np.isfinite(v)
    # Runs of equal finiteness, starting with a (maybe empty) null run and ending with a value run.
    change = np.flatnonzero(np.diff(finite.astype(np.int8))) + 1
    runs = np.diff(np.concatenate([[0], change, [v.size]])).astype(np.int64)
    if v.size and finite[0]:
        runs = np.concatenate([[0], runs])
    if runs.size % 2:
        runs = np.concatenate([runs, [0]])
    q = np.clip(np.rint(v[finite] * scale), -MAX_Q, MAX_Q).astype(np.int64)
    d = np.diff(q, prepend=0)
    zig = (d.astype(np.uint64) << np.uint64(1)) ^ (d >> 63).astype(np.uint64)
    return varints(np.array([runs.size // 2])) + varints(runs) + varints(zig)


class Packer:
    """Collects sections, then writes the page's ``packed`` block: base64 of the deflated bytes and
    the sections' (key, n, scale) in order."""

    def __init__(self) -> None:
        self.sections: list[dict] = []
        self._parts: list[bytes] = []

    def add(self, key: str, values: np.ndarray, scale: int) -> None:
        """Add a series under ``key`` (NaN for null), kept to 1/``scale`` (a positive integer)."""
        if scale < 1 or int(scale) != scale:
            raise ValueError(f"scale must be a positive integer, got {scale!r}")
        arr = np.asarray(values, dtype=float)
        self.sections.append({"key": key, "n": int(arr.size), "scale": int(scale)})
        self._parts.append(encode_series(arr, int(scale)))

    def block(self) -> dict:
        """``{"b64": ..., "sections": [...]}`` for the page's JSON data block."""
        raw = b"".join(self._parts)
        return {"b64": base64.b64encode(zlib.compress(raw, 9)).decode("ascii"), "sections": self.sections}
