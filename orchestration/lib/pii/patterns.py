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
# Pre-filters: a superset of what each recognizer's patterns can match, one quick search each
# (7 digits with at most 4 separator characters between two of them, 12 for a card, ...).
_PHONE_HINT = re.compile(r"\d(?:[ \t.\-()]{0,4}\d){6}")
_CARD_HINT = re.compile(r"\d(?:[ \-]?\d){11}")
_SSN_HINT = re.compile(r"\d{5}-\d{4}|\d{3}-\d{6}|\d{3}[- .]?\d{2}[- .]?\d{4}")
_IP_HINT = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d|[0-9a-f]{0,4}:[0-9a-f]{0,4}:")


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
        wants=lambda f: f.digits >= 7 and _PHONE_HINT.search(f.lower) is not None,
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
        return f.digits >= 12 and _CARD_HINT.search(f.lower) is not None

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
        return f.digits >= 9 and _SSN_HINT.search(f.lower) is not None

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
        return f.digits >= 2 and _IP_HINT.search(f.lower) is not None

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
# A street line is a building number, a street name and either a street-type word (US/UK/CA
# suffixes from Faker's en_US list, "Rue"/"Via"/"ul." before the name, "...strasse"/"...vej"
# compounds) or a house number after the name ("Koskikatu 25"), then optionally units, a city,
# a state or province and a postcode, on the same line or on the lines below. PO boxes, US
# military addresses and street corners ("the corner of Elm St and 5th Ave") count too.
_CORE_SUFFIX = (
    r"Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl|Plaza|Loop|Pike"
    r"|Alley|Row|Crescent|Cres|Close|Expressway|Freeway|Turnpike|Route|Rte|Gardens|Grove"
    r"|Mews|Walk|Hill|Green"
)
_UP = r"A-Z\u00c0-\u00d6\u00d8-\u00de\u0100-\u017d\u0391-\u03a9\u0410-\u042f"
_CAP = r"(?:[" + _UP + r"][\w'\u2019.\-]*)"
_PARTICLE = (
    r"(?:de|del|della|delle|dei|degli|di|da|do|dos|das|du|des|la|le|les|los|las|van|von|der"
    r"|den|ten|ter|e|y|i|of|the|na|nad|pod|am|an|im|auf|zum|zur|el|al|a|ul\.|al\.|os\.|bd\."
    r"|rue|rua|via|calle|avenida|avenue|chemin|route|place|piazza|strada|trg|ulica|street)"
)
_STREET_PREFIX = (
    r"Rue|Rua|R\u00faa|Via|Viale|Vicolo|Corso|Piazza|Piazzale|Largo|Strada|Avenida|Avda|Av|Avenue|Calle"
    r"|Carrer|Camino|Paseo|Plaza|Pra\u00e7a|Travessa|Rodovia|Estrada|Alameda|Boulevard|Bd|Chemin"
    r"|Route|Place|Quai|All\u00e9e|Impasse|Cours|Trg|N\u00e1m\u011bst\u00ed|Ulitsa|Ulica|Calea"
    r"|Sokak|Caddesi|ul|al|C/|Cl|Carretera|Ronda|Pasaje|Traversa|Contrada|Localit\u00e0"
)
_COMPOUND = (
    r"(?:stra\u00dfe|strasse|str\.|gasse|weg|allee|platz|vej|vegen|veien|gata|gatan|gade"
    r"|katu|kuja|straat|laan|plein|gracht|utca|ulica|cesta|str\u00e6de|v\u00e4gen|torget"
    r"|damm|ufer|markt|steig|pfad|stieg)"
)
# street-type words written apart from the name: "Villacher Strasse 89", "Rákóczi út 13."
_TYPE_WORD = (
    r"(?:Stra\u00dfe|Strasse|Str\.|Gasse|Weg|Allee|Platz|gate|gata|gatan|vej|utca|\u00fat|rkp\."
    r"|straat|laan|katu|tie|odos|Odos|ulica|cesta)"
)
_NUM = r"(?P<number>\d{1,6})[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
_NAME_WORD = r"(?:" + _CAP + r"|\d{1,3}(?:st|nd|rd|th)|" + _PARTICLE + r")"
_LEAD = r"(?<![\w.,\-/:#+])"
_DIRECTION = r"(?:(?:[NSEW]|N\.?[EW]|S\.?[EW]|North|South|East|West)\.?[ \t]+)?"
_UNIT = (
    r"(?i:apt|apartment|suite|ste|unit|floor|fl|flat|room|rm|bldg|building|box|#)\.?[ \t]*#?"
    r"[ \t]*[\w\-]{1,6}"
)
_POSTCODE = (
    r"(?:\d{5}(?:-\d{4})?|\d{4}|\d{6}|\d{3}[ \t]?\d{2}|\d{2}-\d{3}|\d{4}-\d{3}"
    r"|[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d)"
)
_PO_BOX = re.compile(
    r"(?i)\b(?:P\.?[ \t]?O\.?|Post[ \t]+Office)[ \t]*Box[ \t]*#?[ \t]*\d{1,7}\b"
    r"|\b(?:PSC|CMR|Unit)[ \t]+\d{3,5},?[ \t]+Box[ \t]+\d{2,5}"
    r"(?:[ \t]*,?\s{0,4}(?:APO|FPO|DPO)[ \t]+(?:AA|AE|AP)[ \t]+\d{5})?"
    r"|\b(?-i:USS|USNS|USNV|USCGC)[ \t]+" + _CAP + r"(?:[ \t]+" + _CAP + r")?"
    r"[ \t]*,?\s{0,4}(?-i:FPO|APO)[ \t]+(?-i:AA|AE|AP)[ \t]+\d{5}"
)
_YEAR = re.compile(r"19\d{2}|20[0-3]\d")
_ADDRESS_CONTEXT = re.compile(
    r"(?i)(?:\b(?:live|lives|lived|living|located|locate|reside|resides|residing|moved|move"
    r"|mail|mailed|ship|shipped|send|sent|deliver|delivered|address|addresses|addr|home|office"
    r"|at|to|on|in|is|return|returned|meet|corner|of|from)\b|address[ \t]*:)[^\n\w]{0,3}$"
)
_STRONG_CONTEXT = re.compile(
    r"(?i)(?:\baddress(?:es)?\b[^\n.?!]{0,30}?(?:\bis|:|\bto|\bwith|\bof|\bat)?"
    r"|\b(?:lives?|lived|living|reside[sd]?|residing|located|moved)[ \t]+(?:at|on|in|to)"
    r"|\b(?:send|sent|ship|shipped|mail|mailed|deliver|delivered|return|returned|drops?"
    r"|stop)[ \t]+(?:\w+[ \t]+){0,2}(?:to|at|off[ \t]+at)"
    r"|\bmeet[ \t]+(?:me|you|us)[ \t]+at|\b(?:it'?s|is|are)[ \t]+(?:at|in|on)"
    r"|\btaxi[ \t]+to|\barrived[ \t]+at|\bon)[^\n\w]{0,3}\s{0,3}$"
)


