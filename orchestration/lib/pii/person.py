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
* a speaker label at the start of a line ("Amy: ...").

A name that is also an ordinary word needs a context ("I will attend in May", "Grant funding").
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult

from .known_people import FIRST, FULL, HANDLE, LAST, STOP_TOKENS, KnownPeople, normalise_token
from .lexicon import GENERIC_ADDRESSEES, NOT_SURNAMES, gazetteer, ordinary_words, stop_words
from .patterns import Features

KNOWN = "KnownPeopleRecognizer"
CONTEXT = "NameContextRecognizer"
HANDLE_REC = "HandleRecognizer"

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
    r"(?P<title>\b(?-i:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Rev|Fr|Sra?|Mme|Mlle|Herr|Frau|Coach"
    r"|Pastor|Rabbi|Judge|Senator|Rep|Capt|Sgt|Lt|Col|Gen|Hon)\.?[ \t]+)"
    r"|(?P<intro>\b(?:my[ \t]+name[ \t]+is|my[ \t]+name's|name[ \t]+is|call[ \t]+me|signed)[ \t]*:?[ \t]+"
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
    r"|supervisor|boss|husband|wife|son|daughter|partner|friend)[ \t]+)"
    r"|(?P<greet>(?:^|(?<=[\n.!?]))[ \t]*(?:dear|hi|hello|hey|hiya|greetings"
    r"|good[ \t]+(?:morning|afternoon|evening)|thanks|thank[ \t]+you|thanks[ \t]+again"
    r"|many[ \t]+thanks|regards|best[ \t]+regards|kind[ \t]+regards|warm[ \t]+regards"
    r"|warmest[ \t]+regards|best|best[ \t]+wishes|all[ \t]+the[ \t]+best|cheers|sincerely"
    r"|sincerely[ \t]+yours|yours[ \t]+truly|yours[ \t]+sincerely|respectfully|cordially"
    r"|take[ \t]+care|talk[ \t]+soon|thx|xoxo|-{1,2}|\u2014|\u2013)[ \t]*[,!:\-\u2013\u2014]?[ \t]*(?:\r?\n[ \t]*)?"
    r"|\bdear[ \t]+)"
    r"|(?P<prep>\b(?:with|by|from|and|to|for|cc|or|via|per)[ \t]+)",
    re.I | re.M,
)
_LEVELS = {"title": TITLE, "intro": INTRO, "verb": VERB, "greet": GREET, "prep": PREP}

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


def _at_line_start(text: str, pos: int) -> bool:
    """Only blanks or quote markers ('>') between the last line break and `pos`."""
    line_start = text.rfind("\n", 0, pos) + 1
    return not text[line_start:pos].strip(" \t>")


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
        self._cache_digests = -1
        super().__init__(
            supported_entities=["PERSON"], name="PersonRecognizer", supported_language="en"
        )

    def load(self) -> None:
        pass

    def wants(self, f: Features) -> bool:
        return f.has_upper or f.has_at or self.known is not None

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
            stop = norm in self._stop or len(norm) < 2
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

    def _tokens(self, text: str) -> list[_Tok]:
        facts = self._facts
        toks = []
        for m in _TOKEN.finditer(text):
            t = _Tok()
            raw = m.group()
            t.start, t.end = m.span()
            t.possessive = False
            if len(raw) > 3 and raw[-2] in "'\u2019" and raw[-1] in "sS":
                raw = raw[:-2]
                t.end -= 2
                t.possessive = True
            norm = normalise_token(raw) if not raw.isascii() else raw.lower()
            t.norm = norm
            t.upper = len(raw) > 1 and raw.isupper()
            t.cap = raw[0].isupper() and not t.upper
            t.stop, t.A, t.gf, t.gl, t.K = facts(norm)
            toks.append(t)
        return toks

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, recognizer name) of each person mention, in order."""
        out: list[tuple[int, int, str]] = []
        for m in _HANDLE.finditer(text):
            out.append((m.start(1), m.end(1), HANDLE_REC))
        if self.known is not None:  # e-mail local parts written alone: "ask seun.adeyemi"
            for m in _HANDLE_CANDIDATE.finditer(text):
                if self.known.kinds(m.group().casefold()) & HANDLE:
                    out.append((m.start(), m.end(), KNOWN))
        if self.known is not None and len(self.known._digests) != self._cache_digests:
            self._cache.clear()  # people were added since: cached "unknown" facts are stale
            self._cache_digests = len(self.known._digests)
        toks = self._tokens(text)
        if not toks:
            return out
        ctx: dict[int, int] = {}
        for m in _PRE.finditer(text):
            ctx[m.end()] = _LEVELS[m.lastgroup]  # type: ignore[index]
        known = self.known
        n = len(toks)
        i = 0
        while i < n:
            t = toks[i]
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
                out.append((t.start, end, source))
                self._coordinate(text, toks, k - 1, ctx, GREET)
                i = k
                continue
            # 2) single tokens in context
            level = ctx.get(t.start, 0)
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
            out.append((t.start, end, source))
            self._coordinate(text, toks, k - 1, ctx, max(level, VERB))
            i = k
        del known
        return out

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
            and self.known.kinds(f"{a.norm} {b.norm}") & FULL
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
            if level == INTRO and (t.gf or t.gl) and not t.A:
                return CONTEXT
            return None
        if level == TITLE:
            return source
        if level == INTRO:
            return source if t.norm not in GENERIC_ADDRESSEES else None
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
            return None
        if level == PREP:
            return KNOWN if K and not t.A else None
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
        if K and not t.A and (t.possessive or _POST_WEAK.match(text, t.end)):
            return KNOWN
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
