"""Ingest: one asset per text source, each a daily-partitioned slice of `raw.feedback_items`.

Text is redacted in flight (orchestration.lib.items): the warehouse only ever receives
redacted text. Each run replaces exactly its window for its own source, so re-runs and
backfills never duplicate or lose a row.
"""

import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.files import iter_file_items
from connectors.imis import (
    ImisResponseError,
    count_source_items,
    iter_member_changes,
    iter_members,
    iter_source_items,
    iter_staff,
)
from connectors.records import SourceItem, SourceProblem
from connectors.sources import FileSource, ImisQuerySource, Source, SqlSource
from connectors.sql import iter_sql_items
from orchestration.lib.items import spool_redacted_items
from orchestration.lib.redaction import RedactorPool
from orchestration.lib.warehouse import replace_rows, scalar

from ..automation import ingest_condition, members_condition
from ..resources import ImisResource, PiiResource, WarehouseResource
from ..settings import OWNERS, daily_partitions, sources

PII_SAMPLE_SIZE = 200

MEMBERS_KEY = dg.AssetKey(["raw", "members"])
MEMBER_HISTORY_KEY = dg.AssetKey(["raw", "member_history"])


def ingest_key(source_name: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", "feedback_items", source_name])


def local_window(context: dg.AssetExecutionContext) -> tuple[datetime, datetime]:
    """The run's partition window as naive local datetimes, as iMIS stores its dates."""
    window = context.partition_time_window
    return window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)


def _describe(source: Source) -> str:
    if isinstance(source, FileSource):
        return f"the export file {source.path.name}"
    if isinstance(source, ImisQuerySource):
        return f"the iMIS query {source.query_name}"
    if isinstance(source, SqlSource):
        return f"a query on the iMIS database (${source.url_env})"
    return f"the iMIS {source.entity} entity"


def _write_window(
    context: dg.AssetExecutionContext,
    source: Source,
    records: Iterator[SourceItem | SourceProblem],
    expected: int,
    warehouse: WarehouseResource,
    pii: PiiResource,
) -> dg.MaterializeResult:
    """Redact the window's records into the warehouse; check counts and residual PII."""
    start, end = local_window(context)
    started = time.monotonic()
    redactor = pii.redactor()
    # The pool's workers (forked once, kept for every chunk) redact on the other cores while
    # this process reads iMIS and redacts too.
    with tempfile.TemporaryDirectory(prefix="pulse-ingest-") as tmp, RedactorPool(redactor) as pool:
        spool = Path(tmp) / "items.parquet"
        stats = spool_redacted_items(records, pool, spool)
        pii_check = _residual_pii_check(redactor, spool)
        with warehouse.get().connect() as con:
            written = replace_rows(
                con,
                "raw.feedback_items",
                spool,
                # An item whose date was edited in iMIS moves to its new day: its row on the
                # old day goes too (item_id is the key; the old day keeps no stale copy).
                delete_where="(source_name = ? and created_at >= ? and created_at < ?) "
                "or item_id in (select item_id from _replace_batch)",
                params=[source.name, start, end],
            )
            now = datetime.now(UTC).replace(tzinfo=None)
            replace_rows(
                con,
                "raw.ingest_problems",
                [
                    {
                        "source_name": p.source_name,
                        "created_date": p.created_at.date() if p.created_at else start.date(),
                        "location": p.location,
                        "reason": p.reason,
                        "recorded_at": now,
                    }
                    for p in stats.problems
                ],
                delete_where="source_name = ? and created_date >= ? and created_date < ?",
                params=[source.name, start.date(), end.date()],
            )
    for problem in stats.problems[:20]:
        context.log.warning(f"{source.name}: skipped {problem.location}: {problem.reason}")
    if len(stats.problems) > 20:
        context.log.warning(
            f"{source.name}: {len(stats.problems) - 20} more rows skipped; "
            "all are listed in raw.ingest_problems"
        )
    context.log.info(
        f"{source.name}: wrote {written} redacted items for {start:%Y-%m-%d} .. {end:%Y-%m-%d} "
        f"({stats.items_with_pii} held personal data, now replaced by placeholders)"
    )
    seen = written + len(stats.problems)
    return dg.MaterializeResult(
        check_results=[
            dg.AssetCheckResult(
                check_name="row_count_matches_source",
                passed=seen == expected,
                metadata={
                    "source_total": expected,
                    "ingested": written,
                    "skipped": len(stats.problems),
                },
                description=None
                if seen == expected
                else f"the source holds {expected} records for the window, {seen} were read; "
                "re-run the partition (late or deleted records) and compare again",
            ),
            pii_check,
        ],
        metadata={
            "rows_written": written,
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "watermark": stats.newest_created_at.isoformat() if stats.newest_created_at else None,
            "items_redacted": stats.items_with_pii,
            "pii_entities": dg.MetadataValue.json(dict(sorted(stats.entity_counts.items()))),
            "rows_skipped": len(stats.problems),
            "duration_s": round(time.monotonic() - started, 2),
        },
    )


