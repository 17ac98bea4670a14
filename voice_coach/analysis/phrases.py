"""Spotting de-escalation phrases (and their defensive opposites) in a transcript.

A *phrasebook* lists categories of phrases (``acknowledgement``, ``offering_choices``, ``defensive``,
...), each with a polarity, a label and the advice it checks. It is a TOML file: the packaged default
is ``voice_coach/data/phrases.toml`` and a team's file may extend it (see ``docs/phrases.md``).

Matching works on normalised tokens (lower case, no punctuation, contractions expanded, numbers as
words, fillers dropped) and tolerates the errors a small Whisper model makes: a word dropped, added
or misheard per four pattern words, inflections (``frustrated``/``frustrating``), near spellings
(``difflib`` ratio >= 0.8 for words of four letters or more) and words split or joined
(``super visor``). Negation words (``not``, ``never``, ``nothing`` ...) are never fuzzy: they must be
heard exactly, and may not be inserted into or dropped from a pattern, so ``I can't see why you're
upset`` is not ``I can see why you're upset``.

``find_phrases`` works on a whole transcript; ``PhraseSpotter`` takes committed words as they come
and gives each match once. Both use the same scan and the same rule for overlapping matches of one
category (the one that ends first wins; at equal ends, the longer pattern), so they agree exactly.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

from voice_coach.engine.events import Word
from voice_coach.errors import ConfigError
from voice_coach.text import normalize_text, normalize_tokens

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = [
    "MatchOptions",
    "PhraseCategory",
    "PhraseMatch",
    "PhraseSpotter",
    "Phrasebook",
    "default_phrasebook",
    "find_phrases",
    "load_phrasebook",
    "normalize_text",
]

Polarity = Literal["positive", "negative"]

MAX_PATTERN_TOKENS = 16
"""Longest pattern, in normalised tokens (after contractions are expanded)."""

MAX_OPTIONAL_GROUPS = 3
"""At most this many ``[optional]`` groups in one pattern (each doubles the variants)."""

PROTECTED_TOKENS = frozenset(
    {"not", "no", "never", "nothing", "none", "nobody", "nowhere", "neither", "nor", "without"}
)
"""Negation words: matched exactly only, never inserted, dropped or substituted by fuzzy matching."""

_INF = 1 << 20
_MORE = "more"  # _align: no match within the tokens so far, but later ones could complete one


def _stem(tok: str) -> str:
    """A crude stem, enough to equate inflections Whisper confuses (frustrated/frustrating)."""
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if tok.endswith(suffix) and len(tok) - len(suffix) >= 4:
            tok = tok[: -len(suffix)]
            break
    return tok[:-1] if tok.endswith("e") and len(tok) > 4 else tok


@lru_cache(maxsize=1 << 16)
def _similar(a: str, b: str, ratio: float, min_chars: int) -> bool:
    """Whether two different tokens are close enough to be the same word misheard."""
    if len(a) < min_chars or len(b) < min_chars:
        return False
    if _stem(a) == _stem(b):
        return True
    # 2*min/(la+lb) bounds the ratio from above: skip the SequenceMatcher when it cannot pass.
    if 2 * min(len(a), len(b)) / (len(a) + len(b)) < ratio:
        return False
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= ratio


# --------------------------------------------------------------------------------------------------
# Phrasebook
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchOptions:
    """How tolerant matching is. The defaults suit the bundled tiny.en model.

    tokens_per_edit: one edit (a word inserted, dropped or substituted) is allowed per this many
        pattern words (``*`` not counted): 4 -> patterns of 4-7 words allow one, 8-11 two. 0 = none.
        The first and last pattern words are never edited, nor negation words.
    fuzzy_tokens: let a word match a misheard form of itself (same crude stem, or difflib ratio).
    token_similarity: difflib ratio (0..1) at or above which two words are the same.
    min_fuzzy_token_chars: both words need at least this many letters to be compared fuzzily.
    split_words: let one pattern word match two transcript words joined (``super visor``) and
        two pattern words match one transcript word (``any one`` / ``anyone``).
    """

    tokens_per_edit: int = 4
    fuzzy_tokens: bool = True
    token_similarity: float = 0.8
    min_fuzzy_token_chars: int = 4
    split_words: bool = True

    @classmethod
    def exact(cls) -> MatchOptions:
        """Exact matching of normalised tokens: no edits, no fuzzy words, no splits."""
        return cls(tokens_per_edit=0, fuzzy_tokens=False, split_words=False)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class PhraseCategory:
    """One kind of phrase. ``patterns`` are as written in the file (see ``docs/phrases.md``)."""

    name: str
    label: str
    polarity: Polarity
    advice: str
    patterns: tuple[str, ...]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "polarity": self.polarity,
            "advice": self.advice,
            "patterns": list(self.patterns),
        }


@dataclass(frozen=True)
class _PToken:
    forms: frozenset | None  # None = the ``*`` wildcard
    protected: bool
    cache: dict = field(default_factory=dict, compare=False, hash=False, repr=False)  # token -> match


@dataclass(frozen=True)
class _Compiled:
    category: str
    polarity: str
    pattern: str  # as written
    order: int  # position in the phrasebook, the last tie-breaker
    tokens: tuple[_PToken, ...]
    pair_forms: tuple[frozenset, ...]  # pair_forms[a]: tokens[a-1] + tokens[a] joined (a >= 1)
    exclude_before: frozenset
    budget: int  # edits allowed

    @property
    def n(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class _Index:
    by_first: dict  # first-token form -> [_Compiled]
    by_pair: dict  # first two tokens joined -> [_Compiled] (found at one transcript token)
    fuzzy_first: tuple  # (form, [_Compiled]) for forms long enough for fuzzy matching
    max_span: int  # most transcript tokens one match can cover


@dataclass(frozen=True)
class Phrasebook:
    """Categories of phrases and the matching options. Build it with ``load_phrasebook``.

    ``sources`` names the files it was loaded from, in order (``"<default>"`` for the packaged one).
    Patterns are compiled when it is made; an invalid pattern raises ``ConfigError``.
    """

    categories: tuple[PhraseCategory, ...]
    options: MatchOptions = MatchOptions()
    sources: tuple[str, ...] = ()
    _index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", _build_index(self.categories, self.options))

    def category(self, name: str) -> PhraseCategory:
        for cat in self.categories:
            if cat.name == name:
                return cat
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    def with_options(self, options: MatchOptions) -> Phrasebook:
        return replace(self, options=options)

    def to_dict(self) -> dict:
        """The phrasebook as plain data, to echo in results."""
        return {
            "sources": list(self.sources),
            "matching": self.options.to_dict(),
            "categories": [c.to_dict() for c in self.categories],
        }


_ITEM_RE = re.compile(r"\[[^\[\]]*\]|\S+")


def _compile_pattern(text: str, category: PhraseCategory, order: int, options: MatchOptions) -> list[_Compiled]:
    """Compile one pattern into its variants (one per choice of the optional groups)."""
    where = f"category '{category.name}', pattern {text!r}"
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: empty pattern")
    if text.count("[") != text.count("]"):
        raise ValueError(f"{where}: unbalanced [ ]")
    exclude, slots = _parse_slots(text, where)
    n_optional = sum(1 for opt, _ in slots if opt)
    if n_optional > MAX_OPTIONAL_GROUPS:
        raise ValueError(f"{where}: at most {MAX_OPTIONAL_GROUPS} [optional] groups")

    out = []
    seen = set()
    for items in _expand_optional(slots):
        _check_variant(items, where)
        key = tuple(items)
        if key in seen:
            continue
        seen.add(key)
        out.append(_compile_variant(items, text, category, order, options, frozenset(exclude)))
    return out


def _parse_slots(text: str, where: str) -> tuple[set[str], list[tuple[bool, list]]]:
    """Split a pattern into its leading '!word' exclusions and its slots.

    Each slot is ``(optional, items)``; items are None for '*', or frozensets of alternative single
    tokens (a plain word gives one frozenset per token, so a contraction gives two).
    """
    exclude: set[str] = set()
    slots: list[tuple[bool, list]] = []
    leading = True
    for raw in _ITEM_RE.findall(text):
        if raw.startswith("!"):
            if not leading:
                raise ValueError(f"{where}: '!word' exclusions may only come first")
            words = [w for alt in raw[1:].split("|") for w in normalize_tokens(alt, drop_fillers=False)]
            if not words:
                raise ValueError(f"{where}: empty exclusion {raw!r}")
            exclude.update(words)
            continue
        leading = False
        optional = raw.startswith("[")
        body = raw[1:-1].split() if optional else [raw]
        if optional and not body:
            raise ValueError(f"{where}: empty [ ] group")
        items: list = []
        for piece in body:
            items.extend(_piece_items(piece, where))
        slots.append((optional, items))
    return exclude, slots


def _piece_items(piece: str, where: str) -> list:
    """The items of one pattern word: None for '*', one frozenset of alternatives for 'a|b',
    else one single-form frozenset per normalised token."""
    if piece == "*":
        return [None]
    if "|" in piece:
        alts = []
        for alt in piece.split("|"):
            toks = normalize_tokens(alt, drop_fillers=False)
            if len(toks) != 1:
                raise ValueError(
                    f"{where}: alternative {alt!r} is {len(toks)} words after normalising; "
                    "alternatives must be single words (write two patterns instead)"
                )
            alts.append(toks[0])
        return [frozenset(alts)]
    if "*" in piece:
        raise ValueError(f"{where}: '*' must stand alone as a word")
    return [frozenset([t]) for t in normalize_tokens(piece, drop_fillers=False)]


def _expand_optional(slots: list[tuple[bool, list]]) -> list[list]:
    """Every item sequence the slots allow: each optional slot either left out or kept."""
    variants: list[list] = [[]]
    for optional, items in slots:
        with_items = [v + items for v in variants]
        variants = variants + with_items if optional else with_items
    return variants


def _check_variant(items: list, where: str) -> None:
    """Reject a variant that is empty, starts or ends with '*', or is too long."""
    if not items:
        raise ValueError(f"{where}: no words")
    if items[0] is None or items[-1] is None:
        raise ValueError(f"{where}: a pattern may not start or end with '*'")
    if len(items) > MAX_PATTERN_TOKENS:
        raise ValueError(f"{where}: longer than {MAX_PATTERN_TOKENS} words")


def _compile_variant(
    items: list, text: str, category: PhraseCategory, order: int, options: MatchOptions, exclude: frozenset
) -> _Compiled:
    """One variant's compiled form: its tokens, the joined forms of each adjacent pair, its edit budget."""
    tokens = tuple(_PToken(f, f is not None and bool(f & PROTECTED_TOKENS)) for f in items)
    pair_forms: list[frozenset] = [frozenset()]
    for a in range(1, len(tokens)):
        left, right = tokens[a - 1].forms, tokens[a].forms
        pair_forms.append(frozenset(x + y for x in left for y in right) if left and right else frozenset())
    n_words = sum(1 for t in tokens if t.forms is not None)
    budget = n_words // options.tokens_per_edit if options.tokens_per_edit > 0 else 0
    return _Compiled(
        category=category.name,
        polarity=category.polarity,
        pattern=text,
        order=order,
        tokens=tokens,
        pair_forms=tuple(pair_forms),
        exclude_before=exclude,
        budget=budget,
    )


