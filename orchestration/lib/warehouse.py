"""The working warehouse (DuckDB): its tables, and the few ways the pipeline writes them.

Every write replaces exactly a window (delete + insert in one transaction) or merges on a key,
so a re-run or a backfill never duplicates or loses a row (DESIGN.md rule 2). DuckDB allows a
single read-write process; writers run in the Dagster `duckdb` pool, and `connect` retries a
short while when another process holds the file, instead of failing at the first attempt.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA_SQL = """
create schema if not exists raw;
create schema if not exists enriched;

-- One row per item of member text, REDACTED in flight: raw text never lands here.
create table if not exists raw.feedback_items (
    item_id            varchar primary key,   -- '<source_name>:<source_key>'
    source_name        varchar not null,
    source_key         varchar not null,
    channel            varchar not null,      -- email | survey | community | case
    created_at         timestamp not null,    -- naive local time of the source (IMIS_TIMEZONE)
    created_date       date not null,         -- the daily partition the item belongs to
    updated_at         timestamp,
    member_id          varchar,
    question           varchar,               -- redacted survey question, when there is one
    redacted_text      varchar not null,
    text_hash          varchar not null,      -- sha256 of redacted_text: the label-cache key
    text_length        integer not null,
    original_length    integer,               -- before HTML / quoted-history stripping
    pii_entity_counts  json not null,         -- {"PERSON": 2, ...}: counts only, never values
    ingested_at        timestamp not null     -- UTC
);

-- Rows a source could not turn into an item (bad line, empty text): reported, never silent.
create table if not exists raw.ingest_problems (
    source_name   varchar not null,
    created_date  date,                       -- the row's creation day, else the window's first
    location      varchar not null,           -- file:line, or entity + offset
    reason        varchar not null,
    recorded_at   timestamp not null
);

-- Members: ids and segment attributes only. Names and contact details are never stored.
create table if not exists raw.members (
    member_id     varchar primary key,
    tier          varchar,                    -- member type code (CustomerTypeCode)
    chapter       varchar,
    status        varchar,
    join_date     date,
    paid_through  date,
    updated_at    timestamp,
    synced_at     timestamp not null
);

-- Added after the first release: warehouses created before it gain the column here.
alter table raw.members add column if not exists tier_label varchar;  -- CustomerTypeDescription

-- Dated changes of tier, chapter and status, for segmenting the past as it was.
create table if not exists raw.member_history (
    member_id   varchar not null,
    changed_at  timestamp not null,
    attribute   varchar not null,             -- tier | chapter | status
    old_value   varchar,
    new_value   varchar,
    primary key (member_id, changed_at, attribute)
);

-- Review decisions copied from the app's state store (append-only; the latest per item wins).
create table if not exists raw.review_decisions (
    decision_id      varchar primary key,
    item_id          varchar not null,
    decided_by       varchar not null,
    decided_at       timestamp not null,      -- UTC
    sentiment_label  varchar,
    urgency_level    varchar,
    topics_json      varchar,                 -- JSON list of topic keys, when corrected
    case_action      varchar,                 -- approve | reject (follow-up case)
    note             varchar
);

-- The association's taxonomy as staff edited it, with its version.
create table if not exists raw.taxonomy_topics (
    topic_key         varchar primary key,
    label             varchar not null,
    description       varchar not null,
    examples          json not null,
    taxonomy_version  varchar not null
);

-- One row per item: the validated labels, or the failure that sends the item to review.
create table if not exists enriched.item_labels (
    item_id               varchar primary key,
    created_date          date not null,
    text_hash             varchar not null,
    status                varchar not null,   -- ok | failed
    failure_reason        varchar,
    sentiment_label       varchar,            -- positive | neutral | negative
    sentiment_score       double,             -- -1 .. 1
    sentiment_confidence  double,             -- 0 .. 1
    urgency_level         varchar,            -- low | medium | high
    urgency_reasons       json,               -- list of short reasons
    urgency_signals       json,               -- churn_risk, deadline, billing_error, ...
    primary_topic         varchar,
    language              varchar,
    summary               varchar,
    praises_staff         boolean,
    suggestion            boolean,
    inappropriate         boolean,
    model_id              varchar not null,
    prompt_version        varchar not null,
    taxonomy_version      varchar not null,
    attempts              integer not null,
    latency_ms            double,
    tokens_in             integer,
    tokens_out            integer,
    cost_usd              double,
    enriched_at           timestamp not null
);