def _residual_pii_check(redactor, spool: Path) -> dg.AssetCheckResult:
    """Re-scan a sample of the redacted texts: anything the analyzer still finds is a leak."""
    texts = pq.read_table(spool, columns=["redacted_text"]).column("redacted_text")
    step = max(1, len(texts) // PII_SAMPLE_SIZE)
    # Only the sample becomes Python strings: a year's backfill is a million texts.
    rows = pa.array(range(0, len(texts), step), type=pa.int64())[:PII_SAMPLE_SIZE]
    sample = texts.take(rows).to_pylist()
    residual: Counter = Counter()
    for again in redactor.redact_batch(sample):
        residual.update(again.entity_counts)
    return dg.AssetCheckResult(
        check_name="no_residual_pii",
        passed=not residual,
        metadata={"sampled_items": len(sample), "residual_entities": dict(residual)},
        description=None
        if not residual
        else "personal data survived redaction in the sample (types and counts in metadata; "
        "values are never shown): add the pattern or name source to the redactor",
    )


def _check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "row_count_matches_source",
            asset=key,
            description="Items ingested plus rows skipped equal the source's total for the window.",
        ),
        dg.AssetCheckSpec(
            "no_residual_pii",
            asset=key,
            description="A sample of redacted texts, scanned again, holds no personal data.",
        ),
    ]


