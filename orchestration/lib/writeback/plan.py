"""Planning: turn items into the exact iMIS writes, and say why the others are skipped.

Pure functions of (items, configuration, decisions, clock): no I/O, so a dry run prints exactly
what a real run would send, and tests check plans without a server.

Record keys are the source record (`<source_name>:<source_key>`, the item id), so a retried or
repeated run addresses the same Sentiment_Log row, the same case, the same thank-you.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .config import WritebackConfig
from .items import WritebackItem

Kind = Literal["sentiment_log", "follow_up_case", "alert_group", "thank_you"]
KINDS: tuple[Kind, ...] = ("sentiment_log", "follow_up_case", "alert_group", "thank_you")


@dataclass(frozen=True)
class PlannedWrite:
    """One write, exactly as it will be sent: the target, the key that makes it idempotent,
    and the property values."""

    kind: Kind
    record_key: str
    item_id: str | None
    member_id: str
    target: str  # Sentiment_Log (the configured panel), Activity, GroupMember
    key_fields: dict[str, Any]
    properties: dict[str, Any]
    why: str | None = None  # e.g. "approved by ana", "auto: confidence 0.95 >= 0.90"
    activity_type: str | None = None
    group_name: str | None = None

    @property
    def content_hash(self) -> str:
        payload = json.dumps(
            [self.target, self.key_fields, self.properties], sort_keys=True, default=_jsonable
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def describe(self) -> dict[str, Any]:
        """JSON-ready, for dry runs, logs and metadata (redacted text only by construction)."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "record_key": self.record_key,
            "member_id": self.member_id,
            "target": self.target,
            "key": {k: _jsonable(v) for k, v in self.key_fields.items()},
            "properties": {k: _jsonable(v) for k, v in self.properties.items()},
        }
        for name in ("why", "activity_type", "group_name"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out


@dataclass(frozen=True)
class Skip:
    record_key: str
    item_id: str | None
    member_id: str | None
    reason: str


@dataclass
class Plan:
    kind: Kind
    writes: list[PlannedWrite] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _cut(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _decimal(value: float | None, places: int = 3) -> Decimal | None:
    return None if value is None else Decimal(str(round(float(value), places)))


def local_naive(utc_naive: datetime | None, timezone: str) -> datetime | None:
    """A naive UTC timestamp as iMIS wants dates: naive local time of the server (API.md 3.2)."""
    if utc_naive is None:
        return None
    aware = utc_naive.replace(tzinfo=UTC) if utc_naive.tzinfo is None else utc_naive
    return aware.astimezone(ZoneInfo(timezone)).replace(tzinfo=None, microsecond=0)


def _eligible(item: WritebackItem, start: date) -> str | None:
    """Why the item cannot be written back (None when it can)."""
    if item.created_at.date() < start:
        return f"created before the write-back start date {start.isoformat()}"
    if item.enrichment_status != "ok":
        return f"not labelled (enrichment {item.enrichment_status})"
    if not item.member_id:
        return "no member: the item is not linked to an iMIS contact"
    return None


# -- Sentiment_Log ---------------------------------------------------------------------------


def sentiment_values(item: WritebackItem, config: WritebackConfig, timezone: str) -> dict:
    limit = config.sentiment_log.max_text_chars
    return {
        "source_entity": item.source_name,
        "source_key": item.source_key,
        "channel": item.channel,
        "sentiment": item.sentiment_label,
        "score": _decimal(item.sentiment_score),
        "confidence": _decimal(item.sentiment_confidence),
        "topics": _cut(", ".join(item.topics), limit) if item.topics else None,
        "urgency": item.urgency_level,
        "summary": _cut(item.summary, limit),
        "model": item.model_id,
        "prompt_version": item.prompt_version,
        "processed_at": local_naive(item.enriched_at, timezone),
        "needs_follow_up": item.is_negative_high_urgency,
    }


def plan_sentiment_rows(
    items: Iterable[WritebackItem], config: WritebackConfig, *, start: date, timezone: str
) -> Plan:
    """One panel row per eligible item, keyed on (source entity, source key)."""
    cfg = config.sentiment_log
    mapping = cfg.mapped()
    key_names = ("source_entity", "source_key")
    plan = Plan("sentiment_log")
    for item in items:
        if reason := _eligible(item, start):
            plan.skips.append(Skip(item.item_id, item.item_id, item.member_id, reason))
            continue
        assert item.member_id is not None
        values = sentiment_values(item, config, timezone)
        plan.writes.append(
            PlannedWrite(
                kind="sentiment_log",
                record_key=item.item_id,
                item_id=item.item_id,
                member_id=item.member_id,
                target=cfg.panel_source,
                key_fields={mapping[k]: values[k] for k in key_names},
                properties={
                    prop: values[name] for name, prop in mapping.items() if name not in key_names
                },
            )
        )
    return plan


# -- follow-up cases -------------------------------------------------------------------------


def item_link(app_url: str | None, item: WritebackItem) -> str | None:
    if not app_url:
        return None
    return f"{app_url.rstrip('/')}/review?item={quote(item.item_id, safe='')}"


def case_note(item: WritebackItem, excerpt_chars: int, app_url: str | None, why: str | None) -> str:
    """The analysis a member-services colleague needs, with a REDACTED excerpt only."""
    score = "" if item.sentiment_score is None else f" (score {item.sentiment_score:+.2f}"
    if score and item.sentiment_confidence is not None:
        score += f", confidence {item.sentiment_confidence:.2f})"
    elif score:
        score += ")"
    lines = [
        "Member Pulse follow-up",
        f"Source: {item.source_name} {item.source_key} ({item.channel}), "
        f"{item.created_at:%Y-%m-%d %H:%M}",
        f"Sentiment: {item.sentiment_label}{score}",
        f"Urgency: {item.urgency_level}",
    ]
    if item.urgency_reasons:
        lines.append("Urgency reasons: " + "; ".join(item.urgency_reasons))
    if item.topics:
        lines.append("Topics: " + ", ".join(item.topics))
    if item.summary:
        lines.append(f"Summary: {item.summary}")
    if excerpt_chars and item.redacted_text:
        lines.append(f"Excerpt (redacted): {_cut(item.redacted_text, excerpt_chars)}")
    if why:
        lines.append(f"Created because: {why}")
    if link := item_link(app_url, item):
        lines.append(f"Evidence: {link}")
    return "\n".join(lines)


def _case_decision(item: WritebackItem, decision: Mapping[str, Any] | None, auto: float | None):
    """(create?, why) from the reviewer's latest case decision, or the automatic threshold."""
    action = (decision or {}).get("case_action")
    if action == "approve":
        return True, f"approved by {decision['decided_by']} at {decision['decided_at']}"  # type: ignore[index]
    if action == "reject":
        return False, f"rejected by {decision['decided_by']} in the review queue"  # type: ignore[index]
    if not item.is_negative_high_urgency:
        return False, "not negative with high urgency"
    confidence = item.sentiment_confidence
    if auto is not None and confidence is not None and confidence >= auto:
        return True, f"created automatically: confidence {confidence:.2f} >= {auto:.2f}"
    return False, "awaiting approval in the review queue"


def plan_follow_up_cases(
    items: Iterable[WritebackItem],
    config: WritebackConfig,
    decisions: Mapping[str, Mapping[str, Any]],
    *,
    start: date,
    now: datetime,
    app_url: str | None = None,
) -> Plan:
    """A follow-up Activity for each negative, high-urgency item a reviewer approved (or, when
    an administrator enabled it, above the confidence threshold). `decisions` maps item id to
    its latest decision that carries a case action; `now` is naive local time.
    An explicit approval creates the case even if a reviewer also corrected the labels."""
    cfg = config.follow_up_cases
    plan = Plan("follow_up_case")
    for item in items:
        decision = decisions.get(item.item_id)
        if not item.is_negative_high_urgency and not decision:
            continue  # not a case candidate: nothing to record
        if reason := _eligible(item, start):
            plan.skips.append(Skip(item.item_id, item.item_id, item.member_id, reason))
            continue
        create, why = _case_decision(item, decision, cfg.auto_create_min_confidence)
        if not create:
            plan.skips.append(Skip(item.item_id, item.item_id, item.member_id, why))
            continue
        assert item.member_id is not None
        topic = item.primary_topic or "feedback"
        properties: dict[str, Any] = {
            "TRANSACTION_DATE": now.replace(microsecond=0),
            "TICKLER_DATE": (now + timedelta(days=cfg.tickler_days)).date(),
            "DESCRIPTION": _cut(
                f"Member Pulse follow-up: {topic} ({item.channel}, negative, high urgency)", 255
            ),
            "NOTE": case_note(item, cfg.excerpt_chars, app_url, why),
        }
        if cfg.source_code:
            properties["SOURCE_CODE"] = cfg.source_code
        plan.writes.append(
            PlannedWrite(
                kind="follow_up_case",
                record_key=item.item_id,
                item_id=item.item_id,
                member_id=item.member_id,
                target="Activity",
                key_fields={cfg.key_field: f"pulse:{item.item_id}"},
                properties=properties,
                why=why,
                activity_type=cfg.activity_type,
            )
        )
    return plan


# -- alert group membership ------------------------------------------------------------------


def plan_alert_group(
    items: Iterable[WritebackItem], config: WritebackConfig, *, start: date
) -> Plan:
    """Each member with negative feedback on a configured topic joins the configured group
    once (one record per member, keyed group + member)."""
    cfg = config.alert_group
    wanted = set(cfg.topics)
    plan = Plan("alert_group")
    seen: set[str] = set()
    for item in items:
        if item.sentiment_label != "negative" or not wanted.intersection(item.topics):
            continue
        record_key = f"{cfg.group_name}:{item.member_id}"
        if reason := _eligible(item, start):
            if item.member_id is None:
                plan.skips.append(Skip(item.item_id, item.item_id, None, reason))
            continue
        assert item.member_id is not None
        if item.member_id in seen:
            continue
        seen.add(item.member_id)
        topics = sorted(wanted.intersection(item.topics))
        plan.writes.append(
            PlannedWrite(
                kind="alert_group",
                record_key=record_key,
                item_id=item.item_id,
                member_id=item.member_id,
                target="GroupMember",
                key_fields={"GroupName": cfg.group_name, "PartyId": item.member_id},
                properties={},
                why=f"negative feedback on {', '.join(topics)} ({item.item_id})",
                group_name=cfg.group_name,
            )
        )
    return plan


# -- thank-you -------------------------------------------------------------------------------


def plan_thank_yous(
    items: Iterable[WritebackItem],
    config: WritebackConfig,
    *,
    start: date,
    now: datetime,
    app_url: str | None = None,
) -> Plan:
    """A thank-you Activity for positive feedback that praises staff."""
    cfg = config.thank_you
    plan = Plan("thank_you")
    for item in items:
        if item.sentiment_label != "positive" or not item.praises_staff:
            continue
        if reason := _eligible(item, start):
            plan.skips.append(Skip(item.item_id, item.item_id, item.member_id, reason))
            continue
        assert item.member_id is not None
        note = [f"Member Pulse: positive feedback praising staff ({item.channel})"]
        if item.summary:
            note.append(f"Summary: {item.summary}")
        if item.redacted_text:
            note.append(f"Excerpt (redacted): {_cut(item.redacted_text, 400)}")
        if link := item_link(app_url, item):
            note.append(f"Evidence: {link}")
        properties: dict[str, Any] = {
            "TRANSACTION_DATE": now.replace(microsecond=0),
            "DESCRIPTION": _cut(f"Member Pulse: thank-you to pass on ({item.channel})", 255),
            "NOTE": "\n".join(note),
        }
        if cfg.source_code:
            properties["SOURCE_CODE"] = cfg.source_code
        plan.writes.append(
            PlannedWrite(
                kind="thank_you",
                record_key=item.item_id,
                item_id=item.item_id,
                member_id=item.member_id,
                target="Activity",
                key_fields={cfg.key_field: f"pulse:{item.item_id}"},
                properties=properties,
                activity_type=cfg.activity_type,
            )
        )
    return plan


def latest_case_decisions(decisions: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per item, the newest decision that approves or rejects a case (decisions oldest first).

    A later decision that only corrects labels does not undo an approval.
    """
    latest: dict[str, dict[str, Any]] = {}
    for decision in decisions:
        if decision.get("case_action") in ("approve", "reject"):
            latest[str(decision["item_id"])] = dict(decision)
    return latest
