"""Reference data the marts join to: the taxonomy staff edit, and the reviewers' decisions."""

import json
import time

import dagster as dg

from orchestration.lib.app_state import AppState
from orchestration.lib.warehouse import replace_rows

from ..resources import EnrichmentResource, WarehouseResource
from ..settings import OWNERS


@dg.asset(
    key=["raw", "taxonomy_topics"],
    description="The association's topic taxonomy (taxonomy.yaml) with its version.",
    group_name="ingest",
    kinds={"yaml", "duckdb"},
    pool="duckdb",
    owners=OWNERS,
)
def taxonomy_topics(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    enrichment: EnrichmentResource,
) -> dg.MaterializeResult:
    taxonomy = enrichment.taxonomy()
    rows = [
        {
            "topic_key": topic.key,
            "label": topic.label,
            "description": topic.description,
            "examples": json.dumps(list(topic.examples)),
            "taxonomy_version": taxonomy.version,
        }
        for topic in taxonomy.topics
    ]
    with warehouse.get().connect() as con:
        written = replace_rows(con, "raw.taxonomy_topics", rows, delete_where="true")
    context.log.info(f"taxonomy {taxonomy.version}: {written} topics")
    return dg.MaterializeResult(
        metadata={"rows_written": written, "taxonomy_version": taxonomy.version}
    )


@dg.asset(
    key=["raw", "review_decisions"],
    description="Reviewers' decisions copied from the app's SQLite state store.",
    group_name="ingest",
    kinds={"sqlite", "duckdb"},
    pool="duckdb",
    owners=OWNERS,
)
def review_decisions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    started = time.monotonic()
    decisions = AppState(warehouse.paths.app_state).decisions()
    with warehouse.get().connect() as con:
        # The store is small and append-only: replacing the whole table keeps the copy exact,
        # including after an erasure removed a member's decisions at the source.
        written = replace_rows(con, "raw.review_decisions", decisions, delete_where="true")
    context.log.info(f"copied {written} review decisions from {warehouse.paths.app_state}")
    return dg.MaterializeResult(
        metadata={"rows_written": written, "duration_s": round(time.monotonic() - started, 2)}
    )
