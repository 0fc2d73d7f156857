"""Transform: the dbt project (staging -> intermediate -> marts); dbt tests become asset checks.

Two sets of dbt assets, both in the pool `duckdb`:

- `member_pulse_dbt_per_day`: the models tagged `per_day` in dbt_project.yml, partitioned by day
  like ingest and enrichment. A run passes its partition window to dbt in the environment
  (PULSE_DBT_MIN_DATE / PULSE_DBT_MAX_DATE, read by macros/partition_window.sql), and the
  incremental model replaces exactly those days (strategy `partition_window`); its tests check
  those days only.
- `member_pulse_dbt`: every other model, unpartitioned, rebuilt after the per-day set: review
  decisions and the taxonomy change any day's marts, so they are built whole.

Both start from the parse `dbt_project()` prepared in the home's target folder: dagster-dbt copies
its partial_parse.msgpack from DBT_TARGET_PATH into each invocation's own folder there, and dbt
reuses it while the profile and the flags that key it stay the same.
Passing the window as `--vars` would change that key on every run and make each one re-parse the
whole project; an environment variable that a macro reads while the models run does not.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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
# The window's bounds, as macros/partition_window.sql reads them.
WINDOW_ENV = {"min_date": "PULSE_DBT_MIN_DATE", "max_date": "PULSE_DBT_MAX_DATE"}


def window_vars(context: dg.AssetExecutionContext) -> dict[str, str]:
    """The run's partition window as dbt's min_date / max_date: naive local dates, as the items'
    created_date, both inclusive (the window's end is the midnight after its last day)."""
    start, end = local_window(context)
    last_day = end.date() - timedelta(days=1)
    return {"min_date": start.date().isoformat(), "max_date": last_day.isoformat()}


def window_env(window: Mapping[str, str]) -> dict[str, str]:
    """The window as the environment variables the dbt project reads it from."""
    return {WINDOW_ENV[name]: value for name, value in window.items()}


def target_env() -> dict[str, str]:
    """DBT_TARGET_PATH, which dagster-dbt reads for where an invocation writes and for the
    saved parse it starts from: the run's home (project.py says why)."""
    return {"DBT_TARGET_PATH": str(dbt_project().target_path)}


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` set in os.environ, then restored. dagster-dbt starts dbt with a copy of the
    environment taken in `DbtCliResource.cli()`, which has no other way in for a variable; a
    step runs in its own process (or alone in the in-process executor), so no other step sees
    it."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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
        with environment({**target_env(), **window_env(window_vars(context))}):
            invocation = dbt.cli(BUILD, context=context)
        yield from invocation.stream()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        exclude=PER_DAY_SELECTION,
        pool="duckdb",
    )
    def member_pulse_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        with environment(target_env()):
            invocation = dbt.cli(BUILD, context=context)
        yield from invocation.stream()

    return [member_pulse_dbt_per_day, member_pulse_dbt]


@dg.definitions
def transform_defs() -> dg.Definitions:
    translator = PulseDbtTranslator(ingest_keys())
    return dg.Definitions(assets=build_dbt_assets(translator, daily_partitions()))
