"""Text normalisation: the one form in which transcript words are compared.

Phrase matching compares a transcript with patterns in it, and the streaming transcriber compares two
hypotheses in it, so that ``"Don't!"``, ``"don't"`` and ``"do not"`` are one word sequence and ``"24"``
and ``"twenty-four"`` are too. Lower case; punctuation and hyphens split words; contractions expanded;
numbers, currency and percent signs spelled out; fillers (``um``, ``uh``) optionally dropped.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["FILLER_TOKENS", "normalize_text", "normalize_tokens"]

FILLER_TOKENS = frozenset({"um", "umm", "uh", "uhm", "uhh", "erm", "er", "ah", "hmm", "mm", "mhm"})
"""Disfluencies dropped from transcripts before matching."""

# --------------------------------------------------------------------------------------------------

_WHOLE_WORDS = {
    "can't": "can not",
    "cannot": "can not",
    "won't": "will not",
    "shan't": "shall not",
    "ain't": "is not",
    "let's": "let us",
    "y'all": "you all",
    "gonna": "going to",
    "wanna": "want to",
    "gotta": "got to",
    "gimme": "give me",
    "ok": "okay",
    "alright": "all right",
    "'cause": "because",
    "cos": "because",
}

# Words after which "'s" stands for "is" (or "has"; both are written "is" here, on both sides).
_S_IS = frozenset({"that", "it", "there", "here", "what", "who", "he", "she", "where", "how", "when", "why", "this"})

_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"), ("'m", " am"))

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINALS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip

_TOKEN_RE = re.compile(r"[a-z0-9']+")
_NUMBER_RE = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _int_words(n: int) -> list[str]:
    """English words of a non-negative integer: 1234 -> one thousand two hundred thirty four."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    for scale, name in _SCALES:
        if n >= scale:
            high, low = divmod(n, scale)
            return _int_words(high) + [name] + (_int_words(low) if low else [])
    raise AssertionError(n)  # pragma: no cover


def _number_words(text: str) -> str:
    """``12`` -> ``twelve``, ``1,500`` -> ``one thousand five hundred``, ``2.5`` -> ``two point five``."""
    whole, _, frac = text.replace(",", "").partition(".")
    if len(whole) > 12:  # an account number or the like: read it digit by digit
        return " ".join(_ONES[int(d)] for d in whole)
    words = _int_words(int(whole))
    if frac:
        words += ["point"] + [_ONES[int(d)] for d in frac]
    return " ".join(words)


def _ordinal(word: str) -> str:
    """``twenty one`` -> ``twenty first`` (the last word made ordinal)."""
    head, _, last = word.rpartition(" ")
    if last in _ORDINALS:
        last = _ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}" if head else last


def _expand_token(tok: str) -> list[str]:
    tok = tok.strip("'")
    if not tok:
        return []
    if tok in _WHOLE_WORDS:
        return _WHOLE_WORDS[tok].split()
    if "'" in tok:
        for suffix, expansion in _SUFFIXES:
            if tok.endswith(suffix) and len(tok) > len(suffix):
                return [tok[: -len(suffix)].replace("'", "")] + expansion.split()
        if tok.endswith("'s"):
            head = tok[:-2].replace("'", "")
            return [head, "is"] if head in _S_IS else [head + "s"]  # possessive: customer's -> customers
        return [tok.replace("'", "")]
    return [tok]


def _prepare(text: str) -> str:
    """Lower case, unify apostrophes, spell out numbers, currency and percent signs."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1 \2#", text)  # 3rd -> "3 rd#", made ordinal below
    text = re.sub(r"([$£€])\s*(" + _NUMBER_RE.pattern + ")", lambda m: f"{m.group(2)} {_CURRENCY[m.group(1)]}", text)
    text = text.replace("%", " percent").replace("&", " and ")

    def spell(m: re.Match) -> str:
        return " " + _number_words(m.group(0)) + " "

    text = _NUMBER_RE.sub(spell, text)
    text = re.sub(r"(\w+)\s+(?:st|nd|rd|th)#", lambda m: _ordinal(m.group(1)), text)
    return text


_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros"}


def normalize_tokens(text: str, *, drop_fillers: bool = True) -> list[str]:
    """The normalised tokens of a piece of text (a word, a sentence or a pattern).

    Lower case; punctuation and hyphens split words; contractions expanded (``I'm`` -> ``i am``,
    ``can't``/``cannot`` -> ``can not``, ``that's`` -> ``that is``); numbers spelled out
    (``24`` -> ``twenty four``); fillers (``um``, ``uh``) dropped when ``drop_fillers``.
    """
    out: list[str] = []
    for raw in _TOKEN_RE.findall(_prepare(text)):
        for tok in _expand_token(raw):
            if tok and not (drop_fillers and tok in FILLER_TOKENS):
                out.append(tok)
    return out


def normalize_text(text: str, *, drop_fillers: bool = True) -> str:
    """``normalize_tokens`` joined by single spaces: ``"So, you're upset?"`` -> ``"so you are upset"``.

    ``""`` for text with no letters or digits (``"♪"``, ``"..."``) and, when ``drop_fillers``, for a filler.
    """
    return " ".join(normalize_tokens(text, drop_fillers=drop_fillers))
