"""The question box's deterministic parser: a typed question -> a validated structured query.

No model and no SQL from user text: the (already redacted) question is matched against a
fixed vocabulary (topic labels and keys from dim_topics, period words, segment words) and
the result is a `StructuredQuestion` whose every field is one of a closed set of values. The
query layer runs a constant statement with these values as bound parameters.

Example: "Show me sentiment trends for 'annual conference' over the last quarter, segmented by
member tier" -> metric=sentiment, topics=(annual_conference,), period=90d, segment=member_tier,
grain=Week.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from app import data

MAX_QUESTION_CHARS = 500

# Ordered: the first pattern that matches wins.
_PERIOD_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\ball[- ]time\b|\bever\b|\beverything\b", "all"),
    (r"\b(last|past)\s+(12\s+months|year)\b|\bthis year\b", "365d"),
    (r"\b(last|past)\s+(quarter|3\s+months|three\s+months|90\s+days)\b", "90d"),
    (r"\b(last|past)\s+(month|30\s+days|4\s+weeks|four\s+weeks)\b", "30d"),
    (r"\b(last|past|this)\s+(week|7\s+days|seven\s+days)\b", "7d"),
)
_SEGMENT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\b(member\s+)?tiers?\b|\bmembership\s+(level|type)s?\b", "member_tier"),
    (r"\bchapters?\b", "member_chapter"),
    (r"\bchannels?\b|\bsources?\b", "channel"),
)
_SEGMENT_LABELS = {"member_tier": "member tier", "member_chapter": "chapter", "channel": "channel"}
_GRAIN_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\bdaily\b|\bper\s+day\b|\bby\s+day\b", "Day"),
    (r"\bmonthly\b|\bper\s+month\b|\bby\s+month\b", "Month"),
)
_VOLUME = r"\b(volume|how\s+many|number\s+of|count)\b"


@dataclass(frozen=True)
class StructuredQuestion:
    metric: str = "sentiment"  # sentiment | volume
    topics: tuple[str, ...] = ()  # topic keys from dim_topics; () = every topic
    period: str | None = None  # a data.PERIODS key; None = the sidebar's period
    segment: str | None = None  # member_tier | member_chapter | channel | None
    grain: str = "Week"  # a data.GRAINS key
    unmatched_quotes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:  # validated: nothing outside the closed sets gets through
        if self.metric not in ("sentiment", "volume"):
            raise ValueError(f"unknown metric {self.metric!r}")
        if self.period is not None and self.period not in data.PERIODS:
            raise ValueError(f"unknown period {self.period!r}")
        if self.segment not in (None, *_SEGMENT_LABELS):
            raise ValueError(f"unknown segment {self.segment!r}")
        if self.grain not in data.GRAINS:
            raise ValueError(f"unknown grain {self.grain!r}")

    def as_dict(self) -> dict:
        return asdict(self)

    def interpretation(self, topic_labels: dict[str, str]) -> str:
        what = "Net sentiment" if self.metric == "sentiment" else "Volume of mentions"
        topics = (
            ", ".join(f"'{topic_labels.get(t, t)}'" for t in self.topics)
            if self.topics
            else "every topic"
        )
        period = data.PERIODS[self.period][0].lower() if self.period else "the sidebar's period"
        segment = f", by {_SEGMENT_LABELS[self.segment]}" if self.segment else ""
        return f"{what} for {topics}, {period}, per {self.grain.lower()}{segment}."


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _match_topics(text: str, topic_labels: dict[str, str]) -> list[str]:
    norm = f" {_normal(text)} "
    found = []
    for key, label in topic_labels.items():
        names = {_normal(label), _normal(key.removeprefix("proposed:"))}
        if any(n and f" {n} " in norm for n in names):
            found.append(key)
    return found


def parse(question: str, topic_labels: dict[str, str]) -> StructuredQuestion:
    """Map a question to a StructuredQuestion; unknown words are ignored, never executed."""
    text = (question or "")[:MAX_QUESTION_CHARS]
    lowered = text.lower()
    quoted = re.findall(r"[\"'\u2018\u201c]([^\"'\u2019\u201d]{2,80})[\"'\u2019\u201d]", text)
    topics: list[str] = []
    unmatched = []
    for phrase in quoted:
        hits = _match_topics(phrase, topic_labels)
        if not hits:  # 'annual conference' also matches the label "Annual conference ..."
            wanted = _normal(phrase)
            hits = [k for k, lbl in topic_labels.items() if wanted and wanted in _normal(lbl)]
        topics += [h for h in hits if h not in topics]
        if not hits:
            unmatched.append(phrase)
    for key in _match_topics(text, topic_labels):
        if key not in topics:
            topics.append(key)
    period = next((p for pattern, p in _PERIOD_PATTERNS if re.search(pattern, lowered)), None)
    segment = None
    by = re.search(
        r"\b(by|per|across|segmented\s+by|split\s+by|broken\s+down\s+by)\s+(.*)", lowered
    )
    if by:
        segment = next(
            (s for pattern, s in _SEGMENT_PATTERNS if re.search(pattern, by.group(2))), None
        )
    grain = next((g for pattern, g in _GRAIN_PATTERNS if re.search(pattern, lowered)), "Week")
    metric = "volume" if re.search(_VOLUME, lowered) else "sentiment"
    return StructuredQuestion(
        metric=metric,
        topics=tuple(topics),
        period=period,
        segment=segment,
        grain=grain,
        unmatched_quotes=tuple(unmatched),
    )
