"""Publish: swap a fresh copy of the marts onto marts.duckdb, which the app and BI tools read."""

import time
from datetime import timedelta

import dagster as dg

from orchestration.lib.warehouse import publish_marts

from ..ingest.assets import ingest_keys
from ..resources import WarehouseResource
from ..settings import OWNERS, daily_partitions
from ..transform.assets import build_dbt_assets
from ..transform.translator import PulseDbtTranslator

PUBLISHED_MARTS_KEY = dg.AssetKey(["published", "marts"])
# The live tail ingests hourly: marts older than a few hours mean the tail has stopped, older
# than a day mean leadership is reading yesterday's picture.
MARTS_FRESHNESS = dg.FreshnessPolicy.time_window(
    warn_window=timedelta(hours=3), fail_window=timedelta(hours=26)
)


def mart_keys() -> list[dg.AssetKey]:
    dbt_defs = build_dbt_assets(PulseDbtTranslator(ingest_keys()), daily_partitions())
    keys = (k for assets_def in dbt_defs for k in assets_def.keys)
    return sorted((k for k in keys if k.path[0] == "marts"), key=lambda k: k.path)


def build_publish_asset(marts: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=PUBLISHED_MARTS_KEY,
        description="marts.duckdb: the marts, copied and swapped in atomically for readers.",
        group_name="publish",
        kinds={"duckdb"},
        deps=marts,
        pool="duckdb",
        owners=OWNERS,
        automation_condition=dg.AutomationCondition.eager(),
        freshness_policy=MARTS_FRESHNESS,
    )
    def published_marts(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        started = time.monotonic()
        target = warehouse.paths.marts
        counts = publish_marts(warehouse.get(), target)
        context.log.info(f"published {len(counts)} marts to {target}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(target)),
                "tables": dg.MetadataValue.json(counts),
                "fct_feedback_rows": counts.get("fct_feedback", 0),
                "duration_s": round(time.monotonic() - started, 2),
            }
        )

    return published_marts


@dg.definitions
def publish_defs() -> dg.Definitions:
    return dg.Definitions(assets=[build_publish_asset(mart_keys())])
