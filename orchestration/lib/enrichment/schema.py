"""The label contract: what any enricher (built-in model or LLM) must return for one item.

Model output is data to validate (DESIGN.md rule 4). `ItemLabels` checks the shape;
`ItemLabels.validate_against(text, taxonomy)` checks it against the item: every evidence quote
is an exact substring of the redacted text and every topic key is in the taxonomy. Every model
here hides input values in its validation errors (rule 1).

`warehouse_rows` turns one `LabelResult` into the rows of `enriched.item_labels` and
`enriched.item_topics` (orchestration/lib/warehouse.py), column for column.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

if TYPE_CHECKING:
    from orchestration.lib.taxonomy import Taxonomy

LABEL_SCHEMA_VERSION = "labels-v1"

EVIDENCE_MAX_CHARS = 400
SUMMARY_MAX_CHARS = 300
PROPOSED_MAX_CHARS = 60
MAX_TOPICS = 3

SentimentLabel = Literal["positive", "neutral", "negative"]
UrgencyLevel = Literal["low", "medium", "high"]
UrgencySignal = Literal[
    "churn_risk", "deadline", "billing_error", "locked_out", "privacy_or_legal", "safety"
]
Channel = Literal["email", "survey", "community", "case"]
Status = Literal["ok", "failed"]

URGENCY_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2}

_CONFIG = ConfigDict(hide_input_in_errors=True, extra="forbid", frozen=True)


class LabelValidationError(ValueError):
    """Labels that are well-formed but do not fit the item's text or the taxonomy."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("labels do not fit the item: " + "; ".join(problems))


