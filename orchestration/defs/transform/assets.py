"""Transform: the dbt project (staging -> intermediate -> marts); dbt tests become asset checks.

Two sets of dbt assets, both in the pool `duckdb`:

- `member_pulse_dbt_per_day`: the models tagged `per_day` in dbt_project.yml, partitioned by day
  like ingest and enrichment. A run passes its partition window to dbt as vars min_date /
  max_date, and the incremental model replaces exactly those days (strategy `partition_window`);
  its tests check those days only.
- `member_pulse_dbt`: every other model, unpartitioned, rebuilt after the per-day set: review
  decisions and the taxonomy change any day's marts, so they are built whole.
"""

import json
from datetime import timedelta

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from ..ingest.assets import ingest_keys, local_window
from ..settings import daily_partitions
from .project import dbt_project
from .translator import PER_DAY_TAG, PulseDbtTranslator

PER_DAY_SELECTION = f"tag:{PER_DAY_TAG}"
# Unit tests check the SQL logic on fixed inputs, not the data: `make test` runs them (tests/dbt);
# a production build skipping them saves a run's time and never needs a model to exist first.
BUILD = ["build", "--exclude-resource-type", "unit_test"]


def window_vars(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The run's partition window as dbt's min_date / max_date: naive local dates, as the items'
    created_date, both inclusive (the window's end is the midnight after its last day)."""
    start, end = local_window(context)
    last_day = end.date() - timedelta(days=1)
    return {"min_date": start.date().isoformat(), "max_date": last_day.isoformat()}


def build_dbt_assets(
    translator: PulseDbtTranslator, partitions: dg.PartitionsDefinition
) -> list[dg.AssetsDefinition]:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        select=PER_DAY_SELECTION,
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb",
    )
    def member_pulse_dbt_per_day(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        dbt_vars = json.dumps(window_vars(context))
        yield from dbt.cli([*BUILD, "--vars", dbt_vars], context=context).stream()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        exclude=PER_DAY_SELECTION,
        pool="duckdb",
    )
    def member_pulse_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(BUILD, context=context).stream()

    return [member_pulse_dbt_per_day, member_pulse_dbt]


@dg.definitions
def transform_defs() -> dg.Definitions:
    translator = PulseDbtTranslator(ingest_keys())
    return dg.Definitions(assets=build_dbt_assets(translator, daily_partitions()))