def build_ingest_asset(source: Source, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    key = ingest_key(source.name)
    common = dict(
        key=key,
        description=f"Redacted {source.channel} items from {_describe(source)}.",
        group_name="ingest",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb",
        owners=OWNERS,
        check_specs=_check_specs(key),
        automation_condition=ingest_condition(),
    )
    if isinstance(source, FileSource | SqlSource):
        # Export files and database queries: counting the window is a second read of it.
        read, kind = (
            (iter_file_items, "file") if isinstance(source, FileSource) else (iter_sql_items, "sql")
        )

        @dg.asset(**common, kinds={kind, "presidio", "duckdb"})
        def _local_ingest(
            context: dg.AssetExecutionContext, warehouse: WarehouseResource, pii: PiiResource
        ) -> dg.MaterializeResult:
            start, end = local_window(context)
            expected = sum(1 for _ in read(source, start, end))
            return _write_window(
                context, source, read(source, start, end), expected, warehouse, pii
            )

        return _local_ingest

    @dg.asset(**common, kinds={"imis", "presidio", "duckdb"}, deps=[MEMBERS_KEY])
    def _imis_ingest(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        pii: PiiResource,
        imis: ImisResource,
    ) -> dg.MaterializeResult:
        start, end = local_window(context)
        with imis.client() as client:
            expected = count_source_items(client, source, start, end)
            return _write_window(
                context,
                source,
                iter_source_items(client, source, start, end),
                expected,
                warehouse,
                pii,
            )

    return _imis_ingest


def build_members_asset() -> dg.AssetsDefinition:
    """Only configurations that read iMIS get this asset (file-only pilots have no members)."""

    @dg.multi_asset(
        name="members",
        specs=[
            dg.AssetSpec(
                MEMBERS_KEY,
                description="Members' ids and segment attributes (tier, chapter, status, dates); "
                "no names or contact details.",
                kinds={"imis", "duckdb"},
                group_name="ingest",
                owners=OWNERS,
                automation_condition=members_condition(),
            ),
            dg.AssetSpec(
                MEMBER_HISTORY_KEY,
                description="Dated changes of members' tier, chapter and status.",
                kinds={"imis", "duckdb"},
                group_name="ingest",
                owners=OWNERS,
                automation_condition=members_condition(),
            ),
        ],
        pool="duckdb",
    )
    def _members(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        imis: ImisResource,
        pii: PiiResource,
    ) -> Iterator[dg.MaterializeResult]:
        """Sync members incrementally on UpdatedOn; feed names and e-mails to the redactor as hashes."""
        started = time.monotonic()
        wh = warehouse.get()
        with wh.connect() as con:
            since = scalar(con, "select max(updated_at) from raw.members")
            since_change = scalar(con, "select max(changed_at) from raw.member_history")
        known = pii.known_people()
        rows, changes = [], []
        synced_at = datetime.now(UTC).replace(tzinfo=None)
        with imis.client() as client:
            for member in iter_members(client, since):
                known.add(member)
                rows.append(
                    {
                        "member_id": member.member_id,
                        "tier": member.tier,
                        "tier_label": member.tier_label,
                        "chapter": member.chapter,
                        "status": member.status,
                        "join_date": member.join_date,
                        "paid_through": member.paid_through,
                        "updated_at": member.updated_at,
                        "synced_at": synced_at,
                    }
                )
            # Staff names turn up in member text ("escalated to Tom"): index them too.
            staff = 0
            try:
                for person in iter_staff(client):
                    known.add_names(person.first_name, person.last_name, person.emails)
                    staff += 1
            except ImisResponseError as exc:
                if exc.status not in (403, 404):
                    raise
                context.log.warning(
                    f"staff names not indexed: iMIS answered {exc.status} on /api/User. Grant the "
                    "API user read access to User so staff named in member text are redacted "
                    "by name (the gazetteer and context rules still apply)."
                )
            changes = [
                {
                    "member_id": c.member_id,
                    "changed_at": c.changed_at,
                    "attribute": c.attribute,
                    "old_value": c.old_value,
                    "new_value": c.new_value,
                }
                for c in iter_member_changes(client, since_change)
            ]
        pii.known_people_file.parent.mkdir(parents=True, exist_ok=True)
        known.save(pii.known_people_file)
        with wh.connect() as con:
            # Merge on the key: the rows synced now replace their older versions, others stay.
            written = replace_rows(
                con,
                "raw.members",
                rows,
                delete_where="member_id in (select member_id from _replace_batch)",
            )
            total = scalar(con, "select count(*) from raw.members")
            history_written = _merge_history(con, changes)
        mode = "full first sync" if since is None else f"changes since {since:%Y-%m-%d %H:%M}"
        context.log.info(f"members: {mode}: {written} members updated, {total} known in all")
        yield dg.MaterializeResult(
            asset_key=MEMBERS_KEY,
            metadata={
                "rows_written": written,
                "members_total": total,
                "sync_mode": mode,
                "known_people_hashes": len(known),
                "staff_users_indexed": staff,
                "duration_s": round(time.monotonic() - started, 2),
            },
        )
        yield dg.MaterializeResult(
            asset_key=MEMBER_HISTORY_KEY, metadata={"rows_written": history_written}
        )

    return _members


def _merge_history(con, changes: list[dict]) -> int:
    """Insert the changes not yet recorded; (member, time, attribute) identifies a change."""
    if not changes:
        return 0
    before = scalar(con, "select count(*) from raw.member_history")
    con.register("_changes", pa.Table.from_pylist(changes))
    try:
        con.execute(
            "insert or ignore into raw.member_history "
            "(member_id, changed_at, attribute, old_value, new_value) "
            "select member_id, changed_at, attribute, old_value, new_value from _changes"
        )
    finally:
        con.unregister("_changes")
    return scalar(con, "select count(*) from raw.member_history") - before


@dg.definitions
def ingest_defs() -> dg.Definitions:
    config = sources()
    partitions = daily_partitions()
    assets = [build_ingest_asset(source, partitions) for source in config.sources]
    if config.needs_imis:
        assets.append(build_members_asset())
    return dg.Definitions(assets=assets)


def ingest_keys() -> list[dg.AssetKey]:
    return [ingest_key(s.name) for s in sources().sources]
