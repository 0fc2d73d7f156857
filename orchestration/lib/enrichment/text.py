"""Small, dependency-free text helpers for the built-in model and the shared rules.

Everything works on REDACTED text, where a redactor has replaced personal data with
placeholders such as `<PERSON_1>`, `<EMAIL_ADDRESS>` or `[REDACTED]`. Placeholders are kept as
single opaque tokens so that they never split a sentence or look like shouted words.
"""

from __future__ import annotations

import re

# `<PERSON_1>`, `<EMAIL_ADDRESS_2>` (orchestration.lib.redaction), `[REDACTED]`, `{{NAME}}`, and
# `\u2039PERSON_1\u203a`: what the redactor turns a member-typed lookalike into.
PLACEHOLDER_RE = re.compile(
    r"<[A-Z][A-Z0-9_]*>|\[[A-Z][A-Z0-9_ ]*\]|\{\{[A-Z][A-Z0-9_]*\}\}|\u2039[A-Z][A-Z0-9_]*\u203a"
)
PLACEHOLDER_WORD = "someone"  # what a placeholder reads as for lexicon scoring: no valence

_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof st jr sr vs e.g i.e etc inc ltd co no dept approx jan feb mar apr jun jul "
    "aug sep sept oct nov dec mon tue wed thu fri sat sun a.m p.m u.s"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
# A boundary is end punctuation (plus closing quotes/brackets) followed by white space, or a
# line break. Placeholders contain no end punctuation, so they never split.
_BOUNDARY_RE = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+|\s*\n\s*")
_WORD_BEFORE_RE = re.compile(r"([A-Za-z][A-Za-z.]*)[.]+$")
_TOKEN_RE = re.compile(
    r"<[A-Z][A-Z0-9_]*>|\u2039[A-Z][A-Z0-9_]*\u203a|\[[A-Z][A-Z0-9_ ]*\]|[^\W_]+(?:['\u2019][^\W_]+)*",
    re.UNICODE,
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`, trimmed of surrounding white space.

    `text[start:end]` is always an exact, non-empty substring of `text`.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY_RE.finditer(text):
        punct_end = match.start() + len(match.group().rstrip())
        if "\n" not in match.group():
            before = _WORD_BEFORE_RE.search(text[start:punct_end])
            if before and before.group(1).lower().rstrip(".") in _ABBREVIATIONS:
                continue
        _append_trimmed(text, start, punct_end, spans)
        start = match.end()
    _append_trimmed(text, start, len(text), spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def words(text: str) -> list[str]:
    """Lower-cased word tokens; each placeholder is one token such as `<person_1>`."""
    return [t.lower() for t in _TOKEN_RE.findall(text)]


def stem(token: str) -> str:
    """A crude, deterministic suffix stripper: enough to match 'renewals' with 'renewal'."""
    if token.startswith(("<", "[")) or len(token) <= 3:
        return token
    token = token.replace("\u2019", "'")
    if token.endswith("'s"):
        token = token[:-2]
    for suffix, repl, min_len in (
        ("ies", "y", 5), ("sses", "ss", 5), ("ing", "", 6), ("ed", "", 5), ("es", "", 5),
        ("s", "", 4),
    ):  # fmt: skip
        if (
            token.endswith(suffix)
            and len(token) >= min_len
            and not token.endswith(("ss", "us", "is"))
        ):
            return token[: len(token) - len(suffix)] + repl
    return token


def neutralise_placeholders(text: str) -> str:
    """Placeholders replaced by a valence-free word (for lexicon scoring only)."""
    return PLACEHOLDER_RE.sub(PLACEHOLDER_WORD, text)


def truncate_words(text: str, max_chars: int, *, ellipsis: str = "\u2026") -> str:
    """`text` on one line, cut at a word boundary to at most `max_chars` characters."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - len(ellipsis)]
    if " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-") + ellipsis


def window(
    text: str, start: int, end: int, max_chars: int, focus: int | None = None
) -> tuple[int, int]:
    """A sub-span of text[start:end] at most `max_chars` long, cut at white space, around
    `focus` (an offset inside the span). Returns offsets into `text`."""
    if end - start <= max_chars:
        return start, end
    focus = start if focus is None else min(max(focus, start), end)
    lo = max(start, focus - max_chars // 3)
    hi = min(end, lo + max_chars)
    lo = max(start, hi - max_chars)
    if lo > start:
        space = text.find(" ", lo, hi)
        if space != -1:
            lo = space + 1
    if hi < end:
        space = text.rfind(" ", lo, hi)
        if space > lo:
            hi = space
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    if hi <= lo:  # one enormous "word": cut hard
        lo, hi = start, start + max_chars
    return lo, hi
