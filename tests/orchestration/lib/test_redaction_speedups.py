"""The redactor's shortcuts change no result: the allow-list trie, the context start words of
the person recognizer and the address pre-checks, each against the plain way."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from orchestration.lib.pii import patterns, person
from orchestration.lib.redaction import _allow_regex


def _plain_allow(phrases: list[str]) -> re.Pattern[str]:
    """The allow-list regex before the trie: a longest-first alternation."""
    parts = sorted({" ".join(p.split()) for p in phrases}, key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(w) for w in p.split(" ")) for p in parts)
    return re.compile(r"(?<!\w)(?:" + body + r")(?!\w)", re.I)


PHRASES = [
    "CE",
    "CEU",
    "CEUs",
    "CE credits",
    "Annual Conference",
    "Annual Conference Committee",
    "Annual Meeting",
    "Mid-Atlantic Chapter",
    "Young Professionals",
    "Young Professionals Chapter",
    "A.S.A.E.",
    "PAC",
]


def test_allow_trie_finds_what_the_alternation_found() -> None:
    trie, plain = _allow_regex(PHRASES), _plain_allow(PHRASES)
    assert trie is not None and trie.pattern != plain.pattern
    rng = random.Random(4)
    fillers = ["the", "our", "x", "CEO", "annual", "s", "-", ",", "\n", "  ", "ce", "2024"]
    variants: list[str] = []
    for p in PHRASES:
        variants += [p, p.upper(), p.lower(), p.replace(" ", "  \n "), p + "s", "x" + p, p[:-1]]
    for _ in range(3000):
        words = rng.choices(variants + fillers, k=rng.randint(1, 8))
        text = "".join(w + rng.choice([" ", "", ", ", "\t"]) for w in words)
        assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_allow_list_outside_ascii_keeps_the_alternation() -> None:
    rx = _allow_regex(["Café Hour", "Annual Conference"])
    assert rx is not None and rx.pattern == _plain_allow(["Café Hour", "Annual Conference"]).pattern
    assert [m.group() for m in rx.finditer("see you at CAFÉ  hour")] == ["CAFÉ  hour"]


CONTINUATIONS = [
    " Maria",
    ": Maria",
    ". Maria",
    " to Maria",
    " with Maria",
    " by Maria",
    " from Maria",
    " it to Maria",
    " up with Maria",
    " out to Maria",
    " in with Maria",
    " name is Maria",
    " is Maria",
    " am Maria",
    " me Maria",
    "'s Maria",
    ", Maria",
    ",\nMaria",
    " regards, Maria",
    " morning Maria",
    " you Maria",
    " so much to Maria",
    " for Maria",
    " person: Maria",
    " name? Maria",
    " your name? user: Maria",
]


def test_context_regex_is_tried_at_every_word_that_can_start_it() -> None:
    assert person._PRE_TRY < person._PRE_WORDS  # the shortcut does skip words
    assert {"the", "is", "a"}.isdisjoint(person._PRE_TRY)
    words = [*sorted(person._PRE_WORDS), "Dear", "DEAR", "Mr", "Thanks", "I\u2019m", "What\u2019s"]
    for word, rest in itertools.product(words, CONTINUATIONS):
        text = word + rest
        if person._PRE.match(text) is not None:
            norm = person.normalise_token(word) if not word.isascii() else word.lower()
            if len(norm) > 3 and norm[-2] == "'" and norm[-1] == "s":
                norm = norm[:-2]  # a possessive, as _tokens cuts it
            assert norm in person._PRE_TRY or norm not in person._PRE_WORDS, text


def test_context_start_words_fall_back_to_every_word(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(person, "_start_words", lambda pattern: None)
    assert person._words_to_try(person._PRE_WORDS) == person._PRE_WORDS


ADDRESS_TEXTS = [
    "I live at 1234 Elm Street, Springfield, IL 62704.",
    "Send it to 12 Rue de la Gare, 75001 Paris",
    "35108 ul. Zamkowa 33 please",
    "Via delle Coste 41, Roma",
    "Augsburger Strasse 36",
    "6185 Pfarrgasse 91",
    "Vesterskovvej 79\n2100 København",
    "Villacher Strasse 89, Wien",
    "Rákóczi út 13.",
    "we met on Marina Fort Street",
    "shows at Grand Central Avenue tonight",
    "C/ Mayor 5, Madrid",
    "Av. Paulista 1000",
    "Kungsgatan 12, Stockholm",
    "Karl Johans gate 5",
    "the 2024 Leadership Summit was at 1967 Miller Mission",
    "room 12 tie breaker at 3 pm",
    "Hoge Wei 32 St.",
    "Nothing here but 12 members and 3 sessions",
    "ODOS Ermou 12",
    "Ermou odos 12, Athens",
]


def test_address_prechecks_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    recognizer = patterns.address_recognizer()
    with_checks = [
        [(r.start, r.end) for r in recognizer.analyze(t, ["STREET_ADDRESS"])] for t in ADDRESS_TEXTS
    ]
    assert sum(map(len, with_checks)) >= 15  # the texts do hold addresses
    monkeypatch.setattr(patterns, "_may_match", lambda *args: True)
    without = [
        [(r.start, r.end) for r in recognizer.analyze(t, ["STREET_ADDRESS"])] for t in ADDRESS_TEXTS
    ]
    assert with_checks == without
