"""The app's own state store (SQLite): review decisions and promoted topics, the only things
not re-derivable from iMIS.

The dashboard writes here (SQLite allows concurrent writers, unlike the DuckDB warehouse); a
pooled Dagster asset copies the decisions into `raw.review_decisions` for dbt. Every write is
one transaction in WAL mode with `synchronous=FULL`, so a crash mid-write loses nothing that
was committed before it. Decisions are append-only: a correction of a correction is a new row
that supersedes the earlier one, so who decided what, and when, is never overwritten.
Back up with `sqlite3 app_state.sqlite ".backup app_state.backup.sqlite"` (safe while in use).
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from orchestration.lib import sqlite_store

SCHEMA = """
create table if not exists review_decisions (
    decision_id      text primary key,
    item_id          text not null,
    decided_by       text not null,
    decided_at       text not null,            -- UTC, ISO 8601
    sentiment_label  text check (sentiment_label in ('positive', 'neutral', 'negative')),
    urgency_level    text check (urgency_level in ('low', 'medium', 'high')),
    topics_json      text,                     -- JSON list of topic keys, when corrected
    case_action      text check (case_action in ('approve', 'reject')),
    note             text                      -- redacted by the app before it is stored
);
create index if not exists review_decisions_item on review_decisions (item_id, decided_at);
-- New topics staff promoted from the model's proposals; the taxonomy file's topics plus these
-- are the taxonomy every labelling run uses (orchestration/defs/resources.py).
create table if not exists promoted_topics (
    topic_key      text primary key,
    label          text not null,
    description    text not null,
    examples_json  text not null,             -- JSON list of phrases (proposal names)
    proposals_json text not null,             -- JSON list of the 'proposed:<slug>' keys merged
    promoted_by    text not null,
    promoted_at    text not null              -- UTC, ISO 8601
);
"""

CaseAction = Literal["approve", "reject"]


@dataclass(frozen=True)
class Decision:
    item_id: str
    decided_by: str
    sentiment_label: str | None = None
    urgency_level: str | None = None
    topics: Sequence[str] | None = None
    case_action: CaseAction | None = None
    note: str | None = None
    decision_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    decided_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class AppState:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000):
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        with sqlite_store.connect(self.path, SCHEMA, busy_timeout_ms=self.busy_timeout_ms) as con:
            yield con

    def record(self, decision: Decision) -> str:
        """Store one decision atomically; returns its id."""
        with self.connect() as con, con:
            con.execute(
                "insert into review_decisions values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    decision.decision_id,
                    decision.item_id,
                    decision.decided_by,
                    decision.decided_at.astimezone(UTC).isoformat(),
                    decision.sentiment_label,
                    decision.urgency_level,
                    json.dumps(list(decision.topics)) if decision.topics is not None else None,
                    decision.case_action,
                    decision.note,
                ),
            )
        return decision.decision_id

    def decisions(self) -> list[dict]:
        """Every decision, oldest first, as rows for `raw.review_decisions`."""
        if not self.path.exists():
            return []
        with self.connect() as con:
            con.row_factory = sqlite3.Row
            rows = con.execute(
                "select * from review_decisions order by decided_at, decision_id"
            ).fetchall()
        return [
            {
                **dict(row),
                "decided_at": datetime.fromisoformat(row["decided_at"]).replace(tzinfo=None),
            }
            for row in rows
        ]

    def promote_topic(
        self,
        *,
        key: str,
        label: str,
        description: str,
        examples: Sequence[str],
        proposals: Sequence[str],
        promoted_by: str,
    ) -> None:
        """Add a topic to the taxonomy; a key that exists already is refused, never replaced."""
        with self.connect() as con, con:
            con.execute(
                "insert into promoted_topics values (?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    label,
                    description,
                    json.dumps(list(examples)),
                    json.dumps(list(proposals)),
                    promoted_by,
                    datetime.now(UTC).isoformat(),
                ),
            )

    def promoted_topics(self) -> list[dict]:
        """Promoted topics as taxonomy entries (key, label, description, examples), oldest first."""
        if not self.path.exists():
            return []
        with self.connect() as con:
            rows = con.execute(
                "select topic_key, label, description, examples_json from promoted_topics "
                "order by promoted_at, topic_key"
            ).fetchall()
        return [
            {"key": key, "label": label, "description": description, "examples": json.loads(ex)}
            for key, label, description, ex in rows
        ]

    def promoted_proposals(self) -> set[str]:
        """Every 'proposed:<slug>' key already folded into a promoted topic."""
        if not self.path.exists():
            return set()
        with self.connect() as con:
            rows = con.execute("select proposals_json from promoted_topics").fetchall()
        return {key for (keys,) in rows for key in json.loads(keys)}

    def latest_decisions(self, item_ids: Iterable[str] | None = None) -> dict[str, dict]:
        """The newest decision per item (all items, or only `item_ids`), keyed by item id.

        Older decisions stay in the table (append-only); this is the view the review queue
        shows until the next pipeline run brings them into the marts.
        """
        if not self.path.exists():
            return {}
        wanted = None if item_ids is None else list(dict.fromkeys(item_ids))
        if wanted is not None and not wanted:
            return {}
        with self.connect() as con:
            con.row_factory = sqlite3.Row
            sql = (
                "select * from review_decisions as d where not exists ("
                " select 1 from review_decisions as later where later.item_id = d.item_id"
                " and (later.decided_at, later.decision_id) > (d.decided_at, d.decision_id))"
            )
            if wanted is None:
                rows = con.execute(sql).fetchall()
            else:
                rows = []
                for start in range(0, len(wanted), 500):
                    chunk = wanted[start : start + 500]
                    rows += con.execute(
                        f"{sql} and d.item_id in ({', '.join('?' for _ in chunk)})", chunk
                    ).fetchall()
        latest = {}
        for row in rows:
            record = dict(row)
            record["decided_at"] = datetime.fromisoformat(row["decided_at"]).replace(tzinfo=None)
            record["topics"] = json.loads(row["topics_json"]) if row["topics_json"] else None
            latest[row["item_id"]] = record
        return latest