-- One row per item x topic (0-3 per item), each with an evidence quote from the redacted text.
create table if not exists enriched.item_topics (
    item_id          varchar not null,
    created_date     date not null,
    topic_key        varchar not null,        -- taxonomy key, or 'proposed:<slug>'
    proposed_label   varchar,                 -- set when the topic is a new proposal
    topic_sentiment  varchar not null,
    evidence         varchar not null,        -- exact substring of the item's redacted_text
    primary key (item_id, topic_key)
);
"""


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> object:
    """The first value of a query, with the result fully consumed.

    DuckDB 2 refuses further work on a connection (register, for one) while a result is only
    partly fetched, so single values are read with fetchall, never fetchone.
    """
    rows = con.execute(sql, list(params)).fetchall()
    return rows[0][0] if rows else None


class WarehouseBusy(RuntimeError):
    """Another process held the DuckDB file for longer than we were willing to wait."""


@dataclass(frozen=True)
class Warehouse:
    path: Path
    memory_limit: str = "2GB"
    threads: int = 2
    lock_wait_s: float = 30.0

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection; waits up to `lock_wait_s` for another process's lock."""
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        config = {"memory_limit": self.memory_limit, "threads": self.threads}
        deadline = time.monotonic() + self.lock_wait_s
        delay = 0.1
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only, config=config)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise WarehouseBusy(
                        f"{self.path} is held by another process (DuckDB allows one writer); "
                        f"gave up after {self.lock_wait_s:.0f} s: {exc}"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        try:
            if not read_only:
                con.execute(SCHEMA_SQL)
            yield con
        finally:
            con.close()


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: pa.Table | Sequence[dict] | Path,
    *,
    delete_where: str,
    params: Sequence[object] = (),
) -> int:
    """Delete the window `delete_where` selects and insert `rows`, in one transaction.

    `rows` is an Arrow table, a list of dicts, or a Parquet file (a spool written in chunks).
    `delete_where` may refer to the incoming rows as `_replace_batch`, which makes this a merge
    on a key: `member_id in (select member_id from _replace_batch)`.
    `table` and `delete_where` come from code, never from user input; values go in `params`.
    Table columns missing from `rows` take their defaults. Returns the rows inserted.
    """
    if isinstance(rows, Path):
        batch = con.read_parquet(str(rows))
    else:
        batch = con.from_arrow(rows if isinstance(rows, pa.Table) else _to_arrow(con, table, rows))
    columns = ", ".join(batch.columns)
    con.register("_replace_batch", batch)
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {table} where {delete_where}", list(params))
        inserted = scalar(
            con, f"insert into {table} ({columns}) select {columns} from _replace_batch"
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_replace_batch")
    return int(inserted)


SPOOL_BATCH_ROWS = 10_000  # rows a step holds in memory while it works through a window


def spool_query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object], path: Path
) -> int:
    """Write a query's result to a Parquet file batch by batch. Returns the rows written.

    A step that works through a large window reads it from the file in chunks (`spooled_rows`),
    so its memory does not grow with the window and, when it only reads, it can let the
    warehouse go before its slow work starts.
    """
    reader = con.sql(sql, params=list(params)).to_arrow_reader(SPOOL_BATCH_ROWS)
    written = 0
    with pq.ParquetWriter(path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            written += batch.num_rows
    return written


def spooled_rows(path: Path) -> Iterator[list[dict]]:
    """The rows of a spool file as lists of dicts, SPOOL_BATCH_ROWS at a time."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=SPOOL_BATCH_ROWS):
        yield batch.to_pylist()


@contextmanager
def table_spool(
    con: duckdb.DuckDBPyConnection, table: str, path: Path
) -> Iterator[Callable[[Sequence[dict]], None]]:
    """Collect rows for `table` in a Parquet file with the table's own column types; yields an
    `append(rows)` function. Hand `path` to `replace_rows` once the file is closed."""
    schema = _table_schema(con, table)
    with pq.ParquetWriter(path, schema) as writer:

        def append(rows: Sequence[dict]) -> None:
            if rows:
                writer.write_table(pa.Table.from_pylist(list(rows), schema=schema))

        yield append


def _table_schema(con: duckdb.DuckDBPyConnection, table: str) -> pa.Schema:
    return con.sql(f"select * from {table} limit 0").to_arrow_table().schema


def _to_arrow(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[dict]) -> pa.Table:
    if rows:
        return pa.Table.from_pylist(list(rows))
    return _table_schema(con, table).empty_table()


# The keys an incremental mart rebuilds its rows by, all of a key's rows in one refresh: the
# item marts by item, their daily aggregates by day (dbt_project/macros/refreshed_items.sql).
REFRESH_KEYS = ("item_id", "created_date")


def publish_marts(warehouse: Warehouse, target: Path, schema: str = "marts") -> dict[str, int]:
    """Copy every relation of `schema` into a DuckDB file and swap it onto `target`.

    Readers (the app, BI tools) only ever see a complete file: the copy is written beside the
    target, checkpointed, closed, and moved with `os.replace`, which is atomic on one
    filesystem. The copy starts from the file published last, so an incremental mart (one with
    refreshed_at and a REFRESH_KEYS column) only takes the rows dbt refreshed since
    (`_sync_refreshed_mart`): publishing a day costs that day, not the history. Every other
    mart is copied whole.
    Returns the row count of each published table.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    if target.exists():
        shutil.copyfile(target, tmp)
    counts: dict[str, int] = {}
    config = {"memory_limit": warehouse.memory_limit, "threads": warehouse.threads}
    con = duckdb.connect(str(tmp), config=config)
    try:
        source = str(warehouse.path).replace("'", "''")
        con.execute(f"attach '{source}' as source_warehouse (read_only)")
        names = _table_names(con, "source_warehouse", schema)
        published_names = _table_names(con, str(scalar(con, "select current_database()")), "main")
        for stale in set(published_names) - set(names):
            con.execute(f'drop table main."{stale}"')
        for name in names:
            published, fresh = f'main."{name}"', f'source_warehouse.{schema}."{name}"'
            columns = _column_names(con, fresh)
            key = next((key for key in REFRESH_KEYS if key in columns), None)
            if key and "refreshed_at" in columns and _column_names(con, published) == columns:
                _sync_refreshed_mart(con, published, fresh, key)
            else:
                con.execute(f"create or replace table {published} as select * from {fresh}")
            counts[name] = scalar(con, f"select count(*) from {published}")
        con.execute("detach source_warehouse")
        con.execute("checkpoint")
    finally:
        con.close()
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return counts


def _sync_refreshed_mart(
    con: duckdb.DuckDBPyConnection, published: str, fresh: str, key: str
) -> None:
    """Make `published` equal `fresh` by moving only what dbt refreshed since the last publish.

    A published row stays while the warehouse holds its key (item or day) at the same refresh
    (refreshed_at); a key refreshed since, or gone, loses its rows; the rows refreshed after the
    published ones go in. dbt replaces all rows of a key in one refresh, so nothing else can
    differ. (No transaction of its own: a failure discards the whole new file.)"""
    published_until = scalar(con, f"select max(refreshed_at) from {published}")
    con.execute(
        f"delete from {published} as p where not exists (select 1 from {fresh} as f "
        f"where f.{key} = p.{key} and f.refreshed_at = p.refreshed_at)"
    )
    con.execute(
        f"insert into {published} select * from {fresh} "
        "where refreshed_at > coalesce(?, timestamp '1900-01-01')",
        [published_until],
    )


def _table_names(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = ? and table_schema = ? order by 1",
            [catalog, schema],
        ).fetchall()
    ]


def _column_names(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    try:
        return _table_schema(con, table).names
    except duckdb.CatalogException:  # not published yet
        return []
