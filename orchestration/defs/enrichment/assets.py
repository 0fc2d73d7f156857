"""Enrichment: label each redacted item, in two steps so model calls never hold the warehouse.

1. `enrichment/label_cache` (pool `llm`): reads the window's redacted items with a short
   read-only connection, sends every text not yet in the label cache to the model, and stores
   the validated labels (or the recorded failure) in the cache, a SQLite file of its own.
2. `enriched/item_labels` + `enriched/item_topics` (pool `duckdb`): a short step that moves the
   window's labels from the cache into the warehouse, replacing exactly that window.
"""

import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from orchestration.lib.enrichment.base import Enricher
from orchestration.lib.enrichment.budget import BudgetExceeded, Estimate, check_budget, estimate
from orchestration.lib.enrichment.cache import LabelCache, cache_key, enrich_with_cache
from orchestration.lib.enrichment.prompts import PROMPT_VERSION
from orchestration.lib.enrichment.schema import EnrichmentInput, warehouse_rows
from orchestration.lib.warehouse import replace_rows, spool_query, spooled_rows, table_spool

from ..automation import recent_partitions_eager
from ..ingest.assets import ingest_keys, local_window
from ..resources import EnrichmentResource, WarehouseResource
from ..settings import OWNERS, daily_partitions, settings

DRIFT_TOLERANCE = 0.15  # absolute change in a label's share that warns of drift
DRIFT_BASELINE_DAYS = 28

LABEL_SHARES_SQL = """
select sentiment_label, count(*) from enriched.item_labels
where status = 'ok' and created_date >= ? and created_date < ?
group by 1
"""

LABEL_CACHE_KEY = dg.AssetKey(["enrichment", "label_cache"])
ITEM_LABELS_KEY = dg.AssetKey(["enriched", "item_labels"])
ITEM_TOPICS_KEY = dg.AssetKey(["enriched", "item_topics"])

WINDOW_ITEMS_SQL = """
select item_id, created_date, text_hash, redacted_text, channel, question
from raw.feedback_items
where created_at >= ? and created_at < ?
order by item_id
"""


def _enrichment_input(row: dict) -> EnrichmentInput:
    return EnrichmentInput(
        item_id=row["item_id"],
        text=row["redacted_text"],
        text_hash=row["text_hash"],
        channel=row["channel"],
        question=row["question"],
    )


def _preflight(enricher: Enricher, cache: LabelCache, spool: Path) -> tuple[Estimate, int]:
    """What labelling the spooled window will send and cost, before any call; and how many of
    its items the cache already holds. Texts repeated across chunks are counted once per chunk
    (the estimate errs high; the run itself sends each distinct text once)."""
    run = estimate(enricher, [])
    cached_items = 0
    for rows in spooled_rows(spool):
        keyed = [(cache_key(item, enricher), item) for item in map(_enrichment_input, rows)]
        cached = cache.get_many(key for key, _ in keyed)
        cached_items += sum(key in cached for key, _ in keyed)
        uncached = {key: item for key, item in keyed if key not in cached}
        run += estimate(enricher, list(uncached.values()))
    return run, cached_items


def _warehouse_rows(
    items: list[EnrichmentInput],
    created_dates: list[date],
    enricher: Enricher,
    cache: LabelCache,
    enriched_at: datetime,
) -> tuple[list[dict], list[dict], int]:
    """item_labels and item_topics rows for the items whose labels are cached, and how many
    items have none yet."""
    keys = [cache_key(item, enricher) for item in items]
    cached = cache.get_many(keys)
    label_rows, topic_rows, missing = [], [], 0
    for item, created_date, key in zip(items, created_dates, keys, strict=True):
        label = cached.get(key)
        if label is None:
            missing += 1
            continue
        label_row, topics = warehouse_rows(
            label.for_item(item.item_id, item.text_hash), created_date, enriched_at
        )
        label_rows.append(label_row)
        topic_rows.extend(topics)
    return label_rows, topic_rows, missing


def _model_calls(enricher) -> int:
    """Requests the enricher has sent to its model so far (the built-in model sends none)."""
    stats = getattr(enricher, "stats", None)
    return getattr(stats, "calls", 0)


def _shares(con, start: date, end: date) -> dict[str, float]:
    counts = dict(con.execute(LABEL_SHARES_SQL, [start, end]).fetchall())
    total = sum(counts.values())
    return {label: n / total for label, n in counts.items()} if total else {}


