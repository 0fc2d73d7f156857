"""The items write-back works from: one short read of the warehouse, kept as a snapshot.

Labels are the FINAL ones of `marts.fct_feedback` (a reviewer's correction wins over the
model); the detail the marts do not promise (summary, urgency reasons, every topic, staff
praise, lineage) comes from `enriched.item_labels` / `enriched.item_topics`. Text is the
redacted text: raw text never reaches the warehouse, so it cannot reach iMIS from here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

ITEMS_SQL = """
with topics as (
    select item_id, list(topic_key order by topic_key) as topic_keys
    from enriched.item_topics
    group by item_id
)
select
    f.item_id, f.source_name, f.source_key, f.channel, f.created_at, f.member_id,
    f.redacted_text, f.sentiment_label, f.sentiment_score, f.sentiment_confidence,
    f.urgency_level, f.primary_topic, f.enrichment_status,
    l.summary, l.urgency_reasons, l.praises_staff, l.model_id, l.prompt_version, l.enriched_at,
    t.topic_keys
from marts.fct_feedback as f
left join enriched.item_labels as l on l.item_id = f.item_id
left join topics as t on t.item_id = f.item_id
where f.created_at >= ?
order by f.created_at, f.item_id
"""


@dataclass(frozen=True)
class WritebackItem:
    """One labelled item as write-back sees it (redacted text only)."""

    item_id: str
    source_name: str
    source_key: str
    channel: str
    created_at: datetime
    member_id: str | None
    redacted_text: str
    sentiment_label: str | None
    sentiment_score: float | None
    sentiment_confidence: float | None
    urgency_level: str | None
    primary_topic: str | None
    enrichment_status: str
    summary: str | None = None
    urgency_reasons: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)  # primary topic first
    praises_staff: bool = False
    model_id: str | None = None
    prompt_version: str | None = None
    enriched_at: datetime | None = None  # UTC

    @property
    def is_negative_high_urgency(self) -> bool:
        return self.sentiment_label == "negative" and self.urgency_level == "high"

    def to_json(self) -> str:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["enriched_at"] = self.enriched_at.isoformat() if self.enriched_at else None
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WritebackItem:
        data = json.loads(text)
        data["created_at"] = datetime.fromisoformat(data["created_at"])
        if data.get("enriched_at"):
            data["enriched_at"] = datetime.fromisoformat(data["enriched_at"])
        return cls(**data)


def _json_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def item_from_row(row: dict[str, Any]) -> WritebackItem:
    primary = row.get("primary_topic")
    others = [t for t in (row.get("topic_keys") or []) if t and t != primary]
    return WritebackItem(
        item_id=str(row["item_id"]),
        source_name=str(row["source_name"]),
        source_key=str(row["source_key"]),
        channel=str(row["channel"]),
        created_at=row["created_at"],
        member_id=str(row["member_id"]) if row.get("member_id") not in (None, "") else None,
        redacted_text=row.get("redacted_text") or "",
        sentiment_label=row.get("sentiment_label"),
        sentiment_score=_float(row.get("sentiment_score")),
        sentiment_confidence=_float(row.get("sentiment_confidence")),
        urgency_level=row.get("urgency_level"),
        primary_topic=primary,
        enrichment_status=str(row.get("enrichment_status") or "pending"),
        summary=row.get("summary"),
        urgency_reasons=_json_list(row.get("urgency_reasons")),
        topics=([primary] if primary else []) + others,
        praises_staff=bool(row.get("praises_staff")),
        model_id=row.get("model_id"),
        prompt_version=row.get("prompt_version"),
        enriched_at=row.get("enriched_at"),
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def read_items(con: Any, start: date) -> list[WritebackItem]:
    """Items created on or after `start` from an open DuckDB connection (read-only is enough)."""
    cursor = con.execute(ITEMS_SQL, [datetime.combine(start, datetime.min.time())])
    names = [d[0] for d in cursor.description]
    return [item_from_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
