"""The Dagster definitions load, with the full asset graph, groups and pools we rely on."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.defs.transform.project import dbt_project

SANDBOX_SOURCES = {
    "activity_feedback",
    "activity_calls",
    "community_posts",
    "party_notes",
    "communication_log_emails",
    "survey_responses",
    "case_notes",
}
DBT_MODELS = {  # and seeds
    ("staging", "stg_imis__feedback_items"),
    ("staging", "stg_imis__members"),
    ("staging", "stg_imis__member_history"),
    ("staging", "stg_enrichment__item_labels"),
    ("staging", "stg_enrichment__item_topics"),
    ("staging", "stg_app__review_decisions"),
    ("staging", "stg_app__taxonomy_topics"),
    ("intermediate", "int_feedback_items_labelled"),
    ("intermediate", "int_feedback_topics_resolved"),
    ("intermediate", "int_members_versioned"),
    ("intermediate", "int_review_decisions_latest"),
    ("intermediate", "int_topics_catalogued"),
    ("marts", "fct_feedback"),
    ("marts", "fct_feedback_topics"),
    ("marts", "fct_renewal_outcomes"),
    ("marts", "dim_members"),
    ("marts", "dim_member_history"),
    ("marts", "dim_topics"),
    ("marts", "dim_segments"),
    ("staging", "chapter_names"),  # a seed
    ("marts", "agg_sentiment_daily"),
    ("marts", "agg_topic_sentiment_daily"),
    ("marts", "emerging_issues"),
    ("marts", "review_queue"),
}
# dbt tag `per_day`: the incremental model and every model upstream of it.
PER_DAY_MODELS = {
    ("staging", "stg_imis__feedback_items"),
    ("staging", "stg_imis__members"),
    ("staging", "stg_imis__member_history"),
    ("staging", "stg_enrichment__item_labels"),
    ("intermediate", "int_members_versioned"),
    ("intermediate", "int_feedback_items_labelled"),
}


def _asset_specs(definitions: dg.Definitions) -> dict[dg.AssetKey, dg.AssetSpec]:
    return {spec.key: spec for spec in definitions.resolve_all_asset_specs()}


def test_default_definitions_hold_the_whole_graph(definitions_env):
    definitions = defs()
    specs = _asset_specs(definitions)
    graph = definitions.resolve_asset_graph()
    materializable = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    ingest = {dg.AssetKey(["raw", "feedback_items", name]) for name in SANDBOX_SOURCES}
    expected = (
        ingest
        | {dg.AssetKey(["raw", "members"]), dg.AssetKey(["raw", "member_history"])}
        | {dg.AssetKey(["raw", "taxonomy_topics"]), dg.AssetKey(["raw", "review_decisions"])}
        | {dg.AssetKey(["enrichment", "label_cache"])}
        | {dg.AssetKey(["enriched", "item_labels"]), dg.AssetKey(["enriched", "item_topics"])}
        | {dg.AssetKey(list(model)) for model in DBT_MODELS}
        | {dg.AssetKey(["published", "marts"])}
    )
    assert expected <= materializable
    # dbt sources resolve to the Python assets, so nothing dangles except these known keys
    assert materializable - expected == set()

    assert {specs[k].group_name for k in ingest} == {"ingest"}
    assert specs[dg.AssetKey(["marts", "fct_feedback"])].group_name == "transform"
    assert specs[dg.AssetKey(["published", "marts"])].group_name == "publish"
    # lineage: staging of feedback items depends on every ingest asset, not on a phantom source
    staging_deps = {
        d.asset_key for d in specs[dg.AssetKey(["staging", "stg_imis__feedback_items"])].deps
    }
    assert staging_deps == ingest
    publish_deps = {d.asset_key for d in specs[dg.AssetKey(["published", "marts"])].deps}
    assert publish_deps == {dg.AssetKey(list(m)) for m in DBT_MODELS if m[0] == "marts"}
    assert {s.name for s in definitions.sensors} == {
        "live_tail_automation",
        "ingest_reconciliation",
        "emerging_issue_alerts",
        "run_failure_alerts",
        "asset_check_failure_alerts",
    }


def test_every_warehouse_writer_is_in_the_duckdb_pool_and_partitioned_assets_run_as_one(
    definitions_env,
):
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:
            continue
        assets_def = node.assets_def
        pools = {op.pool for op in assets_def.node_def.iterate_op_defs()}
        expected_pool = "llm" if key == dg.AssetKey(["enrichment", "label_cache"]) else "duckdb"
        assert pools == {expected_pool}, key
        if assets_def.partitions_def is not None:
            assert assets_def.backfill_policy == dg.BackfillPolicy.single_run(), key


def test_per_day_dbt_models_are_partitioned_and_the_rest_run_once_after_them(definitions_env):
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    dbt_keys = {dg.AssetKey(list(model)) for model in DBT_MODELS}
    per_day = {dg.AssetKey(list(model)) for model in PER_DAY_MODELS}
    enriched = graph.get(dg.AssetKey(["enriched", "item_labels"]))
    for key in dbt_keys:
        node = graph.get(key)
        label = node.automation_condition.get_label()
        if key in per_day:
            # the same days as enrichment, one run per range, following it on recent days
            assert node.partitions_def == enriched.partitions_def, key
            assert node.assets_def.backfill_policy == dg.BackfillPolicy.single_run(), key
            assert label == "eager on recent partitions", key
            assert node.assets_def.node_def.name == "member_pulse_dbt_per_day"
        else:
            assert node.partitions_def is None, key
            assert label == "eager", key
            assert node.assets_def.node_def.name == "member_pulse_dbt"
    # Every upstream of a per-day model is per-day (or not dbt): no unpartitioned dbt model sits
    # between two per-day ones, so the two dbt ops never form a cycle and a run holds both.
    for key in per_day:
        assert not (graph.get(key).parent_keys & dbt_keys) - per_day, key
    job = definitions.resolve_implicit_global_asset_job_def()
    assert {"member_pulse_dbt_per_day", "member_pulse_dbt"} <= set(job.graph.node_names())


def test_no_dbt_test_reads_models_of_both_dbt_sets(definitions_env):
    """A test reading a per-day and an unpartitioned model would run in one dbt op while its
    asset check belongs to the other (or before the model it reads is rebuilt)."""
    manifest = json.loads(dbt_project().manifest_path.read_text())
    per_day = {f"model.member_pulse.{name}" for _, name in PER_DAY_MODELS}
    assert {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and "per_day" in node["tags"]
    } == per_day
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] in {"test", "unit_test"}:
            models = {dep for dep in node["depends_on"]["nodes"] if dep.startswith("model.")}
            assert models <= per_day or not models & per_day, uid


def test_partitions_follow_the_configured_start_date_and_time_zone(definitions_env, monkeypatch):
    monkeypatch.setenv("PULSE_START_DATE", "2026-02-01")
    monkeypatch.setenv("IMIS_TIMEZONE", "America/Chicago")
    specs = _asset_specs(defs())
    partitions = specs[dg.AssetKey(["raw", "feedback_items", "survey_responses"])].partitions_def
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions.get_first_partition_key() == "2026-02-01"
    assert partitions.timezone == "America/Chicago"


def test_file_only_configuration_has_no_imis_assets(definitions_env, tmp_path, monkeypatch):
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - {name: pilot_survey, kind: file, path: survey.jsonl,\n"
        "     columns: {id: id, text: text, created_at: created_at}}\n"
    )
    monkeypatch.setenv("PULSE_SOURCES", str(sources))
    graph = defs().resolve_asset_graph()
    keys = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    assert dg.AssetKey(["raw", "feedback_items", "pilot_survey"]) in keys
    # members stay a dbt source (an empty table, "Unknown" segments) but nothing syncs them
    assert dg.AssetKey(["raw", "members"]) not in keys
    assert not any(
        k.path[:2] == ["raw", "feedback_items"] and k.path[2] in SANDBOX_SOURCES for k in keys
    )
    # nothing in iMIS to reconcile with
    assert "ingest_reconciliation" not in {s.name for s in defs().sensors}


def test_a_broken_sources_file_fails_loading_with_its_name(definitions_env, tmp_path, monkeypatch):
    sources = tmp_path / "broken.yaml"
    sources.write_text("sources:\n  - {name: x, kind: ftp}\n")
    monkeypatch.setenv("PULSE_SOURCES", str(sources))
    with pytest.raises(Exception) as excinfo:
        defs()
    chain, error = [], excinfo.value
    while error is not None:
        chain.append(str(error))
        error = error.__cause__
    assert any("broken.yaml" in message and "kind" in message for message in chain)


def test_dg_check_defs_passes(definitions_env):
    """The same check a data engineer runs: `dg check defs` loads the project from pyproject."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    venv = Path(sys.executable).parent.parent
    result = subprocess.run(
        [str(venv / "bin" / "dg"), "check", "defs"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "VIRTUAL_ENV": str(venv)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_dbt_tests_are_asset_checks_on_the_models_they_test(definitions_env):
    graph = defs().resolve_asset_graph()
    checks = {(key.asset_key.path[-1], key.name) for key in graph.asset_check_keys}
    assert ("fct_feedback", "unique_fct_feedback_item_id") in checks
    # singular tests reading several models are attached by their meta.dagster.ref
    assert ("fct_feedback_topics", "assert_topic_evidence_is_in_redacted_text") in checks
    assert (
        "agg_sentiment_daily",
        "assert_agg_sentiment_daily_reconciles_with_fct_feedback",
    ) in checks
    # Python checks written inside the assets that write the warehouse
    assert ("item_labels", "coverage") in checks
    assert ("survey_responses", "no_residual_pii") in checks