@functools.cache
def _address_patterns() -> dict[str, re.Pattern[str]]:
    from faker.providers.address.en_US import Provider as Address

    core = set(_CORE_SUFFIX.split("|"))
    extended = "|".join(
        sorted({s for s in Address.street_suffixes if s not in core}, key=len, reverse=True)
    )
    head = _LEAD + _NUM + r"(?:[ \t]+\d{1,5}[A-Za-z]?)?[ \t]+" + _DIRECTION
    words = r"(?:" + _NAME_WORD + r"[ \t]+){0,4}?"
    return {
        # "1234 Elm Street", "77 W. Oak Avenue", "515 385 Gemsbok St"
        "core": re.compile(
            head + r"(?:" + _NAME_WORD + r"[ \t]+){1,4}?(?:" + _CORE_SUFFIX + r")\b\.?"
        ),
        "extended": re.compile(
            head + r"(?:" + _NAME_WORD + r"[ \t]+){1,4}?(?:" + extended + r")\b"
        ),
        # "12 Rue de la Gare", "35108 ul. Zamkowa 33", "Via delle Coste 41": a number before
        # or after (checked in `analyze`)
        "prefix": re.compile(
            r"(?:" + head + r")?(?<![\w.])(?:" + _STREET_PREFIX + r")\.?[ \t]+"
            r"(?:(?:" + _NAME_WORD + r"[ \t]+){0,5}?\d{1,5}[A-Za-z]?\b"
            r"|(?:" + _NAME_WORD + r"[ \t]+){0,4}" + _CAP + r")",
            re.I,
        ),
        # "Augsburger Strasse 36", "6185 Pfarrgasse 91", "Vesterskovvej 79"
        "compound": re.compile(
            r"(?:"
            + head
            + r")?(?<![\w.])"
            + words
            + r"(?:["
            + _UP
            + r"][\w'\-]{2,}?"
            + r"(?i:"
            + _COMPOUND
            + r")|"
            + _CAP
            + r"[ \t]+"
            + _TYPE_WORD
            + r")"
            + r"(?:[ \t]+\d{1,5}[A-Za-z]?\b\.?|(?=[ \t]*(?:,|\n|$)))",
        ),
        # "9816 214 Pavlou Drandaki" right after "is at", "lives at": context only
        "context": re.compile(head + r"(?:" + _NAME_WORD + r"[ \t]+){0,3}" + _CAP),
        # "on Pod Florianem 1677", "enter on Hoge Wei 32 St.": name then house number, after
        # an address context, the first word not an ordinary word ("at Booth 12" is not)
        "trailing": re.compile(
            _LEAD + r"(?P<first>" + _CAP + r")(?:[ \t]+" + _NAME_WORD + r"){0,2}[ \t]+"
            r"\d{1,5}[A-Za-z]?\b(?:[ \t]+(?:St|Street|Rd|Road|Ave|Avenue)\b\.?)?"
        ),
        # "shows on Marina Fort Street": a named street without number, after on/at/along
        "named": re.compile(
            r"(?:(?<=\bon )|(?<=\bat )|(?<=\bin )|(?<=\balong )|(?<=\bnear ))(?:"
            + _CAP
            + r"[ \t]+){1,3}"
            r"(?:Street|Avenue|Road|Boulevard|Lane|Drive|Parkway|Highway)\b"
        ),
        # "6750 Koskikatu 25" (a building number, a name, a house number): needs more evidence
        "numbered": re.compile(
            head + r"(?:" + _NAME_WORD + r"[ \t]+){0,3}" + _CAP + r"[ \t]+\d{1,5}[A-Za-z]?\b\.?"
        ),
        # "the corner of Dalbraut 99 and Frederikke Coves"
        "corner": re.compile(
            r"(?i:\b(?:the[ \t]+)?corner[ \t]+of)[ \t]+([^\n,;:?!{}]{2,60}?[ \t]+(?:and|&)[ \t]+"
            r"[^\n,;:?!{}]{2,60}?)(?=[ \t]*(?:[,;:?!\n]|\.(?:\s|$)|$))"
        ),
    }


