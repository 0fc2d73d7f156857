"""Pattern recognizers (Presidio `EntityRecognizer`s) for everything except person names.

Presidio's own CreditCard (Luhn), US SSN and IP recognizers are reused; the others are written
here because the stock ones either need the network (EmailRecognizer validates with tldextract,
which fetches the public-suffix list) or do not fit association text (PhoneRecognizer rejects
the 555 numbers of examples and is slow; UrlRecognizer redacts every URL, not personal ones).
Each recognizer carries a cheap `wants(features)` pre-filter so that the redactor skips it when
the text cannot contain a match (no '@', too few digits, ...).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    IpRecognizer,
    UsSsnRecognizer,
)

_DIGIT = re.compile(r"\d")


@dataclass(slots=True)
class Features:
    """Cheap facts about a text, computed once, that decide which recognizers run."""

    digits: int
    has_at: bool
    has_upper: bool
    lower: str

    @classmethod
    def of(cls, text: str) -> Features:
        return cls(
            digits=len(_DIGIT.findall(text)),
            has_at="@" in text,
            has_upper=not text.islower() and text != text.lower(),
            lower=text.lower(),
        )


def _result(entity: str, start: int, end: int, score: float, rec: EntityRecognizer):
    return RecognizerResult(
        entity,
        start,
        end,
        score,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: rec.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: rec.id,
        },
    )


class RegexRecognizer(EntityRecognizer):
    """Regexes with an optional capture group (the part to redact) and an optional validator."""

    def __init__(
        self,
        name: str,
        entity: str,
        patterns: Sequence[tuple[re.Pattern[str], int | str, float]],
        wants: Callable[[Features], bool],
        validator: Callable[[str, re.Match[str]], bool] | None = None,
    ) -> None:
        self._patterns = tuple(patterns)
        self._wants = wants
        self._validator = validator
        super().__init__(supported_entities=[entity], name=name, supported_language="en")

    def load(self) -> None:  # nothing to load
        pass

    def wants(self, f: Features) -> bool:
        return self._wants(f)

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        entity = self.supported_entities[0]
        out: list[RecognizerResult] = []
        for rx, group, score in self._patterns:
            for m in rx.finditer(text):
                start, end = m.span(group)
                if start < 0 or start == end:
                    continue
                if self._validator is not None and not self._validator(text[start:end], m):
                    continue
                out.append(_result(entity, start, end, score, self))
        return out


# -- e-mail ------------------------------------------------------------------------------------
_EMAIL = re.compile(
    r"(?<![\w.+'-])[\w][\w.+'-]{0,63}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])"
)
_EMAIL_OBFUSCATED = re.compile(
    r"(?i)(?<![\w.])[\w][\w.+-]{0,63}[ \t]*(?:\(at\)|\[at\]|\{at\}|<at>|[ \t]at[ \t])[ \t]*"
    r"[\w-]{1,63}(?:[ \t]*(?:\(dot\)|\[dot\]|\{dot\}|<dot>|[ \t]dot[ \t]|\.)[ \t]*[\w-]{1,63}){0,3}"
    r"[ \t]*(?:\(dot\)|\[dot\]|\{dot\}|<dot>|[ \t]dot[ \t]|\.)[ \t]*"
    r"(?:com|org|net|edu|gov|io|co|us|uk|ca|info|biz|me)\b"
)


def email_recognizer() -> RegexRecognizer:
    return RegexRecognizer(
        "EmailRecognizer",
        "EMAIL_ADDRESS",
        [(_EMAIL, 0, 1.0), (_EMAIL_OBFUSCATED, 0, 0.8)],
        wants=lambda f: f.has_at or " at " in f.lower or "(at)" in f.lower or "[at]" in f.lower,
    )


# -- phone -------------------------------------------------------------------------------------
_EXT = r"(?:[ \t]*,?[ \t]*(?:ext\.?|x\.?|extension|ext\.?[ \t]*#|#)[ \t]*\d{1,6})?"
_PHONE_NANP = re.compile(
    r"(?<![\w+.\-/])(?:\+?1[ \t.\-]?)?(?:\(\d{3}\)[ \t.\-]?|\d{3}[ \t.\-])\d{3}[ \t.\-]\d{4}"
    + _EXT
    + r"(?![\w\-]|\.\d)",
    re.I,
)
_PHONE_INTL = re.compile(
    r"(?<![\w+.\-/])(?:\+|00(?=[1-9]\d{0,2}[ \t.\-(]))[1-9]\d{0,2}(?:[ \t.\-]?\(?\d{1,5}\)?){2,6}"
    + _EXT
    + r"(?![\w\-]|\.\d)",
    re.I,
)
_PHONE_NATIONAL = re.compile(  # "020 7946 0958", "07700 900123", "0612 34 56 78"
    r"(?<![\w+.\-/])0\d{1,4}[ \t.\-]\d{2,4}(?:[ \t.\-]\d{2,4}){1,3}" + _EXT + r"(?![\w\-]|\.\d)",
    re.I,
)
_PHONE_BARE = re.compile(  # ten digits written together, only after a phone word
    r"(?i)\b(?:phone|tel|telephone|cell|mobile|fax|call(?:\s+me)?(?:\s+at)?|text(?:\s+me)?(?:\s+at)?)"
    r"\s*[:#.]?\s*(\+?1?\d{10})\b"
)
_EXT_SPLIT = re.compile(r"(?i)(?:ext|x|extension|#)")


def _phone_ok(value: str, _m: re.Match[str]) -> bool:
    main = _EXT_SPLIT.split(value, maxsplit=1)[0]
    n = len(_DIGIT.findall(main))
    return 7 <= n <= 15


# Numbers in other national formats ("99 668472", "60-56-85-91", "(72) 754-186") count only
# right after a phone word or right before an "office/fax/mobile" label.
_PHONE_GROUPS = r"(\+?\(?\d{1,5}\)?(?:[ \t.\-]{0,2}\(?\d{1,6}\)?){0,5})"
_PHONE_AFTER_WORD = re.compile(
    r"(?i)\b(?:phone|tel|telephone|cell|cellphone|mobile|fax|desk|direct|landline|whatsapp"
    r"|call[ \t]+(?:me[ \t]+)?(?:at|on)|text[ \t]+(?:me[ \t]+)?(?:at|on)|reach[ \t]+me[ \t]+(?:at|on)"
    r"|answering[ \t]+at|registered(?:[ \t]+(?:number|phone|mobile))?|phone[ \t]+number"
    r"|contact[ \t]+number)\b[ \t]*(?:number|no\.?|#)?[ \t]*[:.\-]?\s{0,3}" + _PHONE_GROUPS
)
_PHONE_BEFORE_LABEL = re.compile(
    r"(?<![\w+.\-/])"
    + _PHONE_GROUPS
    + r"[ \t]*-?[ \t]*(?i:office|fax|mobile|cell|home|work|desk)\b"
)


def phone_recognizer() -> RegexRecognizer:
    return RegexRecognizer(
        "PhoneRecognizer",
        "PHONE_NUMBER",
        [
            (_PHONE_NANP, 0, 0.8),
            (_PHONE_INTL, 0, 0.7),
            (_PHONE_NATIONAL, 0, 0.5),
            (_PHONE_BARE, 1, 0.6),
            (_PHONE_AFTER_WORD, 1, 0.6),
            (_PHONE_BEFORE_LABEL, 1, 0.6),
        ],
        wants=lambda f: f.digits >= 7,
        validator=_phone_ok,
    )


# -- credit card, SSN, IP (Presidio's own) -------------------------------------------------------
_CARD_CONTEXT = re.compile(r"(?i)\b(?:card|cc|visa|mastercard|amex|maestro|jcb|discover)\b")
_CARD_DIGITS = re.compile(r"(?<![\w.\-])\d(?:[ \-]?\d){11,18}(?![\w\-]|\.\d)")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class CardRecognizer(CreditCardRecognizer):
    """Presidio's credit-card recognizer (Luhn-validated) with a pre-filter, plus any 12-19
    digit Luhn-valid number within 40 characters after a card word ("card no 4415...")."""

    def __init__(self) -> None:
        super().__init__(name="CreditCardRecognizer")

    def wants(self, f: Features) -> bool:
        return f.digits >= 12

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        out = list(super().analyze(text, entities, nlp_artifacts, regex_flags))
        for m in _CARD_DIGITS.finditer(text):
            digits = _NON_DIGITS.sub("", m.group())
            if (
                12 <= len(digits) <= 19
                and luhn_ok(digits)
                and _CARD_CONTEXT.search(text, max(0, m.start() - 40), m.start())
                and not any(r.start <= m.start() and m.end() <= r.end for r in out)
            ):
                out.append(_result("CREDIT_CARD", m.start(), m.end(), 0.8, self))
        return out


_NON_DIGITS = re.compile(r"\D")


_SSN_CONTEXT = re.compile(r"(?i)\b(?:ssn|ss#|ssns|social\s+security|soc\.?\s*sec|tax\s*id|tin)\b")


class SsnRecognizer(UsSsnRecognizer):
    """Presidio's US SSN recognizer; its very weak patterns (bare 9 digits) count only with an
    SSN word in the 40 characters before, since no NLP context enhancement runs here."""

    def __init__(self) -> None:
        super().__init__(name="UsSsnRecognizer")

    def wants(self, f: Features) -> bool:
        return f.digits >= 9

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        out = []
        for r in super().analyze(text, entities, nlp_artifacts, regex_flags):
            if r.score >= 0.5 or _SSN_CONTEXT.search(text, max(0, r.start - 40), r.start):
                r.score = max(r.score, 0.5)
                out.append(r)
        return out


_VERSION = re.compile(r"(?i)(?:\bversion|\bver\.?|\bv|\brelease|\bbuild)[ \t]*$")


class IpAddressRecognizer(IpRecognizer):
    """Presidio's IPv4/IPv6 recognizer (validated with `ipaddress`), without the bare '::'."""

    def __init__(self) -> None:
        super().__init__(name="IpRecognizer")

    def wants(self, f: Features) -> bool:
        return f.digits >= 2 and ("." in f.lower or ":" in f.lower)

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        return [
            r
            for r in super().analyze(text, entities, nlp_artifacts, regex_flags)
            if r.score >= 0.5
            and r.end - r.start > 2
            and not _VERSION.search(text, max(0, r.start - 12), r.start)
        ]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# -- URL (personal ones only) -------------------------------------------------------------------
