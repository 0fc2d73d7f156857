"""The write-back ledger: what was sent to iMIS, when, and the key iMIS returned, keyed on the
source record. A SQLite file of its own (`PULSE_HOME/writeback_ledger.sqlite`), so iMIS writes
never hold the warehouse.

Every change is one transaction in WAL mode with `synchronous=FULL`. A write is recorded as
`pending` BEFORE the request and `written` after it, so a run killed between the two leaves a
`pending` row that the next run reconciles against iMIS (look-up by the contact, then write
only if absent) instead of writing blindly. The ledger makes a re-run cheap (an unchanged row
costs no request); iMIS itself stays the judge of what exists, so even a lost ledger cannot
produce a second row.

The ledger also keeps the snapshot of items the iMIS steps work from (redacted text only),
written by the short pooled read of the warehouse.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from orchestration.lib import sqlite_store

from .items import WritebackItem

Status = Literal["pending", "written", "skipped", "failed"]

SCHEMA = """
create table if not exists snapshot (
    item_id    text primary key,
    member_id  text,
    payload    text not null                -- WritebackItem as JSON (redacted text only)
);
create table if not exists snapshot_meta (
    key   text primary key,
    value text not null
);
create table if not exists writes (
    kind              text not null,        -- sentiment_log | follow_up_case | alert_group | thank_you
    record_key        text not null,        -- the source record ('<source>:<key>', or group:member)
    item_id           text,
    member_id         text,
    status            text not null check (status in ('pending', 'written', 'skipped', 'failed')),
    reason            text,                 -- why skipped or failed
    target            text,                 -- the iMIS entity (Sentiment_Log, Activity, GroupMember)
    imis_key          text,                 -- the identity iMIS returned ('100003|7', a SEQN...)
    content_hash      text,                 -- of the values last written
    attempts          integer not null default 0,
    first_written_at  text,                 -- UTC, ISO 8601
    last_written_at   text,
    updated_at        text not null,
    primary key (kind, record_key)
);
create index if not exists writes_member on writes (member_id);
create table if not exists history (        -- append-only: every create, update and failure
    kind        text not null,
    record_key  text not null,
    action      text not null,              -- created | updated | found | failed
    imis_key    text,
    detail      text,
    at          text not null
);
"""


@dataclass(frozen=True)
class LedgerEntry:
    kind: str
    record_key: str
    item_id: str | None
    member_id: str | None
    status: Status
    reason: str | None
    target: str | None
    imis_key: str | None
    content_hash: str | None
    attempts: int
    first_written_at: str | None
    last_written_at: str | None
    updated_at: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class WritebackLedger:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000):
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        with sqlite_store.connect(
            self.path, SCHEMA, busy_timeout_ms=self.busy_timeout_ms, rows=True
        ) as con:
            yield con

    # -- the snapshot of items -----------------------------------------------------------------

    def replace_snapshot(self, items: Iterable[WritebackItem], start: date) -> int:
        """Replace the whole snapshot in one transaction (readers see the old or the new one)."""
        rows = [(i.item_id, i.member_id, i.to_json()) for i in items]
        with self.connect() as con, con:
            con.execute("delete from snapshot")
            con.executemany("insert into snapshot values (?, ?, ?)", rows)
            con.executemany(
                "insert or replace into snapshot_meta values (?, ?)",
                [
                    ("start_date", start.isoformat()),
                    ("taken_at", _now()),
                    ("items", str(len(rows))),
                ],
            )
        return len(rows)

    def snapshot(self) -> list[WritebackItem]:
        if not self.path.exists():
            return []
        with self.connect() as con:
            rows = con.execute("select payload from snapshot order by item_id").fetchall()
        return [WritebackItem.from_json(r["payload"]) for r in rows]

    def snapshot_meta(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        with self.connect() as con:
            return {r["key"]: r["value"] for r in con.execute("select * from snapshot_meta")}

    # -- the ledger ----------------------------------------------------------------------------

    def entries(self, kind: str) -> dict[str, LedgerEntry]:
        if not self.path.exists():
            return {}
        with self.connect() as con:
            rows = con.execute("select * from writes where kind = ?", [kind]).fetchall()
        return {r["record_key"]: LedgerEntry(**dict(r)) for r in rows}

    def get(self, kind: str, record_key: str) -> LedgerEntry | None:
        with self.connect() as con:
            row = con.execute(
                "select * from writes where kind = ? and record_key = ?", [kind, record_key]
            ).fetchone()
        return LedgerEntry(**dict(row)) if row else None

    def mark_pending(
        self,
        kind: str,
        record_key: str,
        *,
        item_id: str | None,
        member_id: str | None,
        target: str,
    ) -> None:
        """Record the intent to write, committed before the request goes out."""
        now = _now()
        with self.connect() as con, con:
            con.execute(
                """
                insert into writes (kind, record_key, item_id, member_id, status, target,
                                    attempts, updated_at)
                values (?, ?, ?, ?, 'pending', ?, 1, ?)
                on conflict (kind, record_key) do update set
                    status = case when writes.status = 'written' then 'written' else 'pending' end,
                    item_id = excluded.item_id, member_id = excluded.member_id,
                    target = excluded.target, reason = null,
                    attempts = writes.attempts + 1, updated_at = excluded.updated_at
                """,
                [kind, record_key, item_id, member_id, target, now],
            )

    def mark_written(
        self,
        kind: str,
        record_key: str,
        *,
        imis_key: str,
        content_hash: str | None,
        action: Literal["created", "updated", "found"],
    ) -> None:
        now = _now()
        with self.connect() as con, con:
            con.execute(
                """
                update writes set status = 'written', reason = null, imis_key = ?,
                    content_hash = ?, first_written_at = coalesce(first_written_at, ?),
                    last_written_at = ?, updated_at = ?
                where kind = ? and record_key = ?
                """,
                [imis_key, content_hash, now, now, now, kind, record_key],
            )
            con.execute(
                "insert into history values (?, ?, ?, ?, null, ?)",
                [kind, record_key, action, imis_key, now],
            )

    def mark_failed(self, kind: str, record_key: str, reason: str) -> None:
        """A write given up on: kept as `failed` (or left `written` when an update failed),
        retried by the next run after a look-up."""
        now = _now()
        with self.connect() as con, con:
            con.execute(
                """
                update writes set reason = ?, updated_at = ?,
                    status = case when status = 'written' then 'written' else 'failed' end
                where kind = ? and record_key = ?
                """,
                [reason[:1000], now, kind, record_key],
            )
            con.execute(
                "insert into history values (?, ?, 'failed', null, ?, ?)",
                [kind, record_key, reason[:1000], now],
            )

    def mark_skipped(
        self,
        kind: str,
        records: Iterable[tuple[str, str | None, str | None, str]],
    ) -> int:
        """Record (record_key, item_id, member_id, reason) as skipped, in one transaction.

        A record already written stays written (its row exists in iMIS); the reason still says
        why this run left it alone.
        """
        now = _now()
        rows = [(kind, key, item, member, reason, now) for key, item, member, reason in records]
        with self.connect() as con, con:
            con.executemany(
                """
                insert into writes (kind, record_key, item_id, member_id, status, reason, updated_at)
                values (?, ?, ?, ?, 'skipped', ?, ?)
                on conflict (kind, record_key) do update set
                    reason = excluded.reason, updated_at = excluded.updated_at,
                    status = case when writes.status in ('written', 'pending', 'failed')
                                  then writes.status else 'skipped' end
                """,
                rows,
            )
        return len(rows)

    def counts(self, kind: str) -> dict[str, int]:
        if not self.path.exists():
            return {}
        with self.connect() as con:
            rows = con.execute(
                "select status, count(*) from writes where kind = ? group by 1", [kind]
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    def forget_members(self, member_ids: Iterable[str]) -> int:
        """Member erasure (DESIGN.md rule 1): drop their items and ledger rows here. Their rows
        in iMIS are iMIS's own records and are erased there."""
        ids = list(dict.fromkeys(member_ids))
        removed = 0
        with self.connect() as con, con:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                con.execute(
                    "delete from history where (kind, record_key) in (select kind, record_key"
                    f" from writes where member_id in ({marks}))",
                    chunk,
                )
                removed += con.execute(
                    f"delete from writes where member_id in ({marks})", chunk
                ).rowcount
                con.execute(f"delete from snapshot where member_id in ({marks})", chunk)
        return removed