_SEP = re.compile(r"[ \t]*,?[ \t]*(?:\r?\n[ \t>?*\-]*){0,2},?[ \t]*")
_UNIT_RX = re.compile(_UNIT + r"\b")
_CITY_STATE_ZIP = re.compile(  # "Springfield, IL 62704", "Toronto ON M5V 2T6", "Italy 39767"
    r"(?:" + _CAP + r"|[a-z]{2,})(?:[ \t]+(?:" + _CAP + r"|[a-z]{2,}|\([^\n)]{1,20}\))){0,3}"
    r"(?:[ \t]*,?[ \t]*(?:[A-Z]{2,3}\b)(?:[ \t]+"
    + _POSTCODE
    + r")?|[ \t]+"
    + _POSTCODE
    + r")(?!\w)"
)
_CITY = re.compile(
    r"(?:"
    + _CAP
    + r"|[a-z]{3,})(?:[ \t]+(?:"
    + _CAP
    + r"|[a-z]{2,}|\([^\n)]{1,20}\))){0,3}(?![\w@:])"
)
_STATE_ZIP = re.compile(
    r"(?:[A-Z]{2,3}\b)(?:[ \t]+" + _POSTCODE + r")?(?!\w)|" + _POSTCODE + r"(?!\w)"
)


def _address_tail(text: str, end: int) -> tuple[int, bool]:
    """Extend a street line over units, city, state/province and postcode (same line or the
    next few lines of an address block). Returns the new end and whether anything was added."""
    best = end
    pos = end
    lines = 0
    for _ in range(6):
        sep = _SEP.match(text, pos)
        assert sep is not None
        newline = "\n" in sep.group()
        if newline:
            lines += 1
            if lines > 4:
                break
        start = sep.end()
        m = _UNIT_RX.match(text, start)
        if m:
            pos = best = m.end()
            continue
        m = _CITY_STATE_ZIP.match(text, start) or _STATE_ZIP.match(text, start)
        if m and (newline or sep.group().strip(" \t") == "," or m.re is _CITY_STATE_ZIP):
            pos = best = m.end()
            continue
        m = _CITY.match(text, start)
        if m and (newline or "," in sep.group()) and len(m.group().split()) <= 4:
            line_end = text.find("\n", m.end())
            rest = text[m.end() : line_end if line_end >= 0 else len(text)]
            if not rest.strip(" \t.,") or rest.lstrip(" \t").startswith(","):
                pos = m.end()  # a city line: kept only if a state/postcode line follows
                continue
        break
    return best, best > end