_SOCIAL = (
    r"linkedin\.com|facebook\.com|fb\.com|fb\.me|twitter\.com|x\.com|instagram\.com|github\.com"
    r"|gitlab\.com|tiktok\.com|youtube\.com|medium\.com|threads\.net|bsky\.app|mastodon\.social"
    r"|calendly\.com|venmo\.com|paypal\.me|cash\.app|about\.me|linktr\.ee|substack\.com"
)
_URL = re.compile(
    r"(?i)(?<![\w@.])(?:https?://|www\.)[^\s<>\"'`]+"
    r"|(?<![\w@./])(?:[a-z0-9-]+\.)*(?:" + _SOCIAL + r")/[^\s<>\"'`]+"
)
_TRAILING = ".,;:!?)]}'\""
_SOCIAL_HOSTS = frozenset(h.replace("\\", "") for h in _SOCIAL.split("|"))
_NOT_PROFILE = _words(
    """
    events event groups group pages page watch marketplace help policies policy legal login
    signup sharer share sharing intent hashtag explore search home about p reel reels tv
    topics settings orgs org sponsors features pricing company school showcase jobs job feed
    posts pulse learning news playlist results embed privacy terms blog
    """
)
_PERSONAL_SEGMENTS = _words(
    "in pub profile profiles people person member members user users staff team author authors"
    " u directory contact contacts bio"
)
_PERSONAL_QUERY_KEYS = _words(
    """
    email e mail name first last fname lname firstname lastname user username uid userid id
    member memberid member_id contact contactid contact_id token key sig signature auth session
    sid code reset invite pwd password phone
    """
)
_CAPABILITY_HOSTS = (
    "docs.google.com",
    "drive.google.com",
    "dropbox.com",
    "box.com",
    "zoom.us",
    "teams.microsoft.com",
    "onedrive.live.com",
    "1drv.ms",
    "wetransfer.com",
    "sharepoint.com",
)