def text_sha256(text: str) -> str:
    """The `text_hash` of a redacted text, as raw.feedback_items stores it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def slugify(value: str, *, max_len: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    return slug[:max_len].rstrip("_")


class Sentiment(BaseModel):
    model_config = _CONFIG

    label: SentimentLabel
    score: Annotated[float, Field(ge=-1.0, le=1.0)]
    confidence: Annotated[float, Field(ge=0.0, le=1.0)]

    @model_validator(mode="after")
    def _label_matches_sign(self) -> Sentiment:
        if self.label == "positive" and self.score < 0:
            raise ValueError("a positive sentiment cannot have a negative score")
        if self.label == "negative" and self.score > 0:
            raise ValueError("a negative sentiment cannot have a positive score")
        return self


class TopicLabel(BaseModel):
    """One topic of an item: a taxonomy `key`, or a `proposed` new topic (exactly one)."""

    model_config = _CONFIG

    key: str | None = None
    proposed: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=2, max_length=PROPOSED_MAX_CHARS),
        ]
        | None
    ) = None
    sentiment: SentimentLabel
    evidence: Annotated[str, StringConstraints(min_length=1, max_length=EVIDENCE_MAX_CHARS)]

    @model_validator(mode="after")
    def _exactly_one(self) -> TopicLabel:
        if (self.key is None) == (self.proposed is None):
            raise ValueError("a topic needs exactly one of `key` (taxonomy) or `proposed` (new)")
        if self.proposed is not None and not slugify(self.proposed):
            raise ValueError("a proposed topic needs letters or digits")
        return self

    @property
    def topic_key(self) -> str:
        """`key`, or `proposed:<slug>`: the value of enriched.item_topics.topic_key."""
        if self.key is not None:
            return self.key
        return f"proposed:{slugify(self.proposed or '')}"


class Urgency(BaseModel):
    model_config = _CONFIG

    level: UrgencyLevel
    reasons: Annotated[
        list[
            Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        ],
        Field(max_length=8),
    ] = []
    signals: list[UrgencySignal] = []

    @field_validator("signals")
    @classmethod
    def _dedupe(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class ItemLabels(BaseModel):
    model_config = _CONFIG

    sentiment: Sentiment
    topics: Annotated[list[TopicLabel], Field(max_length=MAX_TOPICS)] = []
    urgency: Urgency
    language: Annotated[
        str, StringConstraints(pattern=r"^(?:[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*|und)$")
    ]
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=SUMMARY_MAX_CHARS)]
    praises_staff: bool = False
    suggestion: bool = False
    inappropriate: bool = False

    @field_validator("summary")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("the summary must be one line")
        return value

    @model_validator(mode="after")
    def _unique_topics(self) -> ItemLabels:
        keys = [t.topic_key for t in self.topics]
        if len(set(keys)) != len(keys):
            raise ValueError("each topic may appear only once per item")
        return self

    def validate_against(self, text: str, taxonomy: Taxonomy | None) -> ItemLabels:
        """Check the labels against the item's redacted `text` and the `taxonomy`.

        Raises `LabelValidationError` listing every problem; returns self when all is well.
        Pass `taxonomy=None` to check only the evidence quotes.
        """
        problems: list[str] = []
        for i, topic in enumerate(self.topics, start=1):
            if topic.evidence not in text:
                problems.append(
                    f"topic {i} ({topic.topic_key}): evidence is not an exact substring of the "
                    f"text (evidence starts {topic.evidence[:40]!r})"
                )
            if taxonomy is None:
                continue
            if topic.key is not None and topic.key not in taxonomy:
                problems.append(
                    f"topic {i}: {topic.key!r} is not a key of taxonomy {taxonomy.version}"
                )
            if topic.proposed is not None and slugify(topic.proposed) in taxonomy:
                problems.append(
                    f"topic {i}: proposed topic {topic.proposed!r} is already taxonomy key "
                    f"{slugify(topic.proposed)!r}; use `key`"
                )
        if problems:
            raise LabelValidationError(problems)
        return self


class EnrichmentInput(BaseModel):
    """One item to label. `text` is REDACTED; nothing else about the member is passed."""

    model_config = _CONFIG

    item_id: Annotated[str, StringConstraints(min_length=1)]
    text: str
    text_hash: Annotated[str, StringConstraints(min_length=1)]
    channel: Channel
    question: str | None = None

    @classmethod
    def from_text(
        cls, item_id: str, text: str, channel: Channel, question: str | None = None
    ) -> EnrichmentInput:
        return cls(
            item_id=item_id,
            text=text,
            text_hash=text_sha256(text),
            channel=channel,
            question=question,
        )

    @property
    def cache_hash(self) -> str:
        """What identifies this input for the label cache: the text hash, and the survey
        question when there is one (the same answer to two questions may mean two things)."""
        if not self.question:
            return self.text_hash
        return hashlib.sha256(f"{self.text_hash}\x1f{self.question}".encode()).hexdigest()


class _ResultFields(BaseModel):
    model_config = _CONFIG

    status: Status
    labels: ItemLabels | None = None
    failure_reason: Annotated[str, StringConstraints(max_length=2000)] | None = None
    model_id: Annotated[str, StringConstraints(min_length=1)]
    prompt_version: Annotated[str, StringConstraints(min_length=1)]
    taxonomy_version: Annotated[str, StringConstraints(min_length=1)]
    attempts: Annotated[int, Field(ge=0)] = 1
    latency_ms: Annotated[float, Field(ge=0)] | None = None
    tokens_in: Annotated[int, Field(ge=0)] | None = None
    tokens_out: Annotated[int, Field(ge=0)] | None = None
    cost_usd: Annotated[float, Field(ge=0)] | None = None
    label_schema_version: str = LABEL_SCHEMA_VERSION

    @model_validator(mode="after")
    def _status_consistent(self):  # shared by both subclasses
        if self.status == "ok" and (self.labels is None or self.failure_reason is not None):
            raise ValueError("an ok result has labels and no failure_reason")
        if self.status == "failed" and (self.labels is not None or not self.failure_reason):
            raise ValueError("a failed result has a failure_reason and no labels")
        return self


class CachedLabel(_ResultFields):
    """A `LabelResult` without the item: what the label cache stores (no text, no item id)."""

    def for_item(self, item_id: str, text_hash: str) -> LabelResult:
        return LabelResult(item_id=item_id, text_hash=text_hash, **self.model_dump())


class LabelResult(_ResultFields):
    """The outcome for one item: labels (status ok) or the reason it failed (status failed)."""

    item_id: Annotated[str, StringConstraints(min_length=1)]
    text_hash: Annotated[str, StringConstraints(min_length=1)]

    @classmethod
    def failed(
        cls,
        item: EnrichmentInput,
        reason: str,
        *,
        model_id: str,
        prompt_version: str,
        taxonomy_version: str,
        attempts: int = 1,
        latency_ms: float | None = None,
    ) -> LabelResult:
        return cls(
            item_id=item.item_id,
            text_hash=item.text_hash,
            status="failed",
            failure_reason=(reason or "unknown failure")[:2000],
            model_id=model_id,
            prompt_version=prompt_version,
            taxonomy_version=taxonomy_version,
            attempts=attempts,
            latency_ms=latency_ms,
        )

    def to_cached(self) -> CachedLabel:
        return CachedLabel(**self.model_dump(exclude={"item_id", "text_hash"}))


ITEM_LABEL_COLUMNS: tuple[str, ...] = (
    "item_id", "created_date", "text_hash", "status", "failure_reason",
    "sentiment_label", "sentiment_score", "sentiment_confidence",
    "urgency_level", "urgency_reasons", "urgency_signals", "primary_topic",
    "language", "summary", "praises_staff", "suggestion", "inappropriate",
    "model_id", "prompt_version", "taxonomy_version", "attempts",
    "latency_ms", "tokens_in", "tokens_out", "cost_usd", "enriched_at",
)  # fmt: skip
ITEM_TOPIC_COLUMNS: tuple[str, ...] = (
    "item_id",
    "created_date",
    "topic_key",
    "proposed_label",
    "topic_sentiment",
    "evidence",
)


def warehouse_rows(
    result: LabelResult, created_date: date, enriched_at: datetime
) -> tuple[dict, list[dict]]:
    """One `enriched.item_labels` row and the `enriched.item_topics` rows for `result`.

    JSON columns are JSON text. `primary_topic` is the first topic's taxonomy key (None when
    there is no topic or the first one is a new proposal). A failed result has one labels
    row with its failure_reason and no topic rows: failures are recorded, never dropped.
    """
    labels = result.labels
    row: dict = {
        "item_id": result.item_id,
        "created_date": created_date,
        "text_hash": result.text_hash,
        "status": result.status,
        "failure_reason": result.failure_reason,
        "sentiment_label": labels.sentiment.label if labels else None,
        "sentiment_score": labels.sentiment.score if labels else None,
        "sentiment_confidence": labels.sentiment.confidence if labels else None,
        "urgency_level": labels.urgency.level if labels else None,
        "urgency_reasons": json.dumps(labels.urgency.reasons) if labels else None,
        "urgency_signals": json.dumps(labels.urgency.signals) if labels else None,
        "primary_topic": labels.topics[0].key if labels and labels.topics else None,
        "language": labels.language if labels else None,
        "summary": labels.summary if labels else None,
        "praises_staff": labels.praises_staff if labels else None,
        "suggestion": labels.suggestion if labels else None,
        "inappropriate": labels.inappropriate if labels else None,
        "model_id": result.model_id,
        "prompt_version": result.prompt_version,
        "taxonomy_version": result.taxonomy_version,
        "attempts": result.attempts,
        "latency_ms": result.latency_ms,
        "tokens_in": result.tokens_in,
        "tokens_out": result.tokens_out,
        "cost_usd": result.cost_usd,
        "enriched_at": enriched_at,
    }
    topics = [
        {
            "item_id": result.item_id,
            "created_date": created_date,
            "topic_key": topic.topic_key,
            "proposed_label": topic.proposed,
            "topic_sentiment": topic.sentiment,
            "evidence": topic.evidence,
        }
        for topic in (labels.topics if labels else [])
    ]
    return row, topics
