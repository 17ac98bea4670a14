"""When each call took place, for the batch summary: from its file name, the agent map, or the file's time.

``CallDates(pattern, table)(path)`` gives the call's ISO date (``YYYY-MM-DD``) and where it came from,
in this order:

1. ``--date-from REGEX``: a named group ``date`` matched on the file path, holding ``YYYY-MM-DD``,
   ``YYYYMMDD`` or an ISO date-time ``YYYY-MM-DDTHH...`` (its day is taken);
2. the ``date`` column of ``--agent-map`` for that file;
3. the day the file was last modified (local time).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from pathlib import Path

from voice_coach.errors import ConfigError

__all__ = ["DATE_FORMATS", "CallDates", "by_file", "parse_call_date", "path_pattern"]

DATE_FORMATS = "YYYY-MM-DD, YYYYMMDD or YYYY-MM-DDTHH:MM..."
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}.*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_call_date(text: str) -> datetime.date:
    """The day ``text`` names: ``YYYY-MM-DD``, ``YYYYMMDD`` or ``YYYY-MM-DDTHH...`` (the day of a
    date-time). Raises ``ValueError`` for anything else, an impossible day (2024-02-30) included."""
    text = text.strip()
    m = _ISO.match(text) or _COMPACT.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a date ({DATE_FORMATS})")
    try:
        return datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValueError(f"{text!r} is not a date on the calendar") from None


def path_pattern(pattern: str | None, *, group: str, flag: str, example: str) -> re.Pattern[str] | None:
    """``pattern`` compiled for searching file paths, with the named ``group`` it must hold (None for
    no pattern). A pattern that does not compile, or lacks the group, is a ``ConfigError`` naming
    ``flag`` and showing ``example``. Shared by ``--agent-from`` and ``--date-from``."""
    if not pattern:
        return None
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{flag} {pattern!r}: not a valid regular expression ({exc})") from None
    if group not in regex.groupindex:
        raise ConfigError(f"{flag} {pattern!r}: needs a named group {group!r}, e.g. {example!r}")
    return regex


def by_file(table: Mapping[str, str], path: Path) -> str | None:
    """The value a sidecar table (``--agent-map``) gives ``path``: keyed by the path as given, its
    file name or its stem, in that order."""
    for key in (str(path), path.name, path.stem):
        if key in table:
            return table[key]
    return None


class CallDates:
    """The date of each call (see the module's docstring for the order).

    Parameters
    ----------
    pattern : str or None
        ``--date-from``: a regular expression with a named group ``date``, searched in the path
        (``/`` separators). A path it does not match falls through to the next source; a match that
        is not a date is a ``ConfigError`` naming the file, so a wrong pattern is found at once.
    table : mapping of str to str
        Dates from the agent map, keyed as the map's ``file`` column (a path, name or stem), already
        ISO ``YYYY-MM-DD``.
    """

    def __init__(self, pattern: str | None = None, table: Mapping[str, str] | None = None):
        self.regex = path_pattern(pattern, group="date", flag="--date-from", example=r"(?P<date>\d{4}-\d{2}-\d{2})")
        self.table = dict(table or {})

    def __call__(self, path: Path) -> tuple[str | None, str]:
        """``(ISO date or None, source)``; the source is ``name``, ``agent-map``, ``modified`` or
        ``unknown`` (a file that cannot be read: its analysis reports why)."""
        if self.regex is not None:
            m = self.regex.search(path.as_posix())
            if m and m.group("date"):
                try:
                    return parse_call_date(m.group("date")).isoformat(), "name"
                except ValueError as exc:
                    raise ConfigError(f"--date-from: {path}: {exc}") from None
        listed = by_file(self.table, path)
        if listed is not None:
            return listed, "agent-map"
        try:
            return datetime.date.fromtimestamp(path.stat().st_mtime).isoformat(), "modified"
        except OSError:
            return None, "unknown"
