"""Reference assets copy the taxonomy and the reviewers' decisions into the warehouse."""

import dagster as dg
import duckdb

from orchestration.defs.ingest.reference import review_decisions, taxonomy_topics
from orchestration.defs.resources import EnrichmentResource, WarehouseResource
from orchestration.lib.app_state import AppState, Decision
from orchestration.lib.config import DEFAULT_TAXONOMY, Paths


def test_review_decisions_and_taxonomy_reach_the_warehouse(tmp_path):
    paths = Paths(tmp_path)
    AppState(paths.app_state).record(
        Decision(item_id="s:1", decided_by="ana", case_action="approve")
    )
    resources = {
        "warehouse": WarehouseResource(pulse_home=str(tmp_path)),
        "enrichment": EnrichmentResource(
            pulse_home=str(tmp_path), taxonomy_file=str(DEFAULT_TAXONOMY)
        ),
    }
    for _ in range(2):  # re-running replaces, never duplicates
        result = dg.materialize([review_decisions, taxonomy_topics], resources=resources)
        assert result.success
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.execute("select item_id, case_action from raw.review_decisions").fetchall() == [
            ("s:1", "approve")
        ]
        topics = con.execute(
            "select count(*), count(distinct taxonomy_version) from raw.taxonomy_topics"
        ).fetchall()
    assert topics == [(18, 1)]
