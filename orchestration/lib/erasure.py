"""Erase a member: remove their items, labels and decisions from every store the product keeps
(DESIGN.md rule 1, "erasing a member removes their items everywhere the product stores them").

    report = erase_member(paths, warehouse, "100042", dry_run=True)   # counts only
    report = erase_member(paths, warehouse, "100042")                 # removes
    print("\\n".join(report.lines()))

What is removed, per store (counts are reported, never text):

- warehouse.duckdb: every base table with an `item_id` column loses the member's items
  (raw.feedback_items, raw.review_decisions, enriched.item_labels, enriched.item_topics, the
  incremental intermediate model, the marts tables dbt built there), every base table with a
  `member_id` column loses the member's rows (raw.members, raw.member_history, ...), and
  raw.ingest_problems loses the rows that name one of their items (a duplicate id). Other
  ingest problems hold a file line or an iMIS row key, never a member id or text, and stay.
  One transaction.
- label_cache.sqlite: the entries of their items' inputs (text hash, or text hash + question),
  unless another item still has the same input (identical short texts share one entry).
- app_state.sqlite: review decisions on their items.
- writeback_ledger.sqlite: their ledger rows, history and snapshot items.
- alert_log.sqlite: alerts about one of their items (`urgent:<item_id>`).

Not touched: iMIS (the product never erases there: the member's record and items are iMIS's
own, and must be erased in iMIS too, or the next ingest reads them again), and the keyed hashes
of known names in `pii/` (not linked to a member id; they only help redact names in other
members' text). The published marts are rebuilt by the caller (dbt + publish) after this.

Order: the DuckDB file is opened read-write first and held to the end, so no pipeline step can
write meanwhile (DuckDB allows one writer; a held lock is an error naming it). The side stores
are cleaned before the warehouse, so an erasure that is interrupted is finished by running it
again: the warehouse still lists the member's items until the last step.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib.alerts.log import AlertLog
from orchestration.lib.app_state import AppState
from orchestration.lib.config import Paths
from orchestration.lib.enrichment.cache import LabelCache
from orchestration.lib.enrichment.schema import EnrichmentInput
from orchestration.lib.warehouse import Warehouse
from orchestration.lib.writeback.ledger import WritebackLedger

IMIS_NOTICE = (
    "iMIS is not touched by erase: the member's record and items are still in iMIS (or in "
    "the export file), and the next ingest (the live tail's lookback, or any backfill) reads "
    "them again. Erase them in iMIS too (or remove them from the export file) before the "
    "pipeline runs again."
)
_SQLITE_CHUNK = 500


@dataclass
class MemberItem:
    item_id: str
    source_name: str | None = None
    source_key: str | None = None
    text_hash: str | None = None
    cache_hash: str | None = None
    created_date: date | None = None


@dataclass
class ErasureReport:
    member_id: str
    dry_run: bool
    items: int = 0
    item_ids: list[str] = field(default_factory=list)  # for checks; never printed
    removed: dict[str, int] = field(default_factory=dict)  # store/table -> rows (to be) removed
    cache_entries_kept: int = 0  # inputs another item still uses
    # The first and last day the member's items were created on: the daily partitions whose
    # marts held them, so the only ones to rebuild. None when no store gave a day.
    days: tuple[date, date] | None = None

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        head = f"member {self.member_id}: {self.items} items; {verb}:"
        width = max([len(k) for k in self.removed] + [10])
        body = [f"  {store:<{width}}  {count:>7}" for store, count in self.removed.items()]
        if self.cache_entries_kept:
            body.append(
                f"  ({self.cache_entries_kept} label-cache entries kept: other items have the "
                "same text)"
            )
        tail = ["(dry run: nothing was changed)"] if self.dry_run else []
        if not self.total:
            tail.insert(0, "nothing of this member is stored (already erased, or an unknown id)")
        return [head, *body, *tail]


def erase_member(
    paths: Paths, warehouse: Warehouse, member_id: str, *, dry_run: bool = False
) -> ErasureReport:
    """Remove (or, with `dry_run`, count) everything of `member_id` in the product's stores.

    Raises `WarehouseBusy` when another process holds the DuckDB file.
    """
    member_id = member_id.strip()
    if not member_id:
        raise ValueError("a member id is required")
    if not paths.warehouse.exists():
        raise FileNotFoundError(
            f"no warehouse at {paths.warehouse}: set PULSE_HOME to the product's data folder"
        )
    report = ErasureReport(member_id, dry_run)
    # Read-write even for a dry run: it takes the lock the pipeline's writers take, so the
    # counts cannot change under us, and a held lock is reported the same way.
    with warehouse.connect() as con:
        items = _member_items(con, paths, member_id)
        report.items = len(items)
        item_ids = report.item_ids = sorted(items)
        dates = sorted({i.created_date for i in items.values() if i.created_date})
        report.days = (dates[0], dates[-1]) if dates else None
        hashes = {i.cache_hash for i in items.values() if i.cache_hash}
        still_used = _cache_hashes_used_elsewhere(con, items)
        report.cache_entries_kept = len(hashes & still_used)
        doomed_hashes = sorted(hashes - still_used)

        report.removed["label cache entries"] = _label_cache(paths, doomed_hashes, dry_run)
        report.removed["app state review decisions"] = _app_state(paths, item_ids, dry_run)
        report.removed["write-back ledger rows"] = _ledger(paths, member_id, item_ids, dry_run)
        report.removed["alert log entries"] = _alert_log(paths, item_ids, dry_run)
        for table, count in _warehouse(con, member_id, items, dry_run).items():
            report.removed[f"warehouse {table.replace(chr(34), '')}"] = count
    return report


# -- finding the member's items ---------------------------------------------------------------


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """The base tables (not views) of the connection's database: quoted name -> {column: type}."""
    rows = con.execute(
        """
        select c.table_schema, c.table_name, map(list(c.column_name), list(c.data_type))
        from information_schema.columns as c
        join information_schema.tables as t
          on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema
         and t.table_name = c.table_name
        where t.table_type = 'BASE TABLE' and t.table_catalog = current_database()
        group by 1, 2
        order by 1, 2
        """
    ).fetchall()
    return {f'"{schema}"."{name}"': dict(columns) for schema, name, columns in rows}