def _host_matches(host: str, suffixes) -> bool:
    return any(host == s or host.endswith("." + s) for s in suffixes)


def is_personal_url(url: str) -> bool:
    """True for URLs that point at a person or carry personal data; False for generic pages."""
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return True  # unparseable: redact rather than guess
    if "@" in url:
        return True
    segments = [s for s in parts.path.split("/") if s]
    first = segments[0].lower() if segments else ""
    if any(s.startswith("~") for s in segments):
        return True
    if _host_matches(host, _CAPABILITY_HOSTS):
        return True
    if _host_matches(host, _SOCIAL_HOSTS):
        if host.endswith(("linkedin.com",)):
            return first in {"in", "pub"} and len(segments) > 1
        if first.startswith("@") or (
            host.endswith("youtube.com") and first in {"user", "c", "channel"}
        ):
            return True
        return bool(first) and first not in _NOT_PROFILE
    for seg_a, seg_b in itertools.pairwise(segments):
        if seg_a.lower() in _PERSONAL_SEGMENTS and seg_b:
            return True
    query = parse_qsl(parts.query, keep_blank_values=False)
    return any(k.lower() in _PERSONAL_QUERY_KEYS for k, _ in query)


class UrlRecognizer(RegexRecognizer):
    """URLs pointing at a person (social profiles, member directory pages, links carrying an
    e-mail, id or token, shared-document links). Generic pages such as the association's event
    page are left alone: they are not personal and often matter for the analysis."""

    def __init__(self) -> None:
        super().__init__(
            "UrlRecognizer",
            "URL",
            [(_URL, 0, 0.8)],
            wants=lambda f: "/" in f.lower or "www." in f.lower,
        )

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        out = []
        for m in _URL.finditer(text):
            start, end = m.span()
            while end > start and text[end - 1] in _TRAILING:
                end -= 1
            if end > start and is_personal_url(text[start:end]):
                out.append(_result("URL", start, end, 0.8, self))
        return out