# a number followed by one of these counts something: not a building number
_QUANTITY = re.compile(
    r"[ \t]+(?:AM|PM|A\.M\.|P\.M\.|am|pm|a\.m\.|p\.m\.|members?|people|persons|attendees|participants|guests"
    r"|percent|hours?|minutes?|days?|weeks?|months?|years?|times?|sessions?|tickets?|seats?"
    r"|items?|pages?|points?|dollars?|credits?|registrants)\b"
)


def _ordinary(word: str) -> bool:
    from .lexicon import ordinary_words

    return word.casefold().rstrip(".") in ordinary_words()


def _has_context(text: str, start: int) -> bool:
    return _STRONG_CONTEXT.search(text, max(0, start - 45), start) is not None


def _address_ok(text: str, m: re.Match[str], extended: bool) -> bool:
    """Less common suffixes ("Summit", "Center", "Park") after a year-like number need a unit,
    a city or an address word before them: "2024 Leadership Summit" is not an address, "I live
    at 1967 Miller Mission" is."""
    if not extended or not _YEAR.fullmatch(m.group("number") or ""):
        return True
    return _ADDRESS_CONTEXT.search(text, max(0, m.start() - 25), m.start()) is not None


# Exact pre-checks for the costlier street patterns (each scans every position otherwise); each
# is necessary for its pattern to match, so skipping a pattern when it fails changes nothing.
_LETTERS = re.compile(r"[^\W\d_]+")
# "prefix" (re.I): its street word is a whole word. Checked on ASCII text only, where re.I is
# plain lowercasing (the prefixes that are not ASCII cannot match ASCII text).
_PREFIX_WORDS = frozenset(w.lower() for w in _STREET_PREFIX.split("|") if w.isalpha())
# "compound": a compound ending ("...strasse", any case) or a type word after a blank (as
# written); ASCII text only, like "prefix" (the endings that are not ASCII cannot match it)
_COMPOUND_ENDINGS = tuple(
    w.lower().replace("\\.", ".") for w in _COMPOUND.strip("(?:)").split("|") if "\\u" not in w
)
_TYPE_WORDS = tuple(
    blank + w.replace("\\.", ".")
    for w in _TYPE_WORD.strip("(?:)").split("|")
    if "\\u" not in w
    for blank in " \t"
)
# "named": one of these words, as written
_NAMED_TYPES = ("Street", "Avenue", "Road", "Boulevard", "Lane", "Drive", "Parkway", "Highway")


