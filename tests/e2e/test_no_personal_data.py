"""No member's name, e-mail, phone number, member id or address reaches any store."""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from pathlib import Path

from tests.e2e.homes import duckdb_cells


def _is_identifier(column: str) -> bool:
    """Key columns hold ids by design (member_id is how segments join); free text is elsewhere."""
    return column.endswith(("_id", "_ids")) or column in {"source_key", "text_hash", "input_hash"}


def _all_text(db: Path) -> str:
    """Every value of every free-text column of every table in a DuckDB file, joined."""
    return "\n".join(
        value
        for column, value in duckdb_cells(db)
        if isinstance(value, str) and value and not _is_identifier(column.rsplit(".", 1)[1])
    )


def _sqlite_text(db: Path) -> str:
    with sqlite3.connect(db) as con:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        parts = []
        for table in tables:
            cursor = con.execute(f'select * from "{table}"')
            names = [d[0] for d in cursor.description]
            parts.extend(
                value
                for row in cursor
                for name, value in zip(names, row, strict=True)
                if isinstance(value, str) and not _is_identifier(name)
            )
        return "\n".join(parts)


def _log_text(folder: Path) -> str:
    """Every text file under `folder`: Dagster's event logs and compute logs (stdout/stderr of
    every step), dbt's logs and run results."""
    parts = []
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in {".log", ".out", ".err", ".json", ".txt", ""}:
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
        elif path.is_file() and path.suffix == ".db":  # Dagster's SQLite run and event storage
            parts.append(_sqlite_text(path))
    return "\n".join(parts)


def test_no_planted_personal_data_reaches_any_store(pipeline_run):
    """Names, e-mails, phone numbers, member ids and addresses planted by the sandbox appear in
    no text column of the warehouse or the marts, not in the label cache, and not in Dagster's
    run storage or logs."""
    home = pipeline_run["home"]
    stores = {
        "warehouse": _all_text(home / "warehouse.duckdb"),
        "marts": _all_text(home / "marts.duckdb"),
        "label_cache": _sqlite_text(home / "label_cache.sqlite"),
        "known_people": _sqlite_text(home / "pii" / "known_people.sqlite"),
        "dagster_logs": _log_text(home / "dagster"),
    }
    assert len(stores["dagster_logs"]) > 10_000  # the run's events and step logs are there
    kinds: dict[str, set[str]] = {}
    for p in pipeline_run["truth"]["pii"]:
        kinds.setdefault(p["value"], set()).add(p["kind"])
    # One alternation of every planted value, longest first, searched once per store.
    values = sorted(kinds, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w@.])(?:" + "|".join(map(re.escape, values)) + r")(?![\w@])")
    assert all(pattern.search(f"note: {v}.") for v in values[:: max(1, len(values) // 20)])
    leaks = Counter()
    examples = {}
    for store, text in stores.items():
        for value in {m.group(0) for m in pattern.finditer(text)}:
            for kind in kinds[value]:
                leaks[(store, kind)] += 1
                examples.setdefault((store, kind), value)
    assert not leaks, f"planted PII found: {dict(leaks)}; e.g. {examples}"