# -- street address ------------------------------------------------------------------------------
_CORE_SUFFIX = (
    r"Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl|Plaza|Loop|Pike"
    r"|Alley|Row|Crescent|Close|Expressway|Freeway|Turnpike|Route|Rte"
)
_ADDRESS_TAIL = (
    r"(?:[ \t]+(?:[NSEW]|N[EW]|S[EW])\b\.?)?"
    r"(?P<unit>[ \t]*,?[ \t]*(?:Suite|Ste|Apt|Apartment|Unit|Floor|Fl|Room|Rm|Bldg|Building|#)\.?"
    r"[ \t]*#?[ \t]*[\w\-]{1,6})?"
    r"(?P<city>[ \t]*,[ \t]*[A-Z][a-zA-Z.]+(?:[ \t]+[A-Z][a-zA-Z.]+){0,2}"
    r"(?:[ \t]*,?[ \t]*[A-Z]{2}\b(?:[ \t]+\d{5}(?:-\d{4})?)?|[ \t]+\d{5}(?:-\d{4})?))?"
)
_ADDRESS_HEAD = (
    r"(?<![\w.,\-/])(?P<number>\d{1,6})[A-Za-z]?(?:-\d{1,4})?[ \t]+"
    r"(?:(?:[NSEW]|N\.?[EW]|S\.?[EW]|North|South|East|West)\.?[ \t]+)?"
    r"(?:(?:[A-Z][\w'.\-]*|\d{1,3}(?:st|nd|rd|th))[ \t]+){1,4}"
)
_PO_BOX = re.compile(r"(?i)\b(?:P\.?[ \t]?O\.?|Post[ \t]+Office)[ \t]*Box[ \t]*#?[ \t]*\d{1,7}\b")
_YEAR = re.compile(r"19\d{2}|20[0-3]\d")
_ADDRESS_CONTEXT = re.compile(
    r"(?i)\b(?:live|lives|living|located|reside|resides|residing|moved|move|mail|ship|send|deliver"
    r"|address|addr|home|office|at|to)\b[^\n\w]{0,3}$"
)


def _address_ok(text: str, m: re.Match[str]) -> bool:
    """Less common suffixes ("Summit", "Center", "Park") after a year-like number need a unit,
    a city or an address word before them: "2024 Leadership Summit" is not an address, "I live
    at 1967 Miller Mission" is."""
    if not _YEAR.fullmatch(m.group("number")) or m.group("unit") or m.group("city"):
        return True
    return _ADDRESS_CONTEXT.search(text, max(0, m.start() - 25), m.start()) is not None