def _with(tables: dict[str, dict[str, str]], *columns: str) -> list[str]:
    return [name for name, cols in tables.items() if set(columns) <= set(cols)]


def _member_items(
    con: duckdb.DuckDBPyConnection, paths: Paths, member_id: str
) -> dict[str, MemberItem]:
    """Every item of the member the warehouse (any table) or the published marts still hold.

    raw.feedback_items is the source; other tables are searched too, so an erasure that was
    interrupted after the warehouse step still finds what the marts hold.
    """
    items: dict[str, MemberItem] = {}
    for item_id, source_name, source_key, text_hash, text, channel, question, day in con.execute(
        "select item_id, source_name, source_key, text_hash, redacted_text, channel, question, "
        "created_date from raw.feedback_items where member_id = ?",
        [member_id],
    ).fetchall():
        items[item_id] = MemberItem(
            item_id,
            source_name,
            source_key,
            text_hash,
            _cache_hash(item_id, text, text_hash, channel, question),
            day,
        )
    databases = [con]
    marts = duckdb.connect(str(paths.marts), read_only=True) if paths.marts.exists() else None
    if marts is not None:
        databases.append(marts)
    try:
        for db in databases:
            tables = _tables(db)
            for table in _with(tables, "item_id", "member_id"):
                day = "created_date" if "created_date" in tables[table] else "null::date"
                for item_id, created_date in db.execute(
                    f"select distinct item_id, {day} from {table} "
                    "where member_id = ? and item_id is not null",
                    [member_id],
                ).fetchall():
                    item = items.setdefault(item_id, MemberItem(item_id))
                    item.created_date = item.created_date or created_date
    finally:
        if marts is not None:
            marts.close()
    return items


def _cache_hash(
    item_id: str, text: str, text_hash: str, channel: str, question: str | None
) -> str | None:
    """The label-cache input hash of an item, exactly as the enrichment step computes it."""
    try:
        return EnrichmentInput(
            item_id=item_id, text=text, text_hash=text_hash, channel=channel, question=question
        ).cache_hash
    except ValueError:  # an item enrichment would not accept was never cached either
        return None


