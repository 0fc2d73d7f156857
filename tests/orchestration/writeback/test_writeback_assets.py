"""The write-back assets in Dagster: loaded only when enabled, pooled as DESIGN rule 3 asks,
materialized against the sandbox with metadata a data engineer can read."""

from __future__ import annotations

import dagster as dg
import yaml

from orchestration.defs.resources import WarehouseResource
from orchestration.defs.writeback.assets import WritebackResource, build_writeback_assets
from orchestration.lib.app_state import AppState, Decision
from orchestration.lib.writeback import load_writeback_config
from tests.orchestration.writeback.helpers import (
    START,
    activities,
    build_warehouse,
    eligible,
    make_items,
    sentiment_rows,
)

SENTIMENT = dg.AssetKey(["writeback", "sentiment_log"])
CASES = dg.AssetKey(["writeback", "follow_up_cases"])
ITEMS = dg.AssetKey(["writeback", "items"])


def test_write_back_is_absent_unless_enabled_and_pooled_when_it_is(definitions_env, monkeypatch):
    from orchestration.definitions import defs
    from orchestration.defs.writeback.assets import writeback_defs

    monkeypatch.delenv("PULSE_WRITEBACK_ENABLED", raising=False)
    monkeypatch.delenv("PULSE_WRITEBACK_CONFIG", raising=False)
    assert not writeback_defs().assets  # the shipped configuration: off

    monkeypatch.setenv("PULSE_WRITEBACK_ENABLED", "1")
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    specs = {s.key: s for s in definitions.resolve_all_asset_specs()}
    writeback = {k for k in graph.get_all_asset_keys() if k.path[0] == "writeback"}
    assert writeback == {ITEMS, SENTIMENT, CASES}
    for key in writeback:
        pools = {op.pool for op in graph.get(key).assets_def.node_def.iterate_op_defs()}
        assert pools == ({"duckdb"} if key == ITEMS else {"imis"}), key
        assert specs[key].group_name == "writeback" and specs[key].owners and specs[key].kinds
    assert {d.asset_key for d in specs[ITEMS].deps} == {dg.AssetKey(["published", "marts"])}
    assert {d.asset_key for d in specs[SENTIMENT].deps} == {ITEMS}


def _setup(tmp_path, sandbox, source, **overrides):
    home = tmp_path / "home"
    home.mkdir()
    items = make_items(source)
    build_warehouse(home / "warehouse.duckdb", items)
    config_file = tmp_path / "writeback.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {"enabled": True, "start_date": START.isoformat(), "min_interval_s": 0, **overrides}
        )
    )
    config = load_writeback_config({"PULSE_WRITEBACK_CONFIG": str(config_file)})
    resources = {
        "warehouse": WarehouseResource(pulse_home=str(home), memory_limit="256MB", threads=1),
        "writeback": WritebackResource(
            base_url=sandbox.url,
            username="pulse",
            password="pulse-sandbox",
            pulse_home=str(home),
            config_file=str(config_file),
            timezone="UTC",
            pipeline_start_date="2025-01-01",
            app_url="http://127.0.0.1:8501",
        ),
    }
    return home, items, build_writeback_assets(config), resources


def _metadata(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_materialize_writes_back_once_and_reports_counts(tmp_path, sandbox, client, source):
    home, items, assets, resources = _setup(tmp_path, sandbox, source)
    AppState(home / "app_state.sqlite").record(
        Decision(
            item_id=next(i.item_id for i in eligible(items) if i.is_negative_high_urgency),
            decided_by="ana",
            case_action="approve",
        )
    )
    first = dg.materialize(assets, resources=resources)
    assert first.success
    assert _metadata(first, ITEMS)["items"] == len(items) - 1  # before the start date: not read
    meta = _metadata(first, SENTIMENT)
    assert (meta["rows_written"], meta["rows_skipped"], meta["rows_failed"]) == (12, 2, 0)
    assert meta["dry_run"] is False and meta["target"] == "Sentiment_Log"
    assert _metadata(first, CASES)["rows_written"] == 1
    checks = {c.asset_key: c.passed for c in first.get_asset_check_evaluations()}
    assert checks == {SENTIMENT: True, CASES: True}

    second = dg.materialize(assets, resources=resources)
    meta = _metadata(second, SENTIMENT)
    assert (meta["rows_written"], meta["rows_updated"], meta["rows_unchanged"]) == (0, 0, 12)
    assert _metadata(second, CASES)["rows_written"] == 0
    assert sentiment_rows(client, source) == {
        (i.member_id, i.source_key): 1 for i in eligible(items)
    }
    assert sum(activities(client, "FEEDBACK_FU", source).values()) == 1


def test_dry_run_materialization_writes_nothing_and_shows_what_it_would(
    tmp_path, sandbox, client, source
):
    _, _, assets, resources = _setup(tmp_path, sandbox, source, dry_run=True)
    result = dg.materialize(assets, resources=resources)
    meta = _metadata(result, SENTIMENT)
    assert meta["dry_run"] is True and meta["rows_written"] == 0 and meta["would_write"] == 12
    preview = meta["would_write_preview"]
    assert preview[0]["target"] == "Sentiment_Log" and preview[0]["key"]["SourceEntity"] == source
    assert sentiment_rows(client, source) == {}


def test_a_missing_panel_source_fails_the_asset_with_its_name(tmp_path, sandbox, source):
    _, _, assets, resources = _setup(
        tmp_path, sandbox, source, sentiment_log={"panel_source": "XYZ_Sentiment_Log"}
    )
    result = dg.materialize(assets, resources=resources, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "panel source 'XYZ_Sentiment_Log' not found" in str(failure.event_specific_data.error)