@functools.cache
def _address_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    from faker.providers.address.en_US import Provider as Address

    core = set(_CORE_SUFFIX.split("|"))
    extended = sorted({s for s in Address.street_suffixes if s not in core}, key=len, reverse=True)
    return (
        re.compile(_ADDRESS_HEAD + r"(?:" + _CORE_SUFFIX + r")\b\.?" + _ADDRESS_TAIL),
        re.compile(_ADDRESS_HEAD + r"(?:" + "|".join(extended) + r")\b" + _ADDRESS_TAIL),
    )


class AddressRecognizer(RegexRecognizer):
    """US-style street addresses (number, street name, USPS suffix from Faker's en_US list,
    optional unit and city/state/ZIP) and PO boxes."""

    def __init__(self) -> None:
        core, extended = _address_patterns()
        super().__init__(
            "StreetAddressRecognizer",
            "STREET_ADDRESS",
            [(core, 0, 0.7), (extended, 0, 0.6), (_PO_BOX, 0, 0.7)],
            wants=lambda f: f.digits >= 1 and (f.has_upper or "box" in f.lower),
        )

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        out = []
        core, extended, po_box = (p[0] for p in self._patterns)
        for rx in (core, extended, po_box):
            for m in rx.finditer(text):
                if rx is extended and not _address_ok(text, m):
                    continue
                out.append(_result("STREET_ADDRESS", m.start(), m.end(), 0.7, self))
        return out


def address_recognizer() -> AddressRecognizer:
    return AddressRecognizer()


# -- date of birth in context -----------------------------------------------------------------
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}"
    r"|" + _MONTH + r"[ \t]+\d{1,2}(?:st|nd|rd|th)?,?[ \t]+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?[ \t]+(?:of[ \t]+)?" + _MONTH + r",?[ \t]+\d{4}"
    r"|" + _MONTH + r"[ \t]+\d{4}|(?:19|20)\d{2})"
)
_DOB = re.compile(
    r"(?i)(?:\bDOB\b|\bD\.O\.B\.?|\bdate[ \t]+of[ \t]+birth|\bbirth[ \t]?date|\bbirthday"
    r"|\bborn(?:[ \t]+(?:on|in))?)[ \t]*(?:is|was|:|-|=)?[ \t]*(?:on[ \t]+)?(" + _DATE + r")(?!\d)"
)


def dob_recognizer() -> RegexRecognizer:
    return RegexRecognizer(
        "DateOfBirthRecognizer",
        "DATE_OF_BIRTH",
        [(_DOB, 1, 0.8)],
        wants=lambda f: (
            f.digits >= 2
            and ("dob" in f.lower or "birth" in f.lower or "born" in f.lower or "d.o.b" in f.lower)
        ),
    )


# -- iMIS member ids --------------------------------------------------------------------------
_MEMBER_ID = re.compile(
    r"(?i)\b(?:(?:member(?:ship)?|customer|account|imis|contact|record)[ \t]*"
    r"(?:id|number|no\.?|num|#)|imis|(?-i:ID)|id[ \t]*(?:#|number|no\.?|:))"
    r"(?:[ \t]+(?:is|was|=|of)|[ \t]*(?:is|was)?[ \t]*[:#=\-])?"  # "my member ID is 100025"
    r"[ \t]*#?[ \t]*(\d{4,12})\b"
)
# "Member #104233", "member 104233" (a member word right before a number of 5+ digits)
_MEMBER_NUMBER = re.compile(r"(?i)\bmember(?:ship)?[ \t]*[#:]?[ \t]*#?[ \t]*(\d{5,12})\b")


def member_id_recognizer(extra_pattern: str | None = None) -> RegexRecognizer:
    patterns: list[tuple[re.Pattern[str], int | str, float]] = [
        (_MEMBER_ID, 1, 0.8),
        (_MEMBER_NUMBER, 1, 0.7),
    ]
    if extra_pattern:
        rx = re.compile(extra_pattern)
        patterns.append((rx, 1 if rx.groups else 0, 0.8))
        wants: Callable[[Features], bool] = lambda f: True  # noqa: E731 (custom ids may have no digit)
    else:
        wants = lambda f: f.digits >= 4  # noqa: E731
    return RegexRecognizer("MemberIdRecognizer", "MEMBER_ID", patterns, wants=wants)
