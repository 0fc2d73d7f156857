"""A new prompt version marks enrichment stale in Dagster, and re-enriching sends to the model
only the items whose cache key (text hash, model, prompt, taxonomy) changed; an item whose date
was edited at the source moves, labels and topics, to its new day."""

from __future__ import annotations

import json

import dagster as dg
import pytest
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest

from connectors.sources import load_sources
from orchestration.defs.enrichment import assets as enrichment_assets
from orchestration.defs.enrichment.assets import LABEL_CACHE_KEY, build_enrichment_assets
from orchestration.defs.ingest.assets import build_ingest_asset, ingest_key
from orchestration.defs.resources import EnrichmentResource, PiiResource, WarehouseResource
from orchestration.lib.config import DEFAULT_TAXONOMY, DEFAULT_VOCABULARY
from orchestration.lib.enrichment import builtin

DAY = "2026-05-02"
TEXTS = [
    "The keynote was inspiring and the sessions were practical.",
    "Registration took forever and nobody answered the help line.",
    "Too expensive this year; I may not renew my membership.",
    "The journal arrived late again.",
]


def _write_export(path, texts):
    rows = [
        {"id": f"s{i}", "text": t, "channel": "survey", "created_at": f"{DAY}T09:00:00"}
        for i, t in enumerate(texts)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


@pytest.fixture
def setup(tmp_path):
    export = tmp_path / "survey.jsonl"
    _write_export(export, TEXTS)
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text(
        "sources:\n  - {name: pilot, kind: file, path: survey.jsonl,\n"
        "     columns: {id: id, text: text, channel: channel, created_at: created_at}}\n"
    )
    source = load_sources(sources_file).sources[0]
    partitions = dg.DailyPartitionsDefinition(start_date="2026-05-01")
    home = str(tmp_path / "home")
    resources = {
        "warehouse": WarehouseResource(pulse_home=home),
        "pii": PiiResource(
            pulse_home=home, hmac_secret="test", vocabulary_file=str(DEFAULT_VOCABULARY)
        ),
        "enrichment": EnrichmentResource(pulse_home=home, taxonomy_file=str(DEFAULT_TAXONOMY)),
    }
    ingest = build_ingest_asset(source, partitions)

    def assets(prompt_version: str) -> list[dg.AssetsDefinition]:
        return [ingest, *build_enrichment_assets(
            partitions, [ingest_key("pilot")], f"builtin|{prompt_version}|t", 0.05
        )]  # fmt: skip

    return {"export": export, "assets": assets, "resources": resources}


def _status(instance: dg.DagsterInstance, assets, resources) -> StaleStatus:
    """What the Dagster UI shows for the label cache's partition (the resolver it uses)."""
    graph = dg.Definitions(assets=assets, resources=resources).resolve_asset_graph()
    resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
    return resolver.get_status(LABEL_CACHE_KEY, DAY)


def _sent(result: dg.ExecuteInProcessResult) -> int:
    [event] = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key == LABEL_CACHE_KEY
    ]
    return event.metadata["items_sent"].value


def test_prompt_change_marks_enrichment_stale_and_resends_only_changed_keys(setup, monkeypatch):
    instance = dg.DagsterInstance.ephemeral()
    old = setup["assets"](builtin.PROMPT_VERSION)
    first = dg.materialize(old, resources=setup["resources"], partition_key=DAY, instance=instance)
    assert _sent(first) == len(TEXTS)

    assert _status(instance, old, setup["resources"]) == StaleStatus.FRESH

    new_version = builtin.PROMPT_VERSION + "-next"
    monkeypatch.setattr(builtin, "PROMPT_VERSION", new_version)
    monkeypatch.setattr(enrichment_assets, "PROMPT_VERSION", new_version)
    new = setup["assets"](new_version)
    assert (
        _status(instance, new, setup["resources"]) == StaleStatus.STALE
    )  # the UI shows "code version changed"

    # The explicit re-run: every key changed (new prompt), so every item is sent once...
    rerun = dg.materialize(new, resources=setup["resources"], partition_key=DAY, instance=instance)
    assert _sent(rerun) == len(TEXTS)
    # ...then only the item whose text changed is sent; the others come from the cache.
    _write_export(setup["export"], [*TEXTS[:-1], "The journal arrived on time, thank you."])
    edited = dg.materialize(new, resources=setup["resources"], partition_key=DAY, instance=instance)
    assert _sent(edited) == 1
    again = dg.materialize(new, resources=setup["resources"], partition_key=DAY, instance=instance)
    assert _sent(again) == 0


def test_an_item_whose_date_was_edited_moves_with_its_labels_and_topics(setup):
    assets = setup["assets"](builtin.PROMPT_VERSION)
    resources = setup["resources"]
    assert dg.materialize(assets, resources=resources, partition_key=DAY).success
    # The source re-dates item s2 to the next day; that day runs while DAY still files it.
    next_day = "2026-05-03"
    rows = [
        {"id": f"s{i}", "text": t, "channel": "survey",
         "created_at": f"{next_day if i == 2 else DAY}T09:00:00"}
        for i, t in enumerate(TEXTS)
    ]  # fmt: skip
    setup["export"].write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert dg.materialize(assets, resources=resources, partition_key=next_day).success

    with resources["warehouse"].get().connect() as con:
        labels = con.execute(
            "select cast(created_date as varchar), count(*) from enriched.item_labels "
            "where item_id = 'pilot:s2' group by 1"
        ).fetchall()
        topic_days = con.execute(
            "select distinct cast(created_date as varchar) from enriched.item_topics "
            "where item_id = 'pilot:s2'"
        ).fetchall()
    assert labels == [(next_day, 1)]
    assert topic_days == [(next_day,)]
