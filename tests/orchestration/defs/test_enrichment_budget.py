"""The label-cache asset estimates a run's calls and cost before sending anything, and stops at
PULSE_MODEL_BUDGET_USD; under the budget it labels through the configured litellm model (the
fake OpenAI-compatible server on 127.0.0.1) and a second run costs nothing. Both enrichment
assets work through a window in chunks: the result does not depend on the chunk size."""

from __future__ import annotations

import json

import dagster as dg
import pytest

import orchestration.lib.warehouse as warehouse_module
from connectors.sources import load_sources
from orchestration.defs.enrichment.assets import LABEL_CACHE_KEY, build_enrichment_assets
from orchestration.defs.ingest.assets import build_ingest_asset, ingest_key
from orchestration.defs.resources import EnrichmentResource, PiiResource, WarehouseResource
from orchestration.lib.config import DEFAULT_TAXONOMY, DEFAULT_VOCABULARY
from orchestration.lib.enrichment.budget import estimate
from orchestration.lib.enrichment.builtin import BuiltinEnricher
from orchestration.lib.enrichment.schema import EnrichmentInput
from orchestration.lib.taxonomy import Taxonomy
from tests.fakes.fake_model_server import FakeModelServer

pytestmark = pytest.mark.filterwarnings("ignore:Item 'summary' on TypedDict:UserWarning")
DAY = "2026-05-02"
MODEL = "openai/gpt-4o-mini"  # priced in litellm's local cost map
TEXTS = [f"Item {i}: the renewal form failed and support never called back." for i in range(20)]


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    rows = [
        {"id": f"s{i}", "text": t, "channel": "email", "created_at": f"{DAY}T10:00:00"}
        for i, t in enumerate(TEXTS)
    ]
    (tmp_path / "export.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {name: pilot, kind: file, path: export.jsonl,\n"
        "     columns: {id: id, text: text, channel: channel, created_at: created_at}}\n"
    )
    partitions = dg.DailyPartitionsDefinition(start_date="2026-05-01")
    ingest = build_ingest_asset(load_sources(sources).sources[0], partitions)
    assets = [ingest, *build_enrichment_assets(partitions, [ingest_key("pilot")], "v", 0.5)]
    home = str(tmp_path / "home")

    def run(
        api_base: str | None, budget: float | None, model: str = MODEL
    ) -> dg.ExecuteInProcessResult:
        resources = {
            "warehouse": WarehouseResource(pulse_home=home),
            "pii": PiiResource(pulse_home=home, hmac_secret="t", vocabulary_file=str(DEFAULT_VOCABULARY)),
            "enrichment": EnrichmentResource(
                pulse_home=home, taxonomy_file=str(DEFAULT_TAXONOMY), model=model,
                api_base=api_base, budget_usd=budget,
            ),
        }  # fmt: skip
        return dg.materialize(assets, resources=resources, partition_key=DAY, raise_on_error=False)

    run.warehouse = WarehouseResource(pulse_home=home).get()
    return run


def _labels_and_topics(warehouse) -> tuple[list, list]:
    with warehouse.connect(read_only=True) as con:
        labels = con.execute(
            "select * exclude (enriched_at) from enriched.item_labels order by item_id"
        ).fetchall()
        topics = con.execute(
            "select * from enriched.item_topics order by item_id, topic_key, proposed_label"
        ).fetchall()
    return labels, topics


def _label_cache_metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key == LABEL_CACHE_KEY
    ]
    return {k: v.value for k, v in event.metadata.items()}


def test_a_run_over_budget_stops_before_any_call(pipeline):
    with FakeModelServer() as server:
        result = pipeline(server.api_base, budget=0.0001)
        assert server.requests == []  # nothing was sent
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.message
    assert "PULSE_MODEL_BUDGET_USD" in message and "Nothing was sent" in message


def test_under_budget_labels_through_the_model_then_costs_nothing(pipeline):
    with FakeModelServer() as server:
        first = pipeline(server.api_base, budget=5.0)
        assert first.success
        meta = _label_cache_metadata(first)
        assert meta["items"] == len(TEXTS) and meta["failures_to_review"] == 0
        assert meta["preflight_estimated_calls"] == 3  # 20 items, 8 per call
        assert meta["model_calls"] == len(server.requests) <= 4
        second = pipeline(server.api_base, budget=5.0)
        assert _label_cache_metadata(second)["preflight_estimated_calls"] == 0
        assert len(server.requests) == meta["model_calls"]  # the cache answered everything


def test_chunked_preflight_still_stops_over_budget(pipeline, monkeypatch, tmp_path):
    """Chunk estimates add up: a budget one chunk fits in but the window does not is refused."""
    monkeypatch.setattr(warehouse_module, "SPOOL_BATCH_ROWS", 4)
    with FakeModelServer() as server:
        enricher = EnrichmentResource(
            pulse_home=str(tmp_path), taxonomy_file=str(DEFAULT_TAXONOMY), model=MODEL,
            api_base=server.api_base,
        ).enricher()  # fmt: skip
        chunk = [EnrichmentInput.from_text(f"s:{i}", t, "email") for i, t in enumerate(TEXTS[:4])]
        one_chunk = estimate(enricher, chunk).cost_usd
        result = pipeline(server.api_base, budget=one_chunk * 1.5)
        assert server.requests == []
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "PULSE_MODEL_BUDGET_USD" in failure.step_failure_data.error.message


def test_a_window_labelled_in_chunks_equals_one_chunk(pipeline, monkeypatch):
    whole = pipeline(None, budget=None, model="builtin")
    assert whole.success
    labels, topics = _labels_and_topics(pipeline.warehouse)
    assert len(labels) == len(TEXTS) and topics

    monkeypatch.setattr(warehouse_module, "SPOOL_BATCH_ROWS", 3)  # 20 items: 7 chunks
    chunked = pipeline(None, budget=None, model="builtin")
    assert chunked.success
    assert _labels_and_topics(pipeline.warehouse) == (labels, topics)
    meta = _label_cache_metadata(chunked)
    assert (meta["items"], meta["cache_hits"]) == (len(TEXTS), len(TEXTS))
    [coverage] = [c for c in chunked.get_asset_check_evaluations() if c.check_name == "coverage"]
    assert coverage.passed and coverage.metadata["items_ingested"].value == len(TEXTS)


def test_builtin_estimate_is_free():
    taxonomy = Taxonomy.load(DEFAULT_TAXONOMY)
    items = [EnrichmentInput.from_text(f"s:{i}", t, "email") for i, t in enumerate(TEXTS)]
    run = estimate(BuiltinEnricher(taxonomy), items)
    assert (run.calls, run.cost_usd) == (0, 0.0)