def _build_index(categories: Sequence[PhraseCategory], options: MatchOptions) -> _Index:
    by_first: dict[str, list] = {}
    by_pair: dict[str, list] = {}
    order = 0
    max_span = 1
    for cat in categories:
        for text in cat.patterns:
            try:
                compiled = _compile_pattern(text, cat, order, options)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            order += 1
            for comp in compiled:
                for key in comp.tokens[0].forms or ():  # a pattern never starts with ``*``
                    by_first.setdefault(key, []).append(comp)
                if options.split_words and comp.n > 1:
                    for key in comp.pair_forms[1]:  # "any one" is found at "anyone"
                        by_pair.setdefault(key, []).append(comp)
                max_span = max(max_span, 2 * comp.n + comp.budget)
    fuzzy_first = tuple(
        (form, tuple(comps))
        for form, comps in by_first.items()
        if len(form) >= options.min_fuzzy_token_chars and form not in PROTECTED_TOKENS
    )
    return _Index(by_first=by_first, by_pair=by_pair, fuzzy_first=fuzzy_first, max_span=max_span)


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {"version", "replace", "matching", "categories"}
_CAT_KEYS = {"label", "polarity", "advice", "patterns", "replace", "remove"}


def _fail(source: str, problem: str) -> ConfigError:
    return ConfigError(f"phrase file {source}: {problem}")


