"""A small, deterministic working warehouse for tests: the real DDL plus plausible rows.

`seed_warehouse(path)` creates `orchestration.lib.warehouse.SCHEMA_SQL` in a DuckDB file and
fills raw.* and enriched.* the way the ingest and enrichment assets would: members with history,
redacted items across the four channels and ~30 days, labels (mostly ok, some failed, some items
still pending without a label row) and topics whose evidence is an exact substring of the
item's redacted text. Same arguments, same rows: tests can compute expected figures by hand.

`seed_scenarios(path)` adds, on top of a seeded warehouse, the rows behaviour tests need to
see the marts react: a negative spike of one topic in one chapter in the last week, review
decisions (a correction of a correction, a failed item labelled by a reviewer, a topic
correction) and two members whose renewal window has closed (one lapsed, one renewed) with
feedback written before the due date. It returns what it planted.

`run_dbt(...)` runs the dbt CLI of this venv against a PULSE_HOME (in a subprocess, so dbt's
global state and environment never leak into the test process).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.lib.warehouse import SCHEMA_SQL

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

# The last day of fixture data; items spread over the 30 days ending here.
END_DATE = date(2026, 3, 1)
DAYS = 30
CHANNELS = ("email", "survey", "community", "case")
SOURCE_BY_CHANNEL = {
    "email": "imis_email",
    "survey": "imis_survey",
    "community": "imis_community",
    "case": "imis_case",
}
TIERS = ("Regular", "Student", "Fellow", "Corporate")
# iMIS's descriptions of the tier codes; "Corporate" has none (dim_segments shows the code).
TIER_LABELS = {"Regular": "Regular Member", "Student": "Student Member", "Fellow": "Fellow"}
MEMBER_COLUMNS = (
    "member_id, tier, chapter, status, join_date, paid_through, updated_at, synced_at, tier_label"
)
CHAPTERS = ("North", "South", "East", "West")
UNKNOWN_MEMBER_ID = "M9999"  # an id that raw.members does not hold (not synced, or erased)
MODEL_ID = "builtin:v1"
PROMPT_VERSION = "p3"
TAXONOMY_VERSION = "t1"


@dataclass(frozen=True)
class _Phrase:
    topic_key: str
    sentiment: str
    text: str


# Redacted sentences: placeholders such as <PERSON> stand where the redactor removed PII.
_PHRASES = (
    _Phrase("annual_conference", "positive", "The annual conference sessions were excellent"),
    _Phrase("annual_conference", "negative", "The conference hotel block sold out far too early"),
    _Phrase("annual_conference", "neutral", "I attended the conference in the spring"),
    _Phrase("membership_renewal", "negative", "My renewal invoice shows the wrong dues amount"),
    _Phrase("membership_renewal", "positive", "Renewing online took two minutes, thank you"),
    _Phrase("billing", "negative", "I was charged twice for the same payment"),
    _Phrase("billing", "neutral", "Please send a receipt for my last payment"),
    _Phrase("certification", "positive", "The certification course was well organised"),
    _Phrase("certification", "negative", "My certification credits are still missing"),
    _Phrase("advocacy", "positive", "Thanks for the advocacy work on the licensing bill"),
    _Phrase("website", "negative", "The member portal login keeps failing"),
    _Phrase("website", "neutral", "Where do I find the chapter calendar on the website"),
)
_TOPIC_KEYS = sorted({p.topic_key for p in _PHRASES})
_GREETINGS = ("Hello <PERSON>,", "Hi team,", "", "Dear <PERSON>,")
_CLOSINGS = ("", " Regards, <PERSON>.", " Call me at <PHONE_NUMBER>.", " Thanks.")
_PROPOSED = ("proposed:parking_at_venue", "Parking at the venue")


def seed_warehouse(path: Path, n_items: int = 60, seed: int = 1) -> dict[str, int]:
    """Create the warehouse DDL at `path` and insert deterministic rows; return row counts.

    Item i (0-based) is pending (no label row) when i % 15 == 4, failed when i % 10 == 7,
    labelled 'ok' otherwise. Every 13th item has no member, every 17th an unknown member id.
    """
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    synced_at = datetime(2026, 3, 2, 6, 0)

    members = []
    for m in range(1, 21):
        join = date(2010, 1, 15) + timedelta(days=rng.randrange(0, 5800))
        members.append(
            (
                f"M{m:04d}",
                TIERS[m % len(TIERS)],
                CHAPTERS[(m // 2) % len(CHAPTERS)],
                "lapsed" if m % 9 == 0 else "active",
                join,
                date(2026, 12, 31) if m % 9 else date(2025, 6, 30),
                datetime(2026, 1, 1) + timedelta(hours=m),
                synced_at,
            )
        )
    # One member with no attributes at all: dims must say 'Unknown', not null.
    members.append(("M0021", None, None, None, None, None, None, synced_at))

    history = [
        ("M0004", datetime(2024, 5, 1, 9, 0), "tier", "Student", "Regular"),
        ("M0006", datetime(2025, 2, 1, 9, 0), "chapter", "East", "South"),
        ("M0009", datetime(2025, 7, 1, 0, 0), "status", "active", "lapsed"),
        # Changes inside the item window: items before them keep the old segment.
        ("M0003", datetime(2026, 2, 15, 12, 0), "tier", "Regular", TIERS[3]),
        ("M0005", datetime(2026, 2, 20, 0, 0), "chapter", "North", CHAPTERS[2]),
    ]

    items, labels, topics = [], [], []
    for i in range(n_items):
        channel = CHANNELS[i % len(CHANNELS)]
        source_name = SOURCE_BY_CHANNEL[channel]
        source_key = f"{1000 + i}"
        item_id = f"{source_name}:{source_key}"
        day = END_DATE - timedelta(days=rng.randrange(DAYS))
        created_at = datetime.combine(day, datetime.min.time()) + timedelta(
            minutes=rng.randrange(8 * 60, 18 * 60)
        )
        if i % 13 == 0:
            member_id = None
        elif i % 17 == 0:
            member_id = UNKNOWN_MEMBER_ID
        else:
            member_id = f"M{rng.randrange(1, 22):04d}"

        # 1-2 distinct topics per item (item x topic is the key of enriched.item_topics).
        topic_keys = rng.sample(_TOPIC_KEYS, k=rng.choice((1, 1, 2)))
        chosen = [rng.choice([p for p in _PHRASES if p.topic_key == key]) for key in topic_keys]
        if i % 11 == 5:  # a new issue the taxonomy does not have yet
            chosen.append(_Phrase(_PROPOSED[0], "negative", "There was no parking near the venue"))
        text = " ".join(
            part
            for part in (
                rng.choice(_GREETINGS),
                ". ".join(p.text for p in chosen) + ".",
                rng.choice(_CLOSINGS).strip(),
            )
            if part
        )
        question = "What could we do better?" if channel == "survey" else None
        text_hash = hashlib.sha256(text.encode()).hexdigest()
        items.append(
            (
                item_id,
                source_name,
                source_key,
                channel,
                created_at,
                day,
                None,
                member_id,
                question,
                text,
                text_hash,
                len(text),
                len(text) + rng.randrange(0, 40),
                json.dumps({"PERSON": text.count("<PERSON>")} if "<PERSON>" in text else {}),
                datetime(2026, 3, 2, 5, 0),
            )
        )

        if i % 15 == 4:
            continue  # pending: the enrichment step has not labelled it yet
        enriched_at = datetime(2026, 3, 2, 5, 30)
        if i % 10 == 7:
            labels.append(
                _label_row(
                    item_id,
                    day,
                    text_hash,
                    enriched_at,
                    status="failed",
                    attempts=3,
                    failure_reason="evidence quote is not a substring of the text",
                )
            )
            continue
        sentiments = [p.sentiment for p in chosen]
        overall = (
            "negative"
            if "negative" in sentiments
            else "positive"
            if "positive" in sentiments
            else "neutral"
        )
        score = {"positive": 0.6, "neutral": 0.0, "negative": -0.7}[overall]
        high = overall == "negative" and (i % 3 == 0 or "charged twice" in text)
        urgency = "high" if high else ("medium" if overall == "negative" else "low")
        reasons = (
            ["billing error"]
            if "charged twice" in text
            else (["member at risk of lapsing"] if high else [])
        )
        labels.append(
            _label_row(
                item_id,
                day,
                text_hash,
                enriched_at,
                status="ok",
                attempts=1,
                sentiment_label=overall,
                sentiment_score=score,
                sentiment_confidence=round(0.55 + rng.random() * 0.4, 3),
                urgency_level=urgency,
                urgency_reasons=json.dumps(reasons),
                urgency_signals=json.dumps(
                    ["billing_error"] if reasons[:1] == ["billing error"] else []
                ),
                primary_topic=chosen[0].topic_key,
                summary=f"Member writes about {chosen[0].topic_key.replace('_', ' ')}.",
            )
        )
        for phrase in chosen:
            assert phrase.text in text
            topics.append(
                (
                    item_id,
                    day,
                    phrase.topic_key,
                    _PROPOSED[1] if phrase.topic_key == _PROPOSED[0] else None,
                    phrase.sentiment,
                    phrase.text,
                )
            )

    problems = [
        ("imis_survey", END_DATE, "SurveyResponse offset 200", "empty text", synced_at),
    ]

    con = duckdb.connect(str(path))
    try:
        con.execute(SCHEMA_SQL)
        con.executemany(
            f"insert into raw.members ({MEMBER_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, TIER_LABELS.get(row[1])) for row in members],
        )
        con.executemany(
            "insert into raw.member_history (member_id, changed_at, attribute, old_value, "
            "new_value) values (?, ?, ?, ?, ?)",
            history,
        )
        con.executemany(
            "insert into raw.taxonomy_topics (topic_key, label, description, examples, "
            "taxonomy_version) values (?, ?, ?, ?, ?)",
            [
                (
                    key,
                    key.replace("_", " ").capitalize(),
                    f"Feedback about {key.replace('_', ' ')}.",
                    json.dumps([p.text for p in _PHRASES if p.topic_key == key][:2]),
                    TAXONOMY_VERSION,
                )
                for key in _TOPIC_KEYS
            ],
        )
        con.executemany(
            "insert into raw.feedback_items values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        )
        con.executemany("insert into raw.ingest_problems values (?, ?, ?, ?, ?)", problems)
        columns = list(labels[0]) if labels else []
        if labels:
            con.executemany(
                f"insert into enriched.item_labels ({', '.join(columns)}) "
                f"values ({', '.join('?' for _ in columns)})",
                [tuple(row[c] for c in columns) for row in labels],
            )
        if topics:
            con.executemany("insert into enriched.item_topics values (?, ?, ?, ?, ?, ?)", topics)
    finally:
        con.close()
    return {
        "members": len(members),
        "feedback_items": len(items),
        "item_labels": len(labels),
        "item_topics": len(topics),
        "taxonomy_topics": len(_TOPIC_KEYS),
    }


# What seed_scenarios plants (tests compare the marts with these).
SPIKE_TOPIC = "website"
SPIKE_WEEK = date(2026, 2, 23)  # a Monday: the last week of fixture data
SPIKE_CHAPTER = "North"
SPIKE_ITEMS = 8
SPIKE_TEXT = "The member portal login keeps failing"
LAPSED_MEMBER_ID = "M0030"  # paid through 2026-01-30: its 30 grace days ended before the sync
RENEWED_MEMBER_ID = "M0031"  # paid through 2027-01-29: renewed at 2026-01-29


def seed_scenarios(path: Path) -> dict[str, object]:
    """Add the behaviour scenarios to a warehouse made by `seed_warehouse`; return what was added.

    Review decisions are placed on items chosen from the seeded rows by a fixed rule (the
    first matching item id), so the same seed gives the same scenario.
    """
    synced_at = datetime(2026, 3, 2, 6, 0)
    ingested_at = datetime(2026, 3, 2, 5, 0)
    enriched_at = datetime(2026, 3, 2, 5, 30)
    items, labels, topics = [], [], []

    def add_item(key, channel, created_at, member_id, phrases, *, urgency, confidence):
        source_name = SOURCE_BY_CHANNEL[channel]
        item_id = f"{source_name}:{key}"
        text = ". ".join(p.text for p in phrases) + "."
        day = created_at.date()
        items.append(
            {
                "item_id": item_id,
                "source_name": source_name,
                "source_key": key,
                "channel": channel,
                "created_at": created_at,
                "created_date": day,
                "member_id": member_id,
                "redacted_text": text,
                "text_hash": hashlib.sha256(text.encode()).hexdigest(),
                "text_length": len(text),
                "original_length": len(text),
                "pii_entity_counts": "{}",
                "ingested_at": ingested_at,
            }
        )
        sentiments = {p.sentiment for p in phrases}
        overall = next(s for s in ("negative", "positive", "neutral") if s in sentiments)
        labels.append(
            _label_row(
                item_id,
                day,
                items[-1]["text_hash"],
                enriched_at,
                status="ok",
                attempts=1,
                sentiment_label=overall,
                sentiment_score={"positive": 0.6, "neutral": 0.0, "negative": -0.7}[overall],
                sentiment_confidence=confidence,
                urgency_level=urgency,
                urgency_reasons="[]",
                urgency_signals="[]",
                primary_topic=phrases[0].topic_key,
                summary=f"Member writes about {phrases[0].topic_key.replace('_', ' ')}.",
            )
        )
        topics.extend((item_id, day, p.topic_key, None, p.sentiment, p.text) for p in phrases)
        return item_id

    # 1. A spike: negative 'website' items from two North members in the last week.
    portal = _Phrase(SPIKE_TOPIC, "negative", SPIKE_TEXT)
    spike_ids = [
        add_item(
            f"S{k:02d}",
            "community",
            datetime.combine(SPIKE_WEEK + timedelta(days=k % 7), datetime.min.time())
            + timedelta(hours=9 + k),
            ("M0001", "M0008")[k % 2],  # both in chapter North
            [portal],
            urgency="medium",
            confidence=0.85,
        )
        for k in range(SPIKE_ITEMS)
    ]

    # 2. Two members whose renewal window has closed, with feedback before the due date. The
    #    items fall in the first week the seeded items already cover (no new, emptier weeks).
    renewal_members = [
        (LAPSED_MEMBER_ID, "Fellow", "West", "lapsed", date(2019, 5, 1), date(2026, 1, 30)),
        (RENEWED_MEMBER_ID, "Regular", "South", "active", date(2018, 3, 1), date(2027, 1, 29)),
    ]
    hotel = next(p for p in _PHRASES if p.text.startswith("The conference hotel"))
    renewal_invoice = next(p for p in _PHRASES if p.text.startswith("My renewal invoice"))
    renewing_online = next(p for p in _PHRASES if p.text.startswith("Renewing online"))
    renewal_ids = [
        add_item(
            "R01",
            "email",
            datetime(2026, 1, 26, 10, 0),
            LAPSED_MEMBER_ID,
            [renewal_invoice],
            urgency="medium",
            confidence=0.9,
        ),
        add_item(
            "R02",
            "case",
            datetime(2026, 1, 28, 11, 0),
            LAPSED_MEMBER_ID,
            [hotel],
            urgency="medium",
            confidence=0.9,
        ),
        add_item(
            "R03",
            "survey",
            datetime(2026, 1, 29, 12, 0),
            LAPSED_MEMBER_ID,
            [renewing_online],
            urgency="low",
            confidence=0.9,
        ),
        add_item(
            "R04",
            "email",
            datetime(2026, 1, 27, 9, 0),
            RENEWED_MEMBER_ID,
            [renewing_online],
            urgency="low",
            confidence=0.9,
        ),
    ]

    con = duckdb.connect(str(path))
    try:
        con.executemany(
            f"insert into raw.members ({MEMBER_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, datetime(2026, 1, 2), synced_at, None) for row in renewal_members],
        )
        _insert_dicts(con, "raw.feedback_items", items)
        _insert_dicts(con, "enriched.item_labels", labels)
        con.executemany("insert into enriched.item_topics values (?, ?, ?, ?, ?, ?)", topics)

        # 3. Review decisions on seeded items (append-only, like the app's store).
        def first(sql: str) -> str:
            return con.execute(sql + " order by item_id limit 1").fetchall()[0][0]

        corrected_twice = first(
            "select item_id from enriched.item_labels "
            "where status = 'ok' and sentiment_label = 'negative' and item_id not like '%:S%'"
        )
        failed_reviewed = first("select item_id from enriched.item_labels where status = 'failed'")
        topics_corrected = first(
            "select item_id from enriched.item_labels "
            "where status = 'ok' and primary_topic <> 'certification' and item_id not like '%:R%'"
        )
        decisions = [
            (
                "d1",
                corrected_twice,
                "ana",
                datetime(2026, 3, 2, 9, 0),
                "neutral",
                None,
                None,
                None,
                None,
            ),
            (
                "d2",
                corrected_twice,
                "ben",
                datetime(2026, 3, 2, 10, 0),
                "positive",
                "low",
                None,
                None,
                "Reviewed again.",
            ),
            (
                "d3",
                failed_reviewed,
                "ana",
                datetime(2026, 3, 2, 9, 30),
                "negative",
                "high",
                None,
                "approve",
                None,
            ),
            (
                "d4",
                topics_corrected,
                "ben",
                datetime(2026, 3, 2, 11, 0),
                None,
                None,
                '["certification"]',
                None,
                None,
            ),
        ]
        con.executemany(
            "insert into raw.review_decisions (decision_id, item_id, decided_by, decided_at, "
            "sentiment_label, urgency_level, topics_json, case_action, note) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            decisions,
        )
    finally:
        con.close()
    return {
        "spike_item_ids": spike_ids,
        "renewal_item_ids": renewal_ids,
        "corrected_twice": corrected_twice,
        "failed_reviewed": failed_reviewed,
        "topics_corrected": topics_corrected,
        "items_added": len(items),
    }


def _insert_dicts(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    columns = list(rows[0])
    con.executemany(
        f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
        [tuple(row[c] for c in columns) for row in rows],
    )


def _label_row(item_id, day, text_hash, enriched_at, *, status, attempts, **fields) -> dict:
    row = {
        "item_id": item_id,
        "created_date": day,
        "text_hash": text_hash,
        "status": status,
        "failure_reason": None,
        "sentiment_label": None,
        "sentiment_score": None,
        "sentiment_confidence": None,
        "urgency_level": None,
        "urgency_reasons": None,
        "urgency_signals": None,
        "primary_topic": None,
        "language": "en",
        "summary": None,
        "praises_staff": False,
        "suggestion": False,
        "inappropriate": False,
        "model_id": MODEL_ID,
        "prompt_version": PROMPT_VERSION,
        "taxonomy_version": TAXONOMY_VERSION,
        "attempts": attempts,
        "latency_ms": 12.5,
        "tokens_in": 0,
        "tokens_out": 0,
        "cost_usd": 0.0,
        "enriched_at": enriched_at,
    }
    row.update(fields)
    return row


def run_dbt(home: Path, *args: str, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """Run `dbt <args>` on the project against `home` (PULSE_HOME); target and logs go to `home`.

    Returns the completed process (check `.returncode`; stdout holds dbt's log).
    """
    dbt = Path(sys.executable).with_name("dbt")
    env = {
        **os.environ,
        "PULSE_HOME": str(home),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "PULSE_DUCKDB_MEMORY_LIMIT": "1GB",
    }
    command = [
        str(dbt),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(home / "dbt_target"),
        "--log-path",
        str(home / "dbt_logs"),
    ]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
