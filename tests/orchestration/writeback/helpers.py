"""Write-back test helpers: a live sandbox on 127.0.0.1, and small warehouses built by hand (the
stable fct_feedback columns plus enriched.item_labels / item_topics), never by dbt."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

from connectors.imis import ImisClient
from connectors.imis.entities import row_values
from orchestration.lib.warehouse import Warehouse
from orchestration.lib.writeback import WritebackConfig, WritebackItem

START = date(2026, 3, 1)
FIRST_MEMBER = 100001
SANDBOX = {"seed": 3, "members": 40, "items": 40, "end_date": date(2026, 3, 31), "days": 30}

FCT_FEEDBACK_DDL = """
create schema if not exists marts;
create table marts.fct_feedback (
    item_id varchar, source_name varchar, source_key varchar, channel varchar,
    created_at timestamp, created_date date, member_id varchar, redacted_text varchar,
    sentiment_label varchar, sentiment_score double, sentiment_confidence double,
    urgency_level varchar, primary_topic varchar, enrichment_status varchar
)
"""


def make_items(source: str, n: int = 12, *, start: date = START) -> list[WritebackItem]:
    """`n` eligible items (members 100001..), then one of each kind write-back must skip.

    Every third item is negative with high urgency; every fourth positive item praises staff.
    """
    items = []
    for i in range(n):
        kind = i % 3
        sentiment = ("negative", "positive", "neutral")[kind]
        items.append(
            WritebackItem(
                item_id=f"{source}:{1000 + i}",
                source_name=source,
                source_key=str(1000 + i),
                channel=("email", "survey", "case")[i % 3],
                created_at=datetime.combine(start, datetime.min.time()) + timedelta(hours=5 * i),
                member_id=str(FIRST_MEMBER + i % 9),  # several items per member
                redacted_text=f"Item {i}: the renewal invoice for <PERSON> was wrong again.",
                sentiment_label=sentiment,
                sentiment_score=(-0.7, 0.6, 0.0)[kind],
                sentiment_confidence=0.8 + (i % 2) * 0.15,
                urgency_level="high" if kind == 0 else "low",
                primary_topic="renewal_billing" if kind == 0 else "member_benefits",
                enrichment_status="ok",
                summary=f"Summary of item {i}",
                urgency_reasons=["billing error"] if kind == 0 else [],
                topics=["renewal_billing", "communications"] if kind == 0 else ["member_benefits"],
                praises_staff=kind == 1 and i % 4 == 1,
                model_id="builtin:v1",
                prompt_version="p3",
                enriched_at=datetime(2026, 4, 1, 12, 0),
            )
        )
    base = items[0]
    skipped = [
        base.__class__(**{**base.__dict__, "item_id": f"{source}:nomember", "source_key": "nomember", "member_id": None}),
        base.__class__(**{**base.__dict__, "item_id": f"{source}:failed", "source_key": "failed", "enrichment_status": "failed"}),
        base.__class__(**{**base.__dict__, "item_id": f"{source}:old", "source_key": "old", "created_at": datetime.combine(start - timedelta(days=1), datetime.min.time())}),
    ]  # fmt: skip
    return items + skipped


def eligible(items: list[WritebackItem]) -> list[WritebackItem]:
    return [
        i
        for i in items
        if i.member_id and i.enrichment_status == "ok" and i.created_at.date() >= START
    ]


def sentiment_rows(client: ImisClient, source: str) -> Counter:
    """(member, source key) -> number of Sentiment_Log rows for this test's source."""
    rows = [row_values(r) for r in client.iter_rows("Sentiment_Log", {"SourceEntity": source})]
    return Counter((str(r["ID"]), str(r["SourceKey"])) for r in rows)


def activities(client: ImisClient, activity_type: str, source: str) -> Counter:
    rows = [row_values(r) for r in client.iter_rows("Activity", {"ACTIVITY_TYPE": activity_type})]
    return Counter(
        str(r["OTHER_CODE"])
        for r in rows
        if str(r.get("OTHER_CODE") or "").startswith(f"pulse:{source}:")
    )


def config(**overrides) -> WritebackConfig:
    return WritebackConfig.model_validate(
        {"enabled": True, "start_date": START.isoformat(), "min_interval_s": 0, **overrides}
    )


def build_warehouse(path: Path, items: list[WritebackItem]) -> Path:
    """A warehouse with the real raw/enriched DDL and a hand-made marts.fct_feedback."""
    with Warehouse(path).connect() as con:
        con.execute(FCT_FEEDBACK_DDL)
        for i in items:
            con.execute(
                "insert into marts.fct_feedback values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [i.item_id, i.source_name, i.source_key, i.channel, i.created_at, i.created_at.date(),
                 i.member_id, i.redacted_text, i.sentiment_label, i.sentiment_score,
                 i.sentiment_confidence, i.urgency_level, i.primary_topic, i.enrichment_status],
            )  # fmt: skip
            if i.enrichment_status != "ok":
                continue
            con.execute(
                "insert into enriched.item_labels (item_id, created_date, text_hash, status, "
                "sentiment_label, sentiment_score, sentiment_confidence, urgency_level, "
                "urgency_reasons, primary_topic, summary, praises_staff, model_id, "
                "prompt_version, taxonomy_version, attempts, enriched_at) "
                "values (?, ?, 'h', 'ok', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 't1', 1, ?)",
                [i.item_id, i.created_at.date(), i.sentiment_label, i.sentiment_score,
                 i.sentiment_confidence, i.urgency_level, json.dumps(i.urgency_reasons),
                 i.primary_topic, i.summary, i.praises_staff, i.model_id, i.prompt_version,
                 i.enriched_at],
            )  # fmt: skip
            for topic in i.topics:
                con.execute(
                    "insert into enriched.item_topics values (?, ?, ?, null, ?, ?)",
                    [i.item_id, i.created_at.date(), topic, i.sentiment_label, "renewal"],
                )
    return path
