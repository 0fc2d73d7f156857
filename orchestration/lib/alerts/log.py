"""The alert log (SQLite, `PULSE_HOME/alert_log.sqlite`): every alert sent, once per key.

The key names the issue and its period, so a sensor evaluated again (or restarted) never
sends the same alert twice. An alert no sink accepted stays `failed` and is retried at the
next evaluation, a few times at most. Writes are single transactions in WAL mode.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from orchestration.lib import sqlite_store

from .detect import Alert

SCHEMA = """
create table if not exists alerts (
    alert_key      text primary key,      -- spike:<topic>:<first week flagged>, urgent:<item>
    kind           text not null,         -- spike | urgent_item | run_failure
    title          text not null,
    fields         text not null,         -- JSON: topic, segment, size, NSS change (no text)
    link           text,
    status         text not null check (status in ('sent', 'failed')),
    sinks_ok       text,                  -- comma-separated sink names that took it
    last_error     text,
    attempts       integer not null,
    first_seen_at  text not null,         -- UTC ISO 8601
    sent_at        text
);
"""
MAX_ATTEMPTS = 5


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AlertLog:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000):
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        with sqlite_store.connect(
            self.path, SCHEMA, busy_timeout_ms=self.busy_timeout_ms, rows=True
        ) as con:
            yield con

    def due(self, alerts: list[Alert]) -> list[Alert]:
        """The alerts never sent, and failed ones still worth a retry (deduplicated)."""
        if not alerts:
            return []
        with self.connect() as con:
            done = {
                r["alert_key"]
                for r in con.execute(
                    "select alert_key from alerts where status = 'sent' or attempts >= ?",
                    [MAX_ATTEMPTS],
                )
            }
        unique = {a.key: a for a in alerts if a.key not in done}
        return list(unique.values())

    def record(self, alert: Alert, sinks_ok: list[str], error: str | None) -> None:
        status = "sent" if sinks_ok else "failed"
        now = _now()
        with self.connect() as con, con:
            con.execute(
                """
                insert into alerts values (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
                on conflict (alert_key) do update set
                    status = excluded.status, sinks_ok = excluded.sinks_ok,
                    last_error = excluded.last_error, attempts = alerts.attempts + 1,
                    sent_at = excluded.sent_at
                """,
                [alert.key, alert.kind, alert.title, json.dumps(alert.fields, default=str),
                 alert.link, status, ",".join(sinks_ok) or None, error, now,
                 now if sinks_ok else None],
            )  # fmt: skip

    def rows(self) -> list[dict]:
        if not self.path.exists():
            return []
        with self.connect() as con:
            return [dict(r) for r in con.execute("select * from alerts order by first_seen_at")]
