"""Enrichment: label each redacted item, in two steps so model calls never hold the warehouse.

1. `enrichment/label_cache` (pool `llm`): reads the window's redacted items with a short
   read-only connection, sends every text not yet in the label cache to the model, and stores
   the validated labels (or the recorded failure) in the cache, a SQLite file of its own.
2. `enriched/item_labels` + `enriched/item_topics` (pool `duckdb`): a short step that moves the
   window's labels from the cache into the warehouse, replacing exactly that window.
"""

import time
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from orchestration.lib.enrichment.budget import BudgetExceeded, check_budget, estimate
from orchestration.lib.enrichment.cache import cache_key, enrich_with_cache
from orchestration.lib.enrichment.prompts import PROMPT_VERSION
from orchestration.lib.enrichment.schema import EnrichmentInput, warehouse_rows
from orchestration.lib.warehouse import replace_rows

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


def _enrichment_input(row: tuple) -> EnrichmentInput:
    item_id, _, text_hash, text, channel, question = row
    return EnrichmentInput(
        item_id=item_id, text=text, text_hash=text_hash, channel=channel, question=question
    )


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
        with warehouse.get().connect(read_only=True) as con:
            rows = con.execute(WINDOW_ITEMS_SQL, [start, end]).fetchall()
        items = [_enrichment_input(row) for row in rows]
        enricher = enrichment.enricher()
        cache = enrichment.cache()
        # Before any call: what the uncached items will cost, and the budget stop.
        keys = {cache_key(item, enricher): item for item in items}
        cached = cache.get_many(keys)
        run = estimate(enricher, [item for key, item in keys.items() if key not in cached])
        context.log.info(
            f"{enricher.model_id}: {len(cached):,} distinct texts cached; {run.describe()}"
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
        results, stats = enrich_with_cache(
            enricher, cache, items, batch_size=getattr(enricher, "cache_batch_size", 32)
        )
        failed = sum(r.status == "failed" for r in results)
        context.log.info(
            f"labelled {len(items)} items with {enricher.model_id}: {stats['cache_hits']} from "
            f"cache, {stats['items_sent']} sent to the model, {failed} failed (sent to review)"
        )
        return dg.MaterializeResult(
            metadata={
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
                "items": len(items),
                "cache_hits": stats["cache_hits"],
                "model_calls": _model_calls(enricher) - calls_before,
                "items_sent": stats["items_sent"],
                "failures_to_review": failed,
                "tokens_in": sum(r.tokens_in or 0 for r in results),
                "tokens_out": sum(r.tokens_out or 0 for r in results),
                "estimated_cost_usd": round(sum(r.cost_usd or 0 for r in results), 4),
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
        wh = warehouse.get()
        with wh.connect() as con:
            rows = con.execute(WINDOW_ITEMS_SQL, [start, end]).fetchall()
            items = [(row[1], _enrichment_input(row)) for row in rows]
            keys = [cache_key(item, enricher) for _, item in items]
            cached = cache.get_many(keys)
            enriched_at = datetime.now(UTC).replace(tzinfo=None)
            label_rows, topic_rows, missing = [], [], 0
            for (created_date, item), key in zip(items, keys, strict=True):
                label = cached.get(key)
                if label is None:
                    missing += 1
                    continue
                label_row, topics = warehouse_rows(
                    label.for_item(item.item_id, item.text_hash), created_date, enriched_at
                )
                label_rows.append(label_row)
                topic_rows.extend(topics)
            window = "created_date >= ? and created_date < ?"
            params = [start.date(), end.date()]
            labels_written = replace_rows(
                con, "enriched.item_labels", label_rows, delete_where=window, params=params
            )
            topics_written = replace_rows(
                con, "enriched.item_topics", topic_rows, delete_where=window, params=params
            )
            drift = _drift_check(con, start.date(), end.date())
        if missing:
            context.log.warning(
                f"{missing} items have no cached labels yet; materialize "
                "enrichment/label_cache for this window first"
            )
        failed = sum(r["status"] == "failed" for r in label_rows)
        failure_rate = failed / len(rows) if rows else 0.0
        covered = labels_written == len(rows) and not missing
        yield dg.AssetCheckResult(
            asset_key=ITEM_LABELS_KEY,
            check_name="coverage",
            passed=covered and failure_rate <= max_failure_rate,
            metadata={
                "items_ingested": len(rows),
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