def _read_toml(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail(str(path), "does not exist; give the path of a TOML phrase file") from None
    except OSError as exc:
        raise _fail(str(path), f"cannot be read ({exc.strerror or exc})") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail(str(path), "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(str(path), f"is not valid TOML: {exc}") from None


def _str_list(value, source: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, f"{where} must be a list of strings")
    return list(value)


def _merge(base: Phrasebook | None, data: dict, source: str) -> Phrasebook:
    """Apply one phrase file's data on top of ``base`` (None: start empty)."""
    if _check_top_level(data, source):
        base = None
    options = _merge_matching(base.options if base is not None else MatchOptions(), data, source)
    cats: dict[str, PhraseCategory] = {c.name: c for c in base.categories} if base is not None else {}
    table = data.get("categories", {})
    if not isinstance(table, dict):
        raise _fail(source, "'categories' must be a table of [categories.NAME] tables")
    for name, spec in table.items():
        cats[name] = _merge_category(cats.get(name), name, spec, source)
    sources = (base.sources if base is not None else ()) + (source,)
    try:
        return Phrasebook(tuple(cats.values()), options, sources)
    except ConfigError as exc:
        raise _fail(source, str(exc)) from None


def _check_top_level(data: dict, source: str) -> bool:
    """Validate the file's top-level keys and version; return its ``replace`` flag."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise _fail(source, f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_TOP_KEYS))}")
    if "version" in data and data["version"] != 1:
        raise _fail(source, f"version {data['version']!r} is not supported; use version = 1")
    replace_all = data.get("replace", False)
    if not isinstance(replace_all, bool):
        raise _fail(source, "'replace' must be true or false")
    return replace_all


def _merge_matching(options: MatchOptions, data: dict, source: str) -> MatchOptions:
    """``options`` updated by the file's ``[matching]`` table, each value checked against its field's type."""
    matching = data.get("matching", {})
    if not isinstance(matching, dict):
        raise _fail(source, "[matching] must be a table")
    known = {f.name: f for f in fields(MatchOptions)}
    updates = {}
    for key, value in matching.items():
        if key not in known:
            raise _fail(source, f"[matching] has unknown key '{key}'; allowed: {', '.join(known)}")
        updates[key] = _matching_value(key, value, source)
    if updates:
        options = replace(options, **updates)
    if not 0.0 < options.token_similarity <= 1.0:
        raise _fail(source, "[matching] token_similarity must be in (0, 1]")
    return options


def _matching_value(key: str, value, source: str):
    """A ``[matching]`` value checked against the type of the option's default (floats as float)."""
    default = getattr(MatchOptions(), key)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        kind = {bool: "true or false", int: "a whole number >= 0", float: "a number"}[type(default)]
        raise _fail(source, f"[matching] {key} must be {kind}, got {value!r}")
    return float(value) if isinstance(default, float) else value


def _check_category_spec(name: str, spec, where: str, source: str) -> None:
    """Validate a ``[categories.NAME]`` table's name, keys and the types of its simple values."""
    if not _NAME_RE.match(name):
        raise _fail(source, f"category name '{name}' must be lower case letters, digits and _")
    if not isinstance(spec, dict):
        raise _fail(source, f"{where} must be a table")
    unknown = set(spec) - _CAT_KEYS
    if unknown:
        raise _fail(
            source,
            f"{where} has unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_CAT_KEYS))}",
        )
    for key in ("label", "advice", "polarity"):
        if key in spec and not isinstance(spec[key], str):
            raise _fail(source, f"{where} {key} must be a string")
    if "polarity" in spec and spec["polarity"] not in ("positive", "negative"):
        raise _fail(source, f"{where} polarity must be 'positive' or 'negative', got {spec['polarity']!r}")
    if not isinstance(spec.get("replace", False), bool):
        raise _fail(source, f"{where} replace must be true or false")


def _merge_category(old: PhraseCategory | None, name: str, spec, source: str) -> PhraseCategory:
    """One category after applying a ``[categories.NAME]`` table to ``old`` (None: a new category)."""
    where = f"[categories.{name}]"
    _check_category_spec(name, spec, where, source)
    patterns = _str_list(spec.get("patterns", []), source, f"{where} patterns")
    remove = _str_list(spec.get("remove", []), source, f"{where} remove")
    if old is None:
        if "polarity" not in spec:
            raise _fail(source, f'{where} is a new category and needs polarity = "positive" or "negative"')
        if remove:
            raise _fail(source, f"{where} is a new category; it has nothing to remove")
        kept: list[str] = []
        label = spec.get("label", name.replace("_", " ").capitalize())
        advice, polarity = spec.get("advice", ""), spec["polarity"]
    else:
        kept = _kept_patterns(old, spec.get("replace", False), remove, where, source)
        label = spec.get("label", old.label)
        advice, polarity = spec.get("advice", old.advice), spec.get("polarity", old.polarity)
    present = {normalize_text(p) for p in kept}
    for pat in patterns:
        if normalize_text(pat) not in present:
            kept.append(pat)
            present.add(normalize_text(pat))
    return PhraseCategory(name, label, polarity, advice, tuple(kept))


def _kept_patterns(old: PhraseCategory, replace_cat: bool, remove: list[str], where: str, source: str) -> list[str]:
    """An existing category's patterns less those removed (none kept when the table replaces them)."""
    kept = [] if replace_cat else list(old.patterns)
    by_norm = {normalize_text(p): p for p in kept}
    for pat in remove:
        hit = by_norm.pop(normalize_text(pat), None)
        if hit is None:
            raise _fail(source, f"{where} remove: {pat!r} is not one of the category's patterns")
        kept.remove(hit)
    return kept


def _default_text() -> str:
    from importlib.resources import files

    return files("voice_coach").joinpath("data/phrases.toml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def default_phrasebook() -> Phrasebook:
    """The packaged phrasebook (``voice_coach/data/phrases.toml``), loaded once per process."""
    try:
        data = tomllib.loads(_default_text())
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - a packaging bug
        raise _fail("<default>", f"is not valid TOML: {exc}") from None
    return _merge(None, data, "<default>")


def load_phrasebook(path: Path | str | None = None) -> Phrasebook:
    """Load a phrasebook.

    ``None`` gives the packaged default. A file extends the default: its ``[categories.NAME]``
    tables add patterns to existing categories (or make new ones, which need ``polarity``), and may
    override ``label``/``advice``/``polarity``, ``remove`` default patterns, or set
    ``replace = true`` to replace the category's patterns. ``replace = true`` at the top level
    ignores the default entirely. Raises ``ConfigError`` (one line, naming the file) when invalid.
    """
    if path is None:
        return default_phrasebook()
    path = Path(path).expanduser()
    data = _read_toml(path)
    base = None if data.get("replace") is True else default_phrasebook()
    return _merge(base, data, str(path))


# --------------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhraseMatch:
    """A phrase heard in the transcript. Times are seconds of stream audio.

    ``text`` is the words as the transcriber wrote them; ``pattern`` the phrasebook entry matched.
    """

    start_s: float
    end_s: float
    speaker: str
    category: str
    polarity: str
    text: str
    pattern: str

    def to_dict(self) -> dict:
        return {
            "start": round(self.start_s, 3),
            "end": round(self.end_s, 3),
            "speaker": self.speaker,
            "category": self.category,
            "text": self.text,
            "pattern": self.pattern,
            "polarity": self.polarity,
        }


def _tok_match(p: _PToken, t: str, opts: MatchOptions) -> bool:
    hit = p.cache.get(t)
    if hit is None:
        if p.forms is None:
            hit = t not in PROTECTED_TOKENS
        elif t in p.forms:
            hit = True
        elif p.protected or not opts.fuzzy_tokens or t in PROTECTED_TOKENS:
            hit = False
        else:
            hit = any(_similar(f, t, opts.token_similarity, opts.min_fuzzy_token_chars) for f in p.forms)
        if len(p.cache) < 50_000:
            p.cache[t] = hit
    return hit


def _align(comp: _Compiled, toks: Sequence[str], s: int, opts: MatchOptions):
    """Align a pattern with the transcript starting exactly at token ``s``.

    Returns ``(end, cost)``, ``end`` the index of the last transcript token of the earliest-ending
    alignment within the edit budget; None when there is none; ``_MORE`` when there is none yet
    but later tokens could still complete one. Anchored: the first and last pattern words must be
    heard (exactly or fuzzily), edits only in between. A banded edit-distance table: row ``a`` is
    the first ``a`` pattern words, column ``b`` the first ``b`` transcript tokens from ``s``; only
    cells within the budget are kept.
    """
    m, k = comp.n, comp.budget
    length = min(len(toks) - s, 2 * m + k)
    if length <= 0:
        return _MORE
    short = length < 2 * m + k  # fewer tokens than the widest alignment needs
    cut = False  # a row's band ran past the last token: "no match" may only mean "not yet"
    split = opts.split_words
    prev2 = None
    lo2 = hi2 = -1
    prev = [0] + [_INF] * length
    lo, hi = 0, 0  # columns of prev holding values <= k
    for a in range(1, m + 1):
        pair = comp.pair_forms[a - 1] if split and a >= 2 else None
        b_lo, b_hi = lo, hi + 2  # match/substitute/delete/join move 0-2 columns on
        if pair and prev2 is not None and lo2 >= 0:
            b_lo = min(b_lo, lo2 + 1)
            b_hi = max(b_hi, hi2 + 1)
        b_hi += k if a < m else 0
        if b_hi > length:
            cut = cut or short
            b_hi = length
        cur, new_lo, new_hi = _align_row(comp, a, toks, s, prev, prev2, pair, max(b_lo, 1), b_hi, opts)
        # A later row can still come from this one's predecessor through a split (two pattern
        # words heard as one), so give up only when neither row is within budget.
        if new_lo < 0 and not (split and a < m and comp.pair_forms[a] and lo >= 0):
            return _MORE if cut else None
        prev2, lo2, hi2 = prev, lo, hi
        prev, lo, hi = cur, new_lo, new_hi
        if lo < 0 and lo2 < 0:
            return _MORE if cut else None
    if lo < 0:
        return _MORE if cut else None
    return s + lo - 1, prev[lo]


def _align_row(
    comp: _Compiled,
    a: int,
    toks: Sequence[str],
    s: int,
    prev: list[int],
    prev2: list[int] | None,
    pair: frozenset | None,
    b_lo: int,
    b_hi: int,
    opts: MatchOptions,
) -> tuple[list[int], int, int]:
    """Row ``a`` of ``_align``'s edit-distance table over columns ``b_lo..b_hi``.

    Returns the row and its first and last columns within the budget (-1, -1 when none).
    """
    m, k = comp.n, comp.budget
    p = comp.tokens[a - 1]
    editable = 1 < a < m and not p.protected
    can_insert = a < m
    split = opts.split_words
    inf = _INF
    length = len(prev) - 1
    cur = [inf] * (length + 1)
    new_lo = new_hi = -1
    for b in range(b_lo, b_hi + 1):
        t = toks[s + b - 1]
        best = inf
        d = prev[b - 1]
        if d <= k:
            if _tok_match(p, t, opts):
                best = d
            elif editable and t not in PROTECTED_TOKENS:
                best = d + 1
        if split and best:
            if b >= 2 and p.forms is not None and prev[b - 2] < best and toks[s + b - 2] + t in p.forms:
                best = prev[b - 2]
            if pair and prev2 is not None and prev2[b - 1] < best and t in pair:
                best = prev2[b - 1]
        if editable and prev[b] + 1 < best:  # the pattern word was not heard
            best = prev[b] + 1
        if can_insert and cur[b - 1] + 1 < best and t not in PROTECTED_TOKENS:  # a word inserted
            best = cur[b - 1] + 1
        if best <= k:
            cur[b] = best
            if new_lo < 0:
                new_lo = b
            new_hi = b
    return cur, new_lo, new_hi


def _first_candidates(index: _Index, t: str, opts: MatchOptions, cache: dict) -> list:
    """Patterns that may start at transcript token ``t``: by first word (exact or fuzzy), or by
    their first two words joined (``anyone`` for ``any one``)."""
    found = cache.get(t)
    if found is None:
        found = list(index.by_first.get(t, ())) + list(index.by_pair.get(t, ()))
        if opts.fuzzy_tokens and t not in PROTECTED_TOKENS and len(t) >= opts.min_fuzzy_token_chars:
            for form, comps in index.fuzzy_first:
                if form != t and _similar(form, t, opts.token_similarity, opts.min_fuzzy_token_chars):
                    found.extend(comps)
        found = list({id(c): c for c in found}.values())
        if len(cache) < 50_000:
            cache[t] = found
    return found


class PhraseSpotter:
    """Finds phrases in words as they are committed, reporting each match once.

    ``add(words)`` takes the next committed words of one speaker (in time order) and returns the
    matches completed by them, in order of their end. Each (start, pattern) pair is aligned once
    when its first word arrives and again only while it is still incomplete, and only a short
    tail of words is kept, so the cost per word and the memory stay flat on long calls. The
    matches are the same as ``find_phrases`` on all the words at once.
    """

    def __init__(self, phrasebook: Phrasebook | None = None, *, speaker: str) -> None:
        self.phrasebook = phrasebook if phrasebook is not None else default_phrasebook()
        self.speaker = speaker
        self._index = self.phrasebook._index
        self._opts = self.phrasebook.options
        self._toks: list[str] = []
        self._tok_word: list[int] = []  # absolute index of the word each token came from
        self._words: list[Word] = []
        self._offset = 0  # absolute index of self._toks[0]
        self._word_offset = 0  # absolute index of self._words[0]
        self._pending: list[tuple[int, _Compiled]] = []  # (start, pattern) alignments not complete yet
        self._last_end: dict[str, int] = {}  # category -> absolute token index of its last match's end
        self._first_cache: dict = {}

    def add(self, words: Iterable[Word]) -> list[PhraseMatch]:
        first_new = self._offset + len(self._toks)
        for word in words:
            self._words.append(word)
            w = self._word_offset + len(self._words) - 1
            for tok in normalize_tokens(word.text):
                self._toks.append(tok)
                self._tok_word.append(w)
        if self._offset + len(self._toks) == first_new:
            return []
        matches = self._scan(first_new)
        self._trim()
        return matches

    def _scan(self, first_new: int) -> list[PhraseMatch]:
        toks, off, opts, index = self._toks, self._offset, self._opts, self._index
        # New (start, pattern) pairs: starting at each new token, and, when two words may be
        # joined, at the token before each new one.
        fresh: list[tuple[int, _Compiled]] = []
        for s_abs in range(first_new, off + len(toks)):
            s = s_abs - off
            fresh.extend((s_abs, c) for c in _first_candidates(index, toks[s], opts, self._first_cache))
            if opts.split_words and s > 0:
                fresh.extend((s_abs - 1, c) for c in index.by_first.get(toks[s - 1] + toks[s], ()))
        found = []
        still: list[tuple[int, _Compiled]] = []
        for s_abs, comp in self._pending + fresh:
            s = s_abs - off
            if comp.exclude_before and s > 0 and toks[s - 1] in comp.exclude_before:
                continue
            hit = _align(comp, toks, s, opts)
            if hit is None:
                continue
            if hit is _MORE:
                still.append((s_abs, comp))
                continue
            end, cost = hit
            found.append((end + off, -comp.n, cost, s_abs, comp.order, comp))
        self._pending = still
        found.sort(key=lambda x: x[:5])
        out = []
        for end_abs, _, _, s_abs, _, comp in found:
            if s_abs <= self._last_end.get(comp.category, -1):
                continue  # overlaps the category's previous match
            self._last_end[comp.category] = end_abs
            first_w = self._tok_word[s_abs - off] - self._word_offset
            last_w = self._tok_word[end_abs - off] - self._word_offset
            spoken = self._words[first_w : last_w + 1]
            out.append(
                PhraseMatch(
                    start_s=float(spoken[0].start_s),
                    end_s=float(spoken[-1].end_s),
                    speaker=self.speaker,
                    category=comp.category,
                    polarity=comp.polarity,
                    text=" ".join(w.text.strip() for w in spoken),
                    pattern=comp.pattern,
                )
            )
        return out

    def _trim(self) -> None:
        # Pending alignments start within max_span tokens of the end; keep one more token for the
        # '!word' look-behind and the joined-words look-up.
        keep = self._index.max_span + 1
        drop = len(self._toks) - keep
        if drop <= 0:
            return
        self._toks = self._toks[drop:]
        self._tok_word = self._tok_word[drop:]
        self._offset += drop
        cut = self._tok_word[0] - self._word_offset
        if cut > 0:
            self._words = self._words[cut:]
            self._word_offset += cut


def find_phrases(words: Sequence[Word], phrasebook: Phrasebook | None = None, *, speaker: str) -> list[PhraseMatch]:
    """All phrasebook matches in one speaker's words, in order of their end.

    ``words`` are Whisper words in time order (leading spaces and punctuation are fine).
    ``phrasebook`` None uses the packaged default. Of overlapping matches of one category, the one
    that ends first is kept (at equal ends the longer pattern). Linear in the number of words: the
    patterns are indexed by their first word.
    """
    return PhraseSpotter(phrasebook, speaker=speaker).add(words)
