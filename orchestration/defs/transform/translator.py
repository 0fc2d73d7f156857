"""How dbt nodes appear in Dagster: keys from schema + name, group `transform`, and when each
runs: the per-day models (dbt tag `per_day`) follow enrichment on the recent partitions, the
others follow eagerly after them.

`raw.feedback_items` is one table that several ingest assets (one per text source) fill, each
its own slice. dbt sees one source, so the translator replaces the dependency on that source
with dependencies on every ingest asset: lineage then shows each source feeding staging.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from ..automation import recent_partitions_eager

FEEDBACK_ITEMS_KEY = dg.AssetKey(["raw", "feedback_items"])
# dbt tag of the models Dagster runs per daily partition (dbt_project.yml says which and why).
PER_DAY_TAG = "per_day"


class PulseDbtTranslator(DagsterDbtTranslator):
    def __init__(self, ingest_keys: Sequence[dg.AssetKey]):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_code_references=False))
        self._ingest_keys = list(ingest_keys)

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = self.get_resource_props(manifest, unique_id)
        if node["resource_type"] == "source":
            return spec
        return spec.replace_attributes(
            key=self._key_for_node(node),
            group_name="transform",
            owners=["team:analytics-engineering"],
            deps=self._deps_with_sources_expanded(spec.deps),
            automation_condition=self._automation_condition(node),
        )

    def _automation_condition(self, node: Mapping[str, Any]) -> dg.AutomationCondition:
        """dbt follows enrichment as soon as its upstreams update (one dbt build per update):
        per-day models for the partitions the live tail refreshes, the rest once after them."""
        if PER_DAY_TAG in node["tags"]:
            return recent_partitions_eager()
        return dg.AutomationCondition.eager()

    def _key_for_node(self, node: Mapping[str, Any]) -> dg.AssetKey:
        """Models are keyed by their schema (staging / intermediate / marts) and name."""
        return dg.AssetKey([node["schema"], node["name"]])

    def _deps_with_sources_expanded(self, deps: Sequence[dg.AssetDep]) -> list[dg.AssetDep]:
        expanded: list[dg.AssetDep] = []
        for dep in deps:
            if dep.asset_key == FEEDBACK_ITEMS_KEY:
                expanded.extend(dg.AssetDep(key) for key in self._ingest_keys)
            else:
                expanded.append(dep)
        return expanded