def _cache_hashes_used_elsewhere(
    con: duckdb.DuckDBPyConnection, items: dict[str, MemberItem]
) -> set[str]:
    """The cache hashes of the member's items that an item NOT being erased also has (their
    entries must stay). Items with the same cache hash have the same text hash."""
    text_hashes = sorted({i.text_hash for i in items.values() if i.text_hash})
    if not text_hashes:
        return set()
    mine = {i.cache_hash for i in items.values() if i.cache_hash}
    rows = con.execute(
        "select item_id, redacted_text, text_hash, channel, question from raw.feedback_items "
        "where list_contains(?::varchar[], text_hash)",
        [text_hashes],
    ).fetchall()
    used = set()
    for item_id, text, text_hash, channel, question in rows:
        if item_id not in items and (h := _cache_hash(item_id, text, text_hash, channel, question)):
            used.add(h)
    return used & mine


# -- the stores -------------------------------------------------------------------------------


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _SQLITE_CHUNK):
        yield values[start : start + _SQLITE_CHUNK]


def _marks(chunk: list[str]) -> str:
    return ", ".join("?" for _ in chunk)


def _label_cache(paths: Paths, input_hashes: list[str], dry_run: bool) -> int:
    if not input_hashes or not paths.label_cache.exists():
        return 0
    if not dry_run:
        return LabelCache(paths.label_cache).delete_inputs(input_hashes)
    with _sqlite(paths.label_cache) as con:
        return sum(
            con.execute(
                f"select count(*) from labels where input_hash in ({_marks(c)})", c
            ).fetchone()[0]
            for c in _chunks(input_hashes)
        )


def _app_state(paths: Paths, item_ids: list[str], dry_run: bool) -> int:
    if not item_ids or not paths.app_state.exists():
        return 0
    removed = 0
    with AppState(paths.app_state).connect() as con, con:
        for chunk in _chunks(item_ids):
            if dry_run:
                sql = f"select count(*) from review_decisions where item_id in ({_marks(chunk)})"
                removed += con.execute(sql, chunk).fetchone()[0]
            else:
                sql = f"delete from review_decisions where item_id in ({_marks(chunk)})"
                removed += con.execute(sql, chunk).rowcount
    return removed


def _ledger(paths: Paths, member_id: str, item_ids: list[str], dry_run: bool) -> int:
    """Ledger rows of the member or of one of their items (snapshot items and history go too;
    the count is of `writes` rows plus snapshot items)."""
    if not paths.writeback_ledger.exists():
        return 0
    ledger = WritebackLedger(paths.writeback_ledger)
    removed = 0
    with ledger.connect() as con, con:
        for chunk in _chunks(item_ids) if item_ids else [[]]:
            ids = [member_id, *chunk]
            writes = f"member_id = ? or item_id in ({_marks(chunk)})" if chunk else "member_id = ?"
            snapshot = writes
            if dry_run:
                removed += con.execute(
                    f"select count(*) from writes where {writes}", ids
                ).fetchone()[0]
                removed += con.execute(
                    f"select count(*) from snapshot where {snapshot}", ids
                ).fetchone()[0]
                continue
            con.execute(
                "delete from history where (kind, record_key) in "
                f"(select kind, record_key from writes where {writes})",
                ids,
            )
            removed += con.execute(f"delete from writes where {writes}", ids).rowcount
            removed += con.execute(f"delete from snapshot where {snapshot}", ids).rowcount
    if not dry_run:
        ledger.forget_members([member_id])  # the ledger's own erasure (a no-op by now)
    return removed


def _alert_log(paths: Paths, item_ids: list[str], dry_run: bool) -> int:
    if not item_ids or not paths.alert_log.exists():
        return 0
    removed = 0
    with AlertLog(paths.alert_log).connect() as con, con:
        for chunk in _chunks(item_ids):
            keys = [f"urgent:{i}" for i in chunk]
            where = (
                f"alert_key in ({_marks(keys)}) or (json_valid(fields) and "
                f"json_extract(fields, '$.item_id') in ({_marks(chunk)}))"
            )
            if dry_run:
                removed += con.execute(
                    f"select count(*) from alerts where {where}", [*keys, *chunk]
                ).fetchone()[0]
            else:
                removed += con.execute(
                    f"delete from alerts where {where}", [*keys, *chunk]
                ).rowcount
    return removed


