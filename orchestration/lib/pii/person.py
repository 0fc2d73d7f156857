"""PERSON detection without a language model: known people (keyed hashes) and a gazetteer with
context.

Rules, from strongest to weakest:

* a pair of adjacent tokens whose keyed hash is a known full name ("Dana Whitfield", in any
  case), or a known e-mail local part ("dwhitfield");
* a capitalised first name (known or from the gazetteer) followed by a capitalised surname
  (known or from the gazetteer), optionally with a middle initial, unless both are ordinary
  words ("Grant Park");
* a token after a strong context: a title ("Dr. X", always), "my name is X", "Contact: X",
  a salutation or sign-off ("Dear X", "Hi X", "Thanks,\\nX", "Regards, X Y") when X is a name or
  the name line ends there; "@handle" mentions;
* a first name after or before a speech/contact verb ("spoke with Dana", "Dana said");
  lowercase tokens count only when they hash to a known person ("spoke with dana");
* a known (not ordinary-word) name after a weak context ("with Dana", "Dana's", "Dana was").

* a first name known to iMIS, capitalised and not an ordinary word, anywhere;
* a gazetteer first name that is not an ordinary word ("Jennifer is ..."), and a gazetteer
  first name followed by a capitalised surname-like word ("Tom Whitfield"), anywhere;
* a speaker label at the start of a line ("Amy: ..."), also an unlisted one in a dialogue of
  several speaker lines.

Rules for names no list has (names from everywhere, transliterated names):

* two capitalised, non-ordinary tokens with a middle initial between them ("Csanad P Gere"),
  or before ", the <role>, said";
* two such tokens, one of which looks like a name (listed, non-ASCII letters, a surname ending
  such as -ov, -ski, -sson, -ic, -hara), after a context word ("by", "under", "including",
  "add"), before a verb only people do ("... said", "... lives at"), or alone on a line
  (signature and address blocks);
* one such token after a title, "my name is", "What's your last name?", a verb context
  ("says X", "directed by X", "my colleague X") or before a verb only people do;
* coordinated lists ("founders: Kovacs, Becker and Vasquez") in which most members are names;
* another mention in the same text of a token already found in a name ("... Yefremova's
  Cautionary Tales ... early Yefremova"), reported as NameRepeatRecognizer;
* in a text written all in lowercase, listed names and name-like tokens count as capitalised.

A name that is also an ordinary word needs a context ("I will attend in May", "Grant funding").
Ordinary words are Faker's lorem list, spaCy's stop words, VADER's lexicon and
`english_words.txt` (common lowercase words of informal English; see lexicon.py). A name
followed by a company word ("Smith Ltd.", "Johnson Inc") is not a person.
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult

from .known_people import FIRST, FULL, HANDLE, LAST, STOP_TOKENS, KnownPeople, normalise_token
from .lexicon import (
    GENERIC_ADDRESSEES,
    NAME_ENDINGS,
    NOT_SURNAMES,
    gazetteer,
    ordinary_words,
    stop_words,
)
from .patterns import Features

KNOWN = "KnownPeopleRecognizer"
CONTEXT = "NameContextRecognizer"
HANDLE_REC = "HandleRecognizer"
REPEAT = "NameRepeatRecognizer"  # another mention of a name found elsewhere in the same text

_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_PAIR_GAP = re.compile(r"[ \t]{1,3}|[._]")
_INITIAL_GAP = re.compile(r"[ \t]{1,3}[^\W\d_]\.?[ \t]{1,3}")  # "Maria J. Gonzalez"
_TERMINATED = re.compile(
    r"[ \t]*(?:[,.!:;)\]|/]|\r?\n|\Z"
    r"|(?-i:Jr|Sr|II|III|IV|MD|DDS|DMD|PhD|CPA|CAE|Esq|RN|MBA|PE|PMP|DVM|JD|CFA|FACHE)\b)"
)
_COORD = re.compile(r"[ \t]*(?:,|&|and|or)[ \t]+", re.I)
_HANDLE_CANDIDATE = re.compile(
    r"(?<![\w@.\-])(?=[\w.\-]*[._\d])[^\W_][\w.\-]{1,62}[^\W_](?![\w@\-]|\.\w)"
)
_HANDLE = re.compile(r"(?<![\w.@/])@([^\W\d_][\w.\-]{0,38}[\w])")

TITLE, INTRO, GREET, VERB, PREP = 5, 4, 3, 2, 1

_PRE = re.compile(
    r"(?P<title>\b(?:(?:mr|mrs|ms|mx|dr|prof)\.(?=[ \t]+[^\W\d_])"
    r"|(?-i:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Rev|Fr|Sra?|Mme|Mlle|Herr|Frau|Coach"
    r"|Pastor|Rabbi|Judge|Senator|Rep|Capt|Sgt|Lt|Col|Gen|Hon)\.?)[ \t]+)"
    r"|(?P<intro>\b(?:my[ \t]+name[ \t]+is|my[ \t]+name's|name[ \t]+is|call[ \t]+me|calls[ \t]+me"
    r"|(?:first|last|full|maiden|given|family|sur)[ \t]*name[ \t]+(?:is|was)|signed)[ \t]*:?[ \t]+"
    r"|\bwhat(?:'s|\u2019s|[ \t]+is)[ \t]+(?:your|the|his|her|their)[ \t]+"
    r"(?:(?:first|last|full|maiden|given|family|sur)[ \t]*)?name(?:[ \t]+on[ \t]+the[ \t]+\w+)?"
    r"[ \t]*\?[ \t]*(?:(?:user|me|answer|a|customer|caller)[ \t]*:[ \t]*)?"
    r"|\b(?:contact(?:[ \t]+person)?|attn|attention|from|to|cc|bcc|submitted[ \t]+by|sent[ \t]+by"
    r"|written[ \t]+by|reported[ \t]+by|posted[ \t]+by|requested[ \t]+by|name|speaker|presenter"
    r"|instructor|author|organi[sz]er|host|rep|representative|volunteer|mentor|mentee|liaison"
    r"|member|nominee|candidate|referee|reference)[ \t]*:[ \t]*)"
    r"|(?P<verb>\b(?:escalated|escalate|assigned|reassigned|transferred|transfer|forwarded"
    r"|forward|handed|routed|passed|sent|referred|given|returned)[ \t]+(?:it[ \t]+)?to[ \t]+"
    r"|\b(?:logged|entered|taken|handled|closed|opened|updated|noted|created|resolved|owned"
    r"|approved|signed|reviewed|prepared)[ \t]+by[ \t]+"
    r"|\b(?:voicemail|voice[ \t]+mail|vm|call|calls|message|msg|note|notes|email|e-mail"
    r"|letter|text|visit|walk-in|feedback|complaint|request|inquiry|enquiry)[ \t]+from[ \t]+"
    r"|\b(?:cc|per|owner|assignee|agent|handler|caller)[ \t]*:?[ \t]+"
    r"|\b(?:spoke|speak|speaking|talked|talk|talking|met|meeting|meet|worked|working"
    r"|followed[ \t]+up|follow[ \t]+up|chatted|chat|connected|connect|consulted|partnered"
    r"|volunteered|checked[ \t]+in|check[ \t]+in)[ \t]+with[ \t]+"
    r"|\b(?:spoke|speak|talked|talk|reached[ \t]+out|reach[ \t]+out|wrote|write|writing|sent[ \t]+it"
    r"|introduced[ \t]+me|introduce[ \t]+me|referred[ \t]+me|refer[ \t]+me|listened|listen|thanks"
    r"|thank[ \t]+you|thanks[ \t]+so[ \t]+much|kudos|shout-?out|shoutout|props|congrats"
    r"|congratulations|welcome)[ \t]+to[ \t]+"
    r"|\b(?:met|meet|saw|invited|hired|nominated|recommend|recommended|introduced|called|phoned|emailed|e-mailed|email|e-mail|texted|messaged|asked|ask|told|tell"
    r"|thanked|thank|thanks|thx|contacted|contact|cc'd|cced|ping|pinged|helped[ \t]+by"
    r"|assisted[ \t]+by|hosted[ \t]+by|led[ \t]+by|presented[ \t]+by|taught[ \t]+by"
    r"|recommended[ \t]+by|referred[ \t]+by|invited[ \t]+by|sponsored[ \t]+by|according[ \t]+to"
    r"|heard[ \t]+from|kudos|congrats|congratulations|welcome|ask[ \t]+for|asked[ \t]+for"
    r"|mentor|coach|instructor|presenter|speaker|colleague|coworker|co-worker|manager"
    r"|supervisor|boss|husband|wife|son|daughter|partner|friend|kid|child|sister|brother|mom"
    r"|dad|mother|father|cousin|aunt|uncle|niece|nephew|fianc\u00e9e?|fiancee?|guardian"
    r"|grandson|granddaughter|grandma|grandpa|neighbou?r|roommate|classmate|teammate)[ \t]+"
    r"|\b(?:says|said|asks|asked|replied|exclaimed|shouted[ \t]+at|yelled[ \t]+at|starring"
    r"|featuring|feat\.|ft\.)[ \t]+"
    r"|\b(?:directed|sung|arranged|performed|produced|composed|founded|co-founded|painted"
    r"|designed|narrated|edited|illustrated|translated|coached|chaired|moderated|facilitated"
    r"|organi[sz]ed|run|taught|recorded|played)[ \t]+by[ \t]+)"
    r"|(?P<greet>(?:^|(?<=[\n.!?]))[ \t]*(?:dear|hi|hello|hey|hiya|greetings"
    r"|good[ \t]+(?:morning|afternoon|evening)|thanks|thank[ \t]+you|thanks[ \t]+again"
    r"|many[ \t]+thanks|regards|best[ \t]+regards|kind[ \t]+regards|warm[ \t]+regards"
    r"|warmest[ \t]+regards|best|best[ \t]+wishes|all[ \t]+the[ \t]+best|cheers|sincerely"
    r"|sincerely[ \t]+yours|yours[ \t]+truly|yours[ \t]+sincerely|respectfully|cordially"
    r"|take[ \t]+care|talk[ \t]+soon|thx|xoxo|-{1,2}|\u2014|\u2013)[ \t]*[,!:\-\u2013\u2014]?[ \t]*(?:\r?\n[ \t]*)?"
    r"|\bdear[ \t]+)"
    r"|(?P<prep>\b(?:with|by|from|and|to|for|cc|or|via|per|under|add|added|adding|remove"
    r"|removed|about|including|i'm|i\u2019m|i[ \t]+am|this[ \t]+is|it's|it[ \t]+is)[ \t]+)",
    re.I | re.M,
)
_LEVELS = {"title": TITLE, "intro": INTRO, "verb": VERB, "greet": GREET, "prep": PREP}
# Every lowercase word in `_PRE` (a superset of the words a context can start with): `_PRE` is
# tried only where such a word, a line start or a dash starts, instead of scanning every
# character of the text with a long alternation (the costliest step of the recognizer).
_PRE_WORDS = frozenset(re.findall(r"[a-z][a-z'\-]*", _PRE.pattern.lower())) | frozenset(
    [
        "neighbor",
        "neighbour",
        "neighbors",
        "fiancé",
        "fiancée",
        "organizer",
        "organiser",
        "organized",
        "organised",
        "shout-out",
        "shoutout",
        "i\u2019m",
        "feat",
        "ft",
    ]
)


def _start_words(pattern: re.Pattern[str]) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """Words a match of `pattern` can begin with, read from its parse tree: (whole words,
    stems a longer word may begin with). None when the tree cannot be read (an `re` internal
    changed): then every word is tried, as before.

    The walk follows the literal characters at the start of each branch, through groups,
    zero-width assertions and optional parts, until a character class or the end; a word
    followed by a known non-word character ("my name", "attn:") is whole, any other a stem."""
    try:
        from re import _constants as c  # type: ignore[attr-defined]
        from re import _parser as parser
    except ImportError:  # pragma: no cover - Python < 3.11
        return None
    unknown = "\x00"

    def wordish(ch: str) -> bool:
        return ch.isalpha() or ch in "'\u2019-"

    def seq(items: object) -> set[tuple[str, bool]]:
        results = {("", True)}  # (literal prefix, whether the sequence may go on after it)
        for op, av in items:  # type: ignore[attr-defined]
            new: set[tuple[str, bool]] = set()
            for prefix, more in results:
                if not more:
                    new.add((prefix, False))
                    continue
                new.update((prefix + q, q_more) for q, q_more in one(op, av))
            results = new
            if not any(more for _, more in results):
                break
        return results

    def one(op: object, av: object) -> set[tuple[str, bool]]:
        if op is c.LITERAL:
            return {(chr(av), True)}  # type: ignore[arg-type]
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return {("", True)}
        if op is c.SUBPATTERN:
            return seq(av[-1])  # type: ignore[index]
        if op is c.BRANCH:
            return set().union(*(seq(alt) for alt in av[1]))  # type: ignore[index]
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            low, _, sub = av  # type: ignore[misc]
            inner = {(q, False) for q, _ in seq(sub)}
            return inner | {("", True)} if low == 0 else inner
        if op is c.IN and all(o is c.LITERAL and not wordish(chr(a)) for o, a in av):  # type: ignore[attr-defined]
            return {(" ", False)}  # a class of non-word characters ("[ \t]")
        return {(unknown, False)}

    try:
        prefixes = seq(parser.parse(pattern.pattern, pattern.flags))
    except Exception:  # an internal API: fall back to trying every word
        return None
    whole: set[str] = set()
    stems: set[str] = set()
    for prefix, _ in prefixes:
        i = 0
        while i < len(prefix) and wordish(prefix[i]):
            i += 1
        word = prefix[:i].lower()
        if not word:
            continue
        # the forms a token takes: lowercased or normalised, with a possessive "'s" cut off
        forms = {word, normalise_token(word)}
        forms |= {f[:-2] for f in forms if len(f) > 3 and f[-2] in "'\u2019" and f[-1] == "s"}
        (whole if i < len(prefix) and prefix[i] != unknown else stems).update(f for f in forms if f)
    return frozenset(whole), tuple(sorted(stems))


def _words_to_try(words: frozenset[str]) -> frozenset[str]:
    """The words of `words` at which `_PRE` can match at all (`_start_words`)."""
    starts = _start_words(_PRE)
    if starts is None:
        return words
    whole, stems = starts
    return frozenset(w for w in words if w in whole or w.startswith(stems))


# `_PRE` is tried only at these (fewer than `_PRE_WORDS`: "the", "is", "a" start no context)
_PRE_TRY = _words_to_try(_PRE_WORDS)

_POST_VERB = re.compile(
    r"[ \t]*,?[ \t]*(?:said|says|told|tells|mentioned|mentions|asked|asks|replied|responded"
    r"|answered|wrote|writes|emailed|e-mailed|called|phoned|texted|explained|suggested|noted"
    r"|confirmed|agreed|promised|helped|recommended|reported|complained|informed|shared"
    r"|presented|spoke|talked|reached[ \t]+out|followed[ \t]+up|here|speaking|stopped"
    r"|dropped[ \t]+by|came[ \t]+by|came[ \t]+in|walked[ \t]+in|visited|left[ \t]+a"
    r"|requested|requests|wants|wanted|needs|needed|reports|raised|thinks|thought|felt"
    r"|feels|says|writes|messaged|commented|posted|inquired|enquired)\b",
    re.I,
)
_POST_WEAK = re.compile(
    r"[ \t]+(?:was|is|has|had|from|at|will|would|did|does|who|and[ \t]+I|and[ \t]+me"
    r"|herself|himself|themselves)\b",
    re.I,
)
_NAME_KINDS = FIRST | LAST
_CACHE_SIZE = 50_000
_SPEAKER = re.compile(r"[ \t]*:[ \t]*[\"\u201c\w]")
_SPEAKER_LINE = re.compile(r"(?m)^[ \t>]*[^\W\d_][\w'\-]{1,30}[ \t]*:[ \t]*[\"\u201c\w]")
# verbs after a name that only people do: an unlisted capitalised word before them is a name
_POST_HUMAN = re.compile(
    r"[ \t]*,?[ \t]*(?:said|says|shouted|yelled|whispered|told|tells|asked|asks|replied"
    r"|explained|smiled|laughed|cried|nodded|lives[ \t]+(?:at|in|on)|lived[ \t]+(?:at|in|on)"
    r"|had[ \t]+given|has[ \t]+given|spent[ \t]+a|began[ \t]+writing|thinks|feels|felt"
    r"|wants[ \t]+to|wanted[ \t]+to)\b",
    re.I,
)
# company words after a capitalised name: "Smith Ltd.", "Johnson Inc", "Davis Orchestra"
_ORG_AFTER = re.compile(
    r"[ \t]*,?[ \t]*(?:Inc|Incorporated|LLC|L\.L\.C|Ltd|Limited|Corp|Corporation|Co|Company|Group"
    r"|Technologies|Technology|Systems|Solutions|Partners|Associates|Holdings|Enterprises"
    r"|Industries|Orchestra|Band|Foundation|Institute|University|College|Bank|Capital|Consulting"
    r"|Labs|Media|Studios|Insurance|Hotel|Hospital|Law|Realty|Motors|Airlines|GmbH|AG|SA|PLC"
    r"|LLP|LP)\b"
)
# "Hijacinta Godina, the technical writer, said"
_APPOSITIVE = re.compile(
    r"[ \t]*,[ \t]+(?:the|a|an|our|my|his|her|their)[ \t]+[^,\n]{1,40},[ \t]*"
    r"(?:said|says|told|added|explained|wrote|noted|stated)\b",
    re.I,
)
_LIST_SEP = re.compile(r"[ \t]*(?:,[ \t]*(?:and[ \t]+|&[ \t]*)?|[ \t]+(?:and|&)[ \t]+)")


def _at_line_start(text: str, pos: int) -> bool:
    """Only blanks or quote markers ('>') between the last line break and `pos`."""
    line_start = text.rfind("\n", 0, pos) + 1
    return not text[line_start:pos].strip(" \t>")


def _contexts(text: str, toks: list[_Tok]) -> dict[int, int]:
    """{end of a context phrase: its level}: `_PRE` matched at each token that can start one
    (and at the blanks before it, for line-initial greetings) and at line starts (dashes)."""
    ctx: dict[int, int] = {}
    tried: set[int] = set()
    positions = [0]
    pos = text.find("\n")
    while pos >= 0:
        positions.append(pos + 1)
        pos = text.find("\n", pos + 1)
    for t in toks:
        if t.norm in _PRE_TRY:
            positions.append(t.start)
            if t.start and text[t.start - 1] in " \t":
                q = t.start - 1
                while q and text[q - 1] in " \t":
                    q -= 1
                # Only a greeting can start at blanks, and only after a line break (a line
                # start, already listed) or a sentence end: "Thanks.  Regards, Bo".
                if q and text[q - 1] in ".!?":
                    positions.append(q)
    for q in positions:
        if q in tried:
            continue
        tried.add(q)
        m = _PRE.match(text, q)
        if m is not None:
            level = _LEVELS[m.lastgroup]  # type: ignore[index]
            if level > ctx.get(m.end(), 0):
                ctx[m.end()] = level
    return ctx


def _namey(t: _Tok) -> bool:
    """A token that looks like a name by itself: listed, known, non-ASCII Latin letters
    ("Szöllösy") or a surname ending ("Musliyevich"); never an ordinary word."""
    if t.A or t.stop or len(t.norm) < 2:
        return False
    return bool(
        t.gf or t.gl or t.K & _NAME_KINDS or not t.norm.isascii() or t.norm.endswith(NAME_ENDINGS)
    )


class _Tok:
    __slots__ = ("A", "K", "cap", "end", "gf", "gl", "norm", "possessive", "start", "stop", "upper")


class PersonRecognizer(EntityRecognizer):
    """PERSON from known-people hashes and a gazetteer with context (see module docstring)."""

    def __init__(self, known_people: KnownPeople | None = None) -> None:
        self.known = known_people if known_people else None
        g = gazetteer()
        self._first, self._last = g.first, g.last
        self._ordinary = ordinary_words()
        self._stop = stop_words()
        self._cache: dict[str, tuple[bool, bool, bool, bool, int]] = {}
        self._raw_cache: dict[str, tuple] = {}  # raw token -> `_token_facts`
        self._kinds_cache: dict[str, int] = {}  # token pair / handle -> known kinds
        self._cache_digests = -1
        super().__init__(
            supported_entities=["PERSON"], name="PersonRecognizer", supported_language="en"
        )

    def load(self) -> None:
        pass

    def wants(self, f: Features) -> bool:
        return True  # names are also written in lowercase ("talked to sarah jones")

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        return [
            RecognizerResult(
                "PERSON",
                s,
                e,
                0.85,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for s, e, name in self.find(text)
        ]

    # ------------------------------------------------------------------------------------------
    def _facts(self, norm: str) -> tuple[bool, bool, bool, bool, int]:
        """(stop, ordinary, first name, surname, known kinds) of a normalised token, cached:
        tokens repeat across texts, and the keyed hash is the costly part. The cache lives in
        this process's memory only, like the text being redacted, and is bounded."""
        facts = self._cache.get(norm)
        if facts is None:
            stop = norm in self._stop or len(norm) < 2 or norm.startswith(("i'", "i\u2019"))
            known = self.known
            facts = (
                stop,
                stop or norm in self._ordinary,
                norm in self._first,
                norm in self._last,
                known.kinds(norm) if known is not None and norm not in STOP_TOKENS else 0,
            )
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[norm] = facts
        return facts

    def _kinds(self, value: str) -> int:
        """`KnownPeople.kinds` of a name pair or a handle, cached like `_facts`."""
        kinds = self._kinds_cache.get(value)
        if kinds is None:
            assert self.known is not None
            kinds = self.known.kinds(value)
            if len(self._kinds_cache) >= _CACHE_SIZE:
                self._kinds_cache.clear()
            self._kinds_cache[value] = kinds
        return kinds

    def _token_facts(self, raw: str) -> tuple:
        """(characters of a possessive "'s" to cut, possessive, norm, upper, cap, stop,
        ordinary, first name, surname, known kinds) of a raw token, cached like `_facts`."""
        cut = 2 if len(raw) > 3 and raw[-2] in "'\u2019" and raw[-1] in "sS" else 0
        word = raw[:-cut] if cut else raw
        norm = normalise_token(word) if not word.isascii() else word.lower()
        upper = len(word) > 1 and word.isupper()
        cap = word[0].isupper() and not upper
        facts = (cut, bool(cut), norm, upper, cap, *self._facts(norm))
        if len(self._raw_cache) >= _CACHE_SIZE:
            self._raw_cache.clear()
        self._raw_cache[raw] = facts
        return facts

    def _tokens(self, text: str) -> list[_Tok]:
        cache = self._raw_cache
        lowercase_text = text.islower()  # "talked to sarah jones": names written in lowercase
        toks = []
        for m in _TOKEN.finditer(text):
            start, end = m.span()
            if start and text[start - 1] in "@#":
                continue  # a handle (found on its own) or a hashtag
            raw = m.group()
            facts = cache.get(raw) or self._token_facts(raw)
            t = _Tok()
            t.start = start
            cut, t.possessive, t.norm, t.upper, t.cap, t.stop, t.A, t.gf, t.gl, t.K = facts
            t.end = end - cut
            if lowercase_text and not t.cap and not t.A:
                t.cap = bool(t.gf or t.gl or t.K & _NAME_KINDS or _namey(t))
            toks.append(t)
        return toks

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, recognizer name) of each person mention, in order."""
        out: list[tuple[int, int, str]] = []
        for m in _HANDLE.finditer(text):
            out.append((m.start(1), m.end(1), HANDLE_REC))
        if self.known is not None and len(self.known._digests) != self._cache_digests:
            self._cache.clear()  # people were added since: cached "unknown" facts are stale
            self._raw_cache.clear()
            self._kinds_cache.clear()
            self._cache_digests = len(self.known._digests)
        if self.known is not None:  # e-mail local parts written alone: "ask seun.adeyemi"
            for m in _HANDLE_CANDIDATE.finditer(text):
                if self._kinds(m.group().casefold()) & HANDLE:
                    out.append((m.start(), m.end(), KNOWN))
        toks = self._tokens(text)
        if not toks:
            return out
        ctx = _contexts(text, toks)
        known = self.known
        n = len(toks)
        i = 0
        while i < n:
            t = toks[i]
            # Fast path for most tokens (lowercase, not a known name part, no "my name is"
            # before): no rule below can start at them (`_pair`, `_unlisted_pair` and
            # `_single` all return at once for such a token).
            if not (t.cap or t.upper or t.K) and ctx.get(t.start, 0) != INTRO:
                i += 1
                continue
            if t.K & HANDLE and not t.A:
                out.append((t.start, t.end, KNOWN))
                i += 1
                continue
            # 1) full names: token pairs (optionally with a middle initial)
            j, source = self._pair(text, toks, i)
            if j:
                end = toks[j].end
                k = j + 1
                while k < n and k <= j + 1 and self._adjacent(text, toks[k - 1], toks[k]):
                    nxt = toks[k]
                    if (nxt.cap or nxt.upper) and (nxt.gl or nxt.K & LAST) and not nxt.A:
                        end = nxt.end
                        k += 1
                    else:
                        break
                if source == KNOWN or not _ORG_AFTER.match(text, end):
                    out.append((t.start, end, source))
                self._coordinate(text, toks, k - 1, ctx, GREET)
                i = k
                continue
            level = ctx.get(t.start, 0)
            j = self._unlisted_pair(text, toks, i, level)
            if j:
                if not _ORG_AFTER.match(text, toks[j].end):
                    out.append((t.start, toks[j].end, CONTEXT))
                self._coordinate(text, toks, j, ctx, VERB)
                i = j + 1
                continue
            # 2) single tokens in context
            source = self._single(text, toks, i, level)
            if source is None:
                i += 1
                continue
            end = t.end
            k = i + 1
            while (
                k < n
                and k <= i + 2
                and not toks[k - 1].possessive
                and self._adjacent(text, toks[k - 1], toks[k])
            ):
                nxt = toks[k]
                if not (nxt.cap or (nxt.upper and level >= GREET)) or nxt.stop:
                    break
                if (
                    ((nxt.gl or nxt.K & LAST) and not nxt.A)
                    or (level >= INTRO and nxt.norm not in GENERIC_ADDRESSEES)
                    or (level == GREET and self._run_terminated(text, toks, k))
                    or (
                        level == VERB
                        and k == i + 1
                        and not nxt.A
                        and nxt.norm not in GENERIC_ADDRESSEES
                    )
                ):
                    pass
                else:
                    break
                end = nxt.end
                k += 1
            if source == KNOWN or not _ORG_AFTER.match(text, end):
                out.append((t.start, end, source))
            self._coordinate(text, toks, k - 1, ctx, max(level, VERB))
            i = k
        del known
        if toks and (out or len(toks) > 2):
            out = self._lists(text, toks, out)
        if out:
            out = self._repeats(toks, out)
        return out

    # ------------------------------------------------------------------------------------------
    def _unlisted_pair(self, text: str, toks: list[_Tok], i: int, level: int) -> int:
        """Two capitalised tokens that are not ordinary words and that no list has, or only one:
        a name when a middle initial sits between them ("Csanad P Gere"), or when one of them
        looks like a name (`_namey`) and a context supports it: a word before ("by", "with",
        "to"), a verb only people do after ("... said"), a possessive, or the pair alone on its
        line (a signature or address block). Returns the index of the second token, or 0."""
        a = toks[i]
        if not a.cap or a.A or a.possessive or i + 1 >= len(toks) or not self._plain(a):
            return 0
        j = i + 1
        m = _INITIAL_GAP.match(text, a.end)
        initial = m is not None and i + 2 < len(toks) and m.end() == toks[i + 2].start
        if initial:
            j = i + 2
        else:
            gap = _PAIR_GAP.match(text, a.end)
            if gap is None or gap.end() != toks[j].start or gap.group() in "._":
                return 0
        b = toks[j]
        if not b.cap or b.A or not self._plain(b):
            return 0
        if initial:
            return j
        if _APPOSITIVE.match(text, b.end):
            return j  # "Hijacinta Godina, the technical writer, said": evidence enough
        if not (_namey(a) or _namey(b)):
            return 0
        if level >= PREP or b.possessive or _POST_HUMAN.match(text, b.end):
            return j
        if _at_line_start(text, a.start) and _TERMINATED.match(text, b.end):
            line_end = text.find("\n", b.end)
            if not text[b.end : line_end if line_end >= 0 else len(text)].strip(" \t.,"):
                return j
        return 0

    @staticmethod
    def _plain(t: _Tok) -> bool:
        return (
            not t.stop
            and len(t.norm) >= 2
            and t.norm not in NOT_SURNAMES
            and t.norm not in GENERIC_ADDRESSEES
        )

    def _lists(
        self, text: str, toks: list[_Tok], out: list[tuple[int, int, str]]
    ) -> list[tuple[int, int, str]]:
        """'founders: Kovacs, Becker and Vasquez', 'Marrero and Murphy were': a list of single
        capitalised, non-ordinary tokens in which most members are listed or already found
        names makes all of its members names."""
        if "and" not in text and "&" not in text:
            return out  # every list needs one (see `joined` below)
        found = {s for s, _, _ in out}
        covered = [(s, e) for s, e, _ in out]
        added: list[tuple[int, int, str]] = []
        n = len(toks)
        i = 0
        while i < n:
            members = [i]
            k = i
            while k + 1 < n and not toks[k].possessive:
                # a separator starts with "," or blanks then ",", "&", "and" (checked before
                # the regex: this runs at most tokens' ends)
                e = toks[k].end
                c = text[e : e + 1]
                if c != "," and (c not in " \t" or text[e + 1 : e + 2] not in ",&a \t"):
                    break
                m = _LIST_SEP.match(text, e)
                if m is None:
                    break
                nxt = next((x for x in (k + 1, k + 2) if x < n and toks[x].start == m.end()), 0)
                if not nxt:
                    break
                members.append(nxt)
                k = nxt
            i = k + 1
            joined = text[toks[members[0]].start : toks[members[-1]].end]
            if len(members) < 2 or ("and" not in joined and "&" not in joined):
                continue
            ok = [
                toks[x].cap
                and not toks[x].A
                and self._plain(toks[x])
                and not (
                    x + 1 < n
                    and self._adjacent(text, toks[x], toks[x + 1])
                    and toks[x + 1].cap
                    and x + 1 not in members
                )
                for x in members
            ]
            if not all(ok):
                continue
            named = sum(
                1
                for x in members
                if toks[x].start in found or toks[x].gf or toks[x].gl or toks[x].K & _NAME_KINDS
            )
            if named * 2 < len(members) or _ORG_AFTER.match(text, toks[members[-1]].end):
                continue
            for x in members:
                t = toks[x]
                if not any(s <= t.start < e for s, e in covered):
                    added.append((t.start, t.end, CONTEXT))
        if added:
            out = sorted(out + added)
        return out

    @staticmethod
    def _repeats(toks: list[_Tok], out: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """Other mentions of a name found in the same text: 'Faina D. Yefremova ... early
        Yefremova'. Only capitalised (or, in lowercase text, same-case) non-ordinary tokens of
        at least three letters."""
        names: set[str] = set()
        spans = [(s, e) for s, e, name in out if name != HANDLE_REC]
        if not spans:
            return out
        first, last = min(s for s, _ in spans), max(e for _, e in spans)
        for t in toks:  # in text order
            if t.start >= last:
                break
            if t.start < first or t.A or len(t.norm) < 3:
                continue
            for s, e in spans:
                if s <= t.start and t.end <= e:
                    names.add(t.norm)
                    break
        if not names:
            return out
        added = [
            (t.start, t.end, REPEAT)
            for t in toks
            if t.norm in names and t.cap and not any(s < t.end and t.start < e for s, e, _ in out)
        ]
        return sorted(out + added) if added else out

    # ------------------------------------------------------------------------------------------
    @staticmethod
    def _adjacent(text: str, a: _Tok, b: _Tok) -> bool:
        if a.possessive:
            return False
        m = _PAIR_GAP.match(text, a.end)
        return m is not None and m.end() == b.start

    def _pair(self, text: str, toks: list[_Tok], i: int) -> tuple[int, str]:
        a = toks[i]
        if a.possessive or i + 1 >= len(toks):
            return 0, ""
        if not (a.cap or a.upper or a.K & _NAME_KINDS):
            return 0, ""  # cheap exit before any regex: every rule below needs one of these
        j = i + 1
        m = _INITIAL_GAP.match(text, a.end)
        if m is not None and i + 2 < len(toks) and m.end() == toks[i + 2].start and a.cap:
            j = i + 2  # "Maria J. Gonzalez"
        else:
            gap = _PAIR_GAP.match(text, a.end)
            if gap is None or gap.end() != toks[j].start:
                return 0, ""
        b = toks[j]
        if (
            a.K & _NAME_KINDS
            and b.K & _NAME_KINDS
            and self.known is not None
            and self._kinds(f"{a.norm} {b.norm}") & FULL
        ):
            return j, KNOWN
        if not ((a.cap or a.upper) and (b.cap or b.upper)) or a.stop or b.stop:
            return 0, ""
        a_first = a.gf or a.K & FIRST
        b_last = b.gl or b.K & LAST
        if a.upper != b.upper:
            return 0, ""
        if a_first and b_last and not (a.A and b.A):
            return j, KNOWN if (a.K & FIRST and b.K & LAST) else CONTEXT
        # "Tom Whitfield": a first name that is not a word, then a capitalised word that looks
        # like a surname although no list has it (not a word, not association vocabulary).
        if a_first and not a.A and not a.upper and self._surname_like(b):
            return j, KNOWN if a.K & FIRST else CONTEXT
        # "Tomasz Ortiz": an unlisted capitalised token, then a listed surname.
        if b_last and not b.A and not a.upper and self._surname_like(a) and not a.gl:
            return j, CONTEXT
        return 0, ""

    @staticmethod
    def _surname_like(t: _Tok) -> bool:
        return (
            t.cap
            and not t.A
            and len(t.norm) >= 2
            and t.norm not in NOT_SURNAMES
            and t.norm not in GENERIC_ADDRESSEES
        )

    def _run_terminated(self, text: str, toks: list[_Tok], i: int) -> bool:
        """A run of up to 3 capitalised, non-ordinary tokens from i that ends the line/clause."""
        k = i
        while True:
            t = toks[k]
            if not t.cap or t.stop:
                return False
            if k > i and (t.norm in GENERIC_ADDRESSEES or (t.A and not (t.gl or t.K & LAST))):
                return False
            if _TERMINATED.match(text, t.end):
                return True
            if k - i >= 2 or k + 1 >= len(toks) or not self._adjacent(text, t, toks[k + 1]):
                return False
            k += 1

    def _single(self, text: str, toks: list[_Tok], i: int, level: int) -> str | None:
        t = toks[i]
        K = t.K & _NAME_KINDS
        source = KNOWN if K else CONTEXT
        if t.stop and not K:
            return None
        capish = t.cap or t.upper
        if (
            not capish
        ):  # lowercase: a known person after a context, a listed name after "my name is"
            if K and level >= PREP and not t.A:
                return KNOWN
            if level == INTRO and not t.A and len(t.norm) >= 3:
                return CONTEXT  # "my name is lena", "her maiden name is nyberg"
            return None
        if level == TITLE:
            return source
        if level == INTRO:
            return source if t.norm not in GENERIC_ADDRESSEES and not t.A else None
        if level == GREET:
            if t.norm in GENERIC_ADDRESSEES:
                return None
            if (K or t.gf or t.gl) and not t.A:
                return source
            if t.cap and (K or t.gf or t.gl or not t.A) and self._run_terminated(text, toks, i):
                return source  # "Dear Grant," / "Regards, Xiaoling Chen"
            return None
        if level == VERB:
            if (K or t.gf or (t.gl and not t.A)) and t.cap:
                return source
            # "congratulations to Tamika Johnson-Reyes": two capitalised, non-ordinary tokens
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if (
                t.cap
                and not t.A
                and nxt is not None
                and nxt.cap
                and not nxt.A
                and nxt.norm not in GENERIC_ADDRESSEES
                and self._adjacent(text, t, nxt)
            ):
                return source
            if t.cap and not t.A and self._plain(t) and len(t.norm) >= 3:
                return source  # "says Hartvigsson", "directed by Latourelle"
            return None
        if level == PREP and K and not t.A:
            return KNOWN
        if (  # "Mehrudin shouted at ...", "Verda lives on ...": verbs only people do
            t.cap
            and not t.A
            and not t.possessive
            and self._plain(t)
            and len(t.norm) >= 3
            and _POST_HUMAN.match(text, t.end)
        ):
            return source
        # no context before: look after
        if _POST_VERB.match(text, t.end) and not t.possessive:
            if (K or ((t.gf or t.gl) and not t.A)) and t.cap:
                return source
            return None
        if (  # a speaker label at the start of a line: "Amy: Remember me?"
            t.cap
            and not t.A
            and (t.gf or t.gl or K)
            and _SPEAKER.match(text, t.end)
            and _at_line_start(text, t.start)
        ):
            return source
        if (  # a dialogue: several speaker labels, "Ubul: What a wife.\nNicole: ..."
            t.cap
            and not t.A
            and self._plain(t)
            and _SPEAKER.match(text, t.end)
            and _at_line_start(text, t.start)
            and len(_SPEAKER_LINE.findall(text)) >= 2
        ):
            return source
        if K and not t.A and (t.possessive or _POST_WEAK.match(text, t.end)):
            return KNOWN
        if (  # "Becker was", "Murphy's": a listed surname or first name, not a word
            (t.gf or t.gl)
            and t.cap
            and not t.A
            and len(t.norm) >= 3
            and self._plain(t)
            and (t.possessive or _POST_WEAK.match(text, t.end))
        ):
            return CONTEXT
        if t.K & FIRST and t.cap and not t.A:  # a known person's first name, not a word
            return KNOWN
        if (  # a listed first name that is not an English word: "Jennifer is a very ..."
            t.gf and t.cap and not t.A and len(t.norm) >= 3 and t.norm not in NOT_SURNAMES
        ):
            return CONTEXT
        return None

    @staticmethod
    def _coordinate(
        text: str, toks: list[_Tok], last: int, ctx: dict[int, int], level: int
    ) -> None:
        """'Dana and Chris said' / 'Dear Maria, Chris': a name right after a found name and a
        conjunction gets the same context."""
        if last + 1 >= len(toks) or toks[last].possessive:
            return
        m = _COORD.match(text, toks[last].end)
        if m is not None:
            nxt = m.end()
            if any(t.start == nxt for t in toks[last + 1 : last + 3]):
                ctx[nxt] = max(ctx.get(nxt, 0), min(level, VERB))