def _drift_check(con, start: date, end: date) -> dg.AssetCheckResult:
    """Compare the window's label shares with the 28 days before it (a warning, not a failure:
    an incident legitimately moves sentiment; a model or prompt problem moves it too)."""
    window = _shares(con, start, end)
    baseline = _shares(con, start - timedelta(days=DRIFT_BASELINE_DAYS), start)
    moves = {
        label: round(window.get(label, 0.0) - baseline.get(label, 0.0), 3)
        for label in ("positive", "neutral", "negative")
    }
    drifted = bool(window and baseline) and any(abs(m) > DRIFT_TOLERANCE for m in moves.values())
    return dg.AssetCheckResult(
        check_name="label_distribution_drift",
        passed=not drifted,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "window_shares": {k: round(v, 3) for k, v in window.items()},
            "baseline_shares": {k: round(v, 3) for k, v in baseline.items()},
            "change": moves,
            "tolerance": DRIFT_TOLERANCE,
        },
        description="label shares moved more than the tolerance against the previous 28 days: "
        "check for an incident (Emerging issues) or a model/prompt change"
        if drifted
        else None,
    )


def build_enrichment_assets(
    partitions: dg.PartitionsDefinition,
    upstream: list[dg.AssetKey],
    code_version: str,
    max_failure_rate: float,
) -> list[dg.AssetsDefinition]:
    @dg.asset(
        key=LABEL_CACHE_KEY,
        description="Validated model labels for the window's items, cached by text hash, "
        "model, prompt and taxonomy version.",
        group_name="enrichment",
        kinds={"python", "sqlite"},
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="llm",
        deps=upstream,
        owners=OWNERS,
        code_version=code_version,
        automation_condition=recent_partitions_eager(),
    )
    def label_cache(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        enrichment: EnrichmentResource,
    ) -> dg.MaterializeResult:
        start, end = local_window(context)
        started = time.monotonic()
        enricher = enrichment.enricher()
        cache = enrichment.cache()
        with tempfile.TemporaryDirectory(prefix="pulse-label-cache-") as tmp:
            spool = Path(tmp) / "window.parquet"
            # A short read: the warehouse is free again before the first model call.
            with warehouse.get().connect(read_only=True) as con:
                total = spool_query(con, WINDOW_ITEMS_SQL, [start, end], spool)
            run, cached = _preflight(enricher, cache, spool)
            context.log.info(
                f"{enricher.model_id}: {total:,} items, {cached:,} of them cached; {run.describe()}"
            )
            try:
                check_budget(run, enrichment.budget_usd)
            except BudgetExceeded as exc:
                raise dg.Failure(
                    str(exc),
                    metadata={
                        "estimated_calls": run.calls,
                        "estimated_cost_usd": run.cost_usd,
                        "budget_usd": enrichment.budget_usd,
                    },
                ) from None
            calls_before = _model_calls(enricher)
            totals: Counter = Counter()
            for rows in spooled_rows(spool):
                results, stats = enrich_with_cache(
                    enricher,
                    cache,
                    [_enrichment_input(row) for row in rows],
                    batch_size=getattr(enricher, "cache_batch_size", 32),
                )
                totals.update(stats)
                totals["tokens_in"] += sum(r.tokens_in or 0 for r in results)
                totals["tokens_out"] += sum(r.tokens_out or 0 for r in results)
                totals["cost_usd"] += sum(r.cost_usd or 0 for r in results)
                context.log.info(
                    f"labelled {totals['items']:,} of {total:,} items: "
                    f"{totals['cache_hits']:,} from cache, {totals['items_sent']:,} sent to "
                    f"{enricher.model_id}, {totals['failed']:,} failed (sent to review)"
                )
        return dg.MaterializeResult(
            metadata={
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
                "items": total,
                "cache_hits": totals["cache_hits"],
                "model_calls": _model_calls(enricher) - calls_before,
                "items_sent": totals["items_sent"],
                "failures_to_review": totals["failed"],
                "tokens_in": totals["tokens_in"],
                "tokens_out": totals["tokens_out"],
                "estimated_cost_usd": round(totals["cost_usd"], 4),
                "preflight_estimated_calls": run.calls,
                "preflight_estimated_cost_usd": run.cost_usd,
                "model": enricher.model_id,
                "prompt_version": enricher.prompt_version,
                "taxonomy_version": enricher.taxonomy_version,
                "duration_s": round(time.monotonic() - started, 2),
            }
        )

    @dg.multi_asset(
        name="enriched_items",
        specs=[
            dg.AssetSpec(
                ITEM_LABELS_KEY,
                description="One row per item: sentiment, urgency, primary topic and lineage, "
                "or the failure that routes it to review.",
                deps=[LABEL_CACHE_KEY],
                group_name="enrichment",
                kinds={"duckdb"},
                owners=OWNERS,
                code_version=code_version,
                automation_condition=recent_partitions_eager(),
            ),
            dg.AssetSpec(
                ITEM_TOPICS_KEY,
                description="One row per item and topic, with topic sentiment and an evidence "
                "quote from the redacted text.",
                deps=[LABEL_CACHE_KEY],
                group_name="enrichment",
                kinds={"duckdb"},
                owners=OWNERS,
                code_version=code_version,
                automation_condition=recent_partitions_eager(),
            ),
        ],
        check_specs=[
            dg.AssetCheckSpec(
                "coverage",
                asset=ITEM_LABELS_KEY,
                description="Every ingested item is labelled or recorded as failed, and "
                "failures stay below the threshold (PULSE_MAX_FAILURE_RATE).",
            ),
            dg.AssetCheckSpec(
                "label_distribution_drift",
                asset=ITEM_LABELS_KEY,
                description="Sentiment shares of the window against the previous 28 days.",
            ),
        ],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb",
    )
    def enriched_items(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        enrichment: EnrichmentResource,
    ):
        start, end = local_window(context)
        enricher = enrichment.enricher()
        cache = enrichment.cache()
        enriched_at = datetime.now(UTC).replace(tzinfo=None)
        window = "created_date >= ? and created_date < ?"
        params = [start.date(), end.date()]
        items = missing = failed = 0
        with tempfile.TemporaryDirectory(prefix="pulse-enriched-") as tmp:
            tmp_dir = Path(tmp)
            spool = tmp_dir / "window.parquet"
            labels_file, topics_file = tmp_dir / "labels.parquet", tmp_dir / "topics.parquet"
            with warehouse.get().connect() as con:
                items = spool_query(con, WINDOW_ITEMS_SQL, [start, end], spool)
                # Chunk by chunk into two Parquet files, so memory stays flat however long the
                # window is; each table's window is then replaced in one statement.
                with (
                    table_spool(con, "enriched.item_labels", labels_file) as add_labels,
                    table_spool(con, "enriched.item_topics", topics_file) as add_topics,
                ):
                    for rows in spooled_rows(spool):
                        label_rows, topic_rows, chunk_missing = _warehouse_rows(
                            [_enrichment_input(row) for row in rows],
                            [row["created_date"] for row in rows],
                            enricher,
                            cache,
                            enriched_at,
                        )
                        missing += chunk_missing
                        failed += sum(r["status"] == "failed" for r in label_rows)
                        add_labels(label_rows)
                        add_topics(topic_rows)
                # The window's rows, and those of its items still filed under another day (an
                # item whose date was edited in iMIS has moved into this window).
                labels_written = replace_rows(
                    con,
                    "enriched.item_labels",
                    labels_file,
                    delete_where=f"({window}) or item_id in (select item_id from _replace_batch)",
                    params=params,
                )
                topics_written = replace_rows(
                    con,
                    "enriched.item_topics",
                    topics_file,
                    delete_where=f"({window}) or item_id in (select item_id from "
                    f"enriched.item_labels where {window})",
                    params=params * 2,
                )
                drift = _drift_check(con, start.date(), end.date())
        if missing:
            context.log.warning(
                f"{missing} items have no cached labels yet; materialize "
                "enrichment/label_cache for this window first"
            )
        failure_rate = failed / items if items else 0.0
        covered = labels_written == items and not missing
        yield dg.AssetCheckResult(
            asset_key=ITEM_LABELS_KEY,
            check_name="coverage",
            passed=covered and failure_rate <= max_failure_rate,
            metadata={
                "items_ingested": items,
                "items_labelled_or_failed": labels_written,
                "failed": failed,
                "failure_rate": round(failure_rate, 4),
                "threshold": max_failure_rate,
            },
            description=None
            if covered
            else f"{missing} items have no labels: materialize enrichment/label_cache for the "
            "window, then this asset again",
        )
        yield drift
        yield dg.MaterializeResult(
            asset_key=ITEM_LABELS_KEY,
            metadata={
                "rows_written": labels_written,
                "failures_to_review": failed,
                "items_without_labels": missing,
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
            },
        )
        yield dg.MaterializeResult(
            asset_key=ITEM_TOPICS_KEY, metadata={"rows_written": topics_written}
        )

    return [label_cache, enriched_items]


@dg.definitions
def enrichment_defs() -> dg.Definitions:
    s = settings()
    taxonomy_version = (
        EnrichmentResource(
            pulse_home=str(s.home), taxonomy_file=str(s.taxonomy_file), model=s.model
        )
        .taxonomy()
        .version
    )
    # A new prompt, taxonomy or model marks enrichment stale in the UI; re-enriching history is
    # still an explicit backfill, and unchanged cache keys are not sent again.
    code_version = f"{s.model}|{PROMPT_VERSION}|{taxonomy_version}"
    return dg.Definitions(
        assets=build_enrichment_assets(
            daily_partitions(), ingest_keys(), code_version, s.max_failure_rate
        )
    )
