"""What the marts should hold, recomputed in plain Python from the raw tables alone.

Independent of the SQL under test: segments at the time of an item from raw.member_history,
final labels from the latest review decision per field, final topics from the corrected lists.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Item:
    item_id: str
    created_date: date
    created_at: datetime
    channel: str
    member_id: str | None
    status: str  # ok | failed | pending
    model_sentiment: str | None
    model_urgency: str | None
    model_primary_topic: str | None
    confidence: float | None
    sentiment: str | None  # final
    urgency: str | None  # final
    primary_topic: str | None  # final
    topics: tuple[str, ...]  # final topic keys
    tier: str  # at the time
    chapter: str  # at the time
    decided: bool


def segment_at(con: duckdb.DuckDBPyConnection):
    """A function (member_id, t) -> (tier, chapter) as they were at time t."""
    current = {
        member_id: {"tier": tier, "chapter": chapter}
        for member_id, tier, chapter in con.execute(
            "select member_id, tier, chapter from raw.members"
        ).fetchall()
    }
    changes: dict[tuple[str, str], list[tuple[datetime, str | None, str | None]]] = defaultdict(
        list
    )
    for member_id, changed_at, attribute, old, new in con.execute(
        "select member_id, changed_at, attribute, old_value, new_value from raw.member_history"
    ).fetchall():
        changes[(member_id, attribute)].append((changed_at, old, new))

    def value(member_id: str, attribute: str, t: datetime) -> str:
        history = sorted(changes.get((member_id, attribute), []))
        applied = [c for c in history if c[0] <= t]
        if applied:
            found = applied[-1][2]
        elif history:
            found = history[0][1]
        else:
            found = current[member_id][attribute]
        return found or UNKNOWN

    def at(member_id: str | None, t: datetime) -> tuple[str, str]:
        if member_id not in current:
            return UNKNOWN, UNKNOWN
        return value(member_id, "tier", t), value(member_id, "chapter", t)

    return at


def latest_decisions(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Per item, each field's value from the latest decision that set it."""
    latest: dict[str, dict[str, str]] = defaultdict(dict)
    for item_id, sentiment, urgency, topics_json, case_action in con.execute(
        "select item_id, sentiment_label, urgency_level, topics_json, case_action "
        "from raw.review_decisions order by decided_at, decision_id"
    ).fetchall():
        fields = {
            "sentiment": sentiment,
            "urgency": urgency,
            "topics": topics_json,
            "case_action": case_action,
        }
        latest[item_id].update({k: v for k, v in fields.items() if v is not None})
        latest[item_id].setdefault("decided", "yes")
    return latest


def items(con: duckdb.DuckDBPyConnection) -> dict[str, Item]:
    at = segment_at(con)
    decisions = latest_decisions(con)
    labels = {
        row[0]: row[1:]
        for row in con.execute(
            "select item_id, status, sentiment_label, urgency_level, primary_topic, "
            "sentiment_confidence from enriched.item_labels"
        ).fetchall()
    }
    model_topics: dict[str, list[str]] = defaultdict(list)
    for item_id, topic_key in con.execute(
        "select item_id, topic_key from enriched.item_topics"
    ).fetchall():
        model_topics[item_id].append(topic_key)
    known_topics = {
        row[0]
        for row in con.execute(
            "select topic_key from raw.taxonomy_topics union select topic_key from enriched.item_topics"
        ).fetchall()
    }
    result = {}
    for item_id, created_date, created_at, channel, member_id in con.execute(
        "select item_id, created_date, created_at, channel, member_id from raw.feedback_items"
    ).fetchall():
        status, sentiment, urgency, primary, confidence = labels.get(
            item_id, ("pending", None, None, None, None)
        )
        ok = status == "ok"
        model = (sentiment, urgency, primary, confidence) if ok else (None,) * 4
        decision = decisions.get(item_id, {})
        if "topics" in decision:
            kept = [k for k in json.loads(decision["topics"]) if k in known_topics]
            topics = tuple(kept)
            final_primary = model[2] if model[2] in kept else (kept[0] if kept else None)
        else:
            topics = tuple(model_topics[item_id]) if ok else ()
            final_primary = model[2]
        tier, chapter = at(member_id, created_at)
        result[item_id] = Item(
            item_id=item_id,
            created_date=created_date,
            created_at=created_at,
            channel=channel,
            member_id=member_id,
            status=status,
            model_sentiment=model[0],
            model_urgency=model[1],
            model_primary_topic=model[2],
            confidence=model[3],
            sentiment=decision.get("sentiment", model[0]),
            urgency=decision.get("urgency", model[1]),
            primary_topic=final_primary,
            topics=topics,
            tier=tier,
            chapter=chapter,
            decided=bool(decision),
        )
    return result


def sentiment_slices(by_id: dict[str, Item]) -> dict[tuple, dict[str, int]]:
    """agg_sentiment_daily recomputed: day x channel x primary topic x tier x chapter."""
    slices: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in by_id.values():
        key = (
            item.created_date,
            item.channel,
            item.primary_topic or "none",
            item.tier,
            item.chapter,
        )
        counts = slices[key]
        counts["item_count"] += 1
        if item.sentiment is not None:
            counts[f"{item.sentiment}_count"] += 1
        elif item.status in ("failed", "pending"):
            counts[f"{item.status}_count"] += 1
        counts["high_urgency_count"] += item.urgency == "high"
    return slices