def _warehouse(
    con: duckdb.DuckDBPyConnection,
    member_id: str,
    items: dict[str, MemberItem],
    dry_run: bool,
) -> dict[str, int]:
    """Delete the member's rows from every warehouse table, in one transaction."""
    counts: dict[str, int] = {}
    tables = _tables(con)
    item_tables = _with(tables, "item_id")
    member_tables = _with(tables, "member_id")
    keys = sorted(
        {(i.source_name, i.source_key) for i in items.values() if i.source_name and i.source_key}
    )
    con.register("_erase_items", pa.table({"item_id": sorted(items) or [""]}))
    con.register(
        "_erase_keys",
        pa.table(
            {
                "source_name": [k[0] for k in keys],
                "reason": [f"duplicate id {k[1]!r}; kept the first" for k in keys],
            },
            schema=pa.schema([("source_name", pa.string()), ("reason", pa.string())]),
        ),
    )
    statements: list[tuple[str, str, list]] = []
    for table in sorted(set(item_tables) | set(member_tables)):
        conditions, params = [], []
        if table in item_tables and items:
            conditions.append("item_id in (select item_id from _erase_items)")
        if table in member_tables:
            conditions.append("member_id = ?")
            params.append(member_id)
        if conditions:
            statements.append((table, " or ".join(conditions), params))
    statements.append(
        (
            '"raw"."ingest_problems"',
            "(source_name, reason) in (select source_name, reason from _erase_keys)",
            [],
        )
    )
    try:
        con.execute("begin transaction")
        try:
            for table, where, params in statements:
                n = con.execute(f"select count(*) from {table} where {where}", params).fetchall()
                counts[table] = int(n[0][0])
                if counts[table] and not dry_run:
                    con.execute(f"delete from {table} where {where}", params)
            con.execute("rollback" if dry_run else "commit")
        except Exception:
            con.execute("rollback")
            raise
    finally:
        con.unregister("_erase_items")
        con.unregister("_erase_keys")
    return counts


class _sqlite:
    """A short read-only look at a SQLite store (dry runs)."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        self.con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()


def id_pattern(ids: Iterable[str]) -> str:
    """A regular expression (RE2 and Python) matching any of `ids` as a whole token: not as
    part of a longer id ('notes:12' never matches 'notes:123')."""
    alternatives = "|".join(re.escape(i) for i in sorted(set(ids), key=len, reverse=True))
    return f"(^|[^0-9A-Za-z_])({alternatives})($|[^0-9A-Za-z_])"


def leftovers(paths: Paths, member_id: str, item_ids: Iterable[str]) -> dict[str, int]:
    """Rows of the published marts that still hold the member's id (in a `member_id` column)
    or one of `item_ids` (in any text or list column: ids, evidence lists, links), by table.
    Empty when nothing of them is left: the check after the rebuild."""
    ids = sorted(set(item_ids))
    found: dict[str, int] = {}
    if not paths.marts.exists():
        return found
    con = duckdb.connect(str(paths.marts), read_only=True)
    try:
        for table, columns in _tables(con).items():
            conditions, params = [], []
            if "member_id" in columns:
                conditions.append("cast(member_id as varchar) = ?")
                params.append(member_id)
            if ids:
                for column, kind in columns.items():
                    if kind.startswith(("VARCHAR", "JSON", "STRUCT", "MAP")) or kind.endswith("]"):
                        conditions.append(f'regexp_matches(cast("{column}" as varchar), ?)')
                        params.append(id_pattern(ids))
            if not conditions:
                continue
            n = con.execute(
                f"select count(*) from {table} where {' or '.join(conditions)}", params
            ).fetchall()[0][0]
            if n:
                found[table.replace('"', "")] = int(n)
    finally:
        con.close()
    return found
