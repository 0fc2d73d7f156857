"""The product's small SQLite stores (app state, write-back ledger, alert log) open the same way.

WAL lets readers (the dashboard, sensors) work while one process writes; `synchronous=full`
makes a committed row survive a crash or power loss (these stores hold what cannot be
re-derived: reviewers' decisions, what was written to iMIS, what was alerted); the busy
timeout makes a second writer wait instead of failing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def connect(
    path: Path, schema: str, *, busy_timeout_ms: int = 10_000, rows: bool = False
) -> Iterator[sqlite3.Connection]:
    """A connection with the schema created if missing; `rows=True` returns sqlite3.Row rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=busy_timeout_ms / 1000)
    try:
        con.execute("pragma journal_mode=wal")
        con.execute("pragma synchronous=full")
        con.executescript(schema)
        if rows:
            con.row_factory = sqlite3.Row
        yield con
    finally:
        con.close()
