"""Transform: the dbt project (staging -> intermediate -> marts); dbt tests become asset checks."""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from ..ingest.assets import ingest_keys
from .project import dbt_project
from .translator import PulseDbtTranslator


def build_dbt_assets(translator: PulseDbtTranslator) -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=translator,
        pool="duckdb",
    )
    def member_pulse_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()

    return member_pulse_dbt


@dg.definitions
def transform_defs() -> dg.Definitions:
    return dg.Definitions(assets=[build_dbt_assets(PulseDbtTranslator(ingest_keys()))])