def _may_match(kind: str, text: str, ascii_text: bool, low: str) -> bool:
    if kind == "named":
        return any(w in text for w in _NAMED_TYPES)
    if not ascii_text:
        return True
    if kind == "prefix":
        return "c/" in low or not _PREFIX_WORDS.isdisjoint(_LETTERS.findall(low))
    if kind == "compound":
        return any(w in low for w in _COMPOUND_ENDINGS) or any(w in text for w in _TYPE_WORDS)
    return True


class AddressRecognizer(RegexRecognizer):
    """Street addresses: US/UK/CA street lines (USPS suffixes from Faker's en_US list), other
    European street forms, units, city / state / postcode lines, PO boxes, US military
    addresses and street corners."""

    def __init__(self) -> None:
        self._rx = _address_patterns()
        super().__init__(
            "StreetAddressRecognizer",
            "STREET_ADDRESS",
            [(rx, 0, 0.7) for rx in self._rx.values()],
            wants=_wants_address,
        )

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        spans: list[tuple[int, int]] = []
        rx = self._rx
        ascii_text, low = text.isascii(), text.lower()
        for kind in (
            "core",
            "extended",
            "prefix",
            "compound",
            "numbered",
            "context",
            "named",
            "trailing",
        ):
            if not _may_match(kind, text, ascii_text, low):
                continue
            for m in rx[kind].finditer(text):
                start, end = m.span()
                if kind == "prefix" and not (m.group("number") or text[end - 1].isdigit()):
                    continue
                if kind in ("context", "named", "trailing") and not _has_context(text, start):
                    continue
                if kind == "trailing" and _ordinary(m.group("first")):
                    continue
                number_end = m.end("number") if "number" in rx[kind].groupindex else -1
                if number_end >= 0 and _QUANTITY.match(text, number_end):
                    continue  # "moved to 2 PM", "40 Members Drive events"
                if kind in ("core", "extended") and not _address_ok(text, m, kind == "extended"):
                    continue
                tail_end, extended = _address_tail(text, end)
                if kind == "numbered" and not (extended or _has_context(text, start)):
                    continue
                if (
                    kind == "extended"
                    and _YEAR.fullmatch(m.group("number") or "")
                    and not (extended or _has_context(text, start))
                ):
                    continue
                spans.append((start, tail_end))
        for m in _PO_BOX.finditer(text):
            spans.append((m.start(), _address_tail(text, m.end())[0]))
        for m in rx["corner"].finditer(text):
            spans.append(m.span(1))
        return [_result("STREET_ADDRESS", s, e, 0.7, self) for s, e in spans]


_ADDRESS_HINT = re.compile(
    r"(?i)box|corner|" + _COMPOUND + r"|\b(?:" + _STREET_PREFIX.replace("C/|", "") + r")\b"
)


# a number next to a word ("12 Elm", "Koskikatu 25"): every street line has one
_NUMBER_WORD = re.compile(r"\d[A-Za-z]?[ \t]+[^\W\d_]|[^\W\d_]\.?[ \t]+\d")


def _wants_address(f: Features) -> bool:
    if not f.digits:
        return "corner of" in f.lower
    return "box" in f.lower or "corner of" in f.lower or _NUMBER_WORD.search(f.lower) is not None


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
