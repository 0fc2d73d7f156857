"""`dbt build` on a seeded warehouse: models, data tests and unit tests pass, and the marts hold
what the raw tables say they should (row counts, failed items kept, NSS computed by hand)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from tests.dbt import expected
from tests.warehouse_fixtures import DBT_PROJECT_DIR, UNKNOWN_MEMBER_ID, run_dbt

MARTS = {
    "fct_feedback",
    "fct_feedback_topics",
    "dim_members",
    "dim_member_history",
    "dim_topics",
    "dim_segments",
    "agg_sentiment_daily",
    "agg_topic_sentiment_daily",
    "emerging_issues",
    "review_queue",
    "fct_renewal_outcomes",
}
UNIT_TESTS = {
    "int_review_decisions_latest_override_of_an_override_wins",
    "int_feedback_items_labelled_segments_items_at_the_time",
    "int_feedback_items_labelled_builds_only_the_window_when_incremental",
    "fct_feedback_final_labels_override_the_model_and_keep_both",
    "agg_sentiment_daily_net_sentiment_score",
    "emerging_issues_flags_a_negative_spike_and_not_a_quiet_series",
    "emerging_issues_does_not_flag_a_volume_surge_with_the_usual_share_of_complaints",
    "emerging_issues_flags_a_sustained_rise_in_its_second_week_and_not_after_it",
    "emerging_issues_does_not_trust_a_cold_baseline",
    "emerging_issues_is_empty_without_topic_mentions",
    "review_queue_queues_urgent_negatives_then_low_confidence_then_failures",
    "fct_renewal_outcomes_window_sentiment_and_outcome",
}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchone()[0]


def _raw_items(con: duckdb.DuckDBPyConnection) -> int:
    return _scalar(con, "select count(*) from raw.feedback_items")


def test_dbt_build_passes_models_data_tests_and_unit_tests(built: dict) -> None:
    result = built["result"]
    assert result.returncode == 0, result.stdout[-4000:]
    log = _ANSI.sub("", result.stdout)
    summary = next(line for line in log.splitlines() if "Done. PASS=" in line)
    assert "ERROR=0" in summary
    passed_unit_tests = set(re.findall(r"PASS \w+::(\w+)", log))
    assert passed_unit_tests == UNIT_TESTS
    # The only warning allowed is the documented one: items from members not in raw.members.
    warned = re.findall(r"\d+ of \d+ WARN \d+ (\S+)", log)
    assert warned == ["relationships_fct_feedback_member_id__member_id__ref_dim_members_"]


def test_marts_schema_holds_exactly_the_marts(con: duckdb.DuckDBPyConnection) -> None:
    tables = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    assert tables == MARTS
    # Staging and intermediate live in their own schemas (generate_schema_name uses them as-is).
    schemas = {
        row[0]
        for row in con.execute("select schema_name from information_schema.schemata").fetchall()
    }
    assert {"staging", "intermediate", "marts"} <= schemas


def test_fct_feedback_has_one_row_per_item_and_keeps_failed_items(
    con: duckdb.DuckDBPyConnection, built: dict
) -> None:
    raw_items = _raw_items(con)
    assert raw_items == built["counts"]["feedback_items"] + built["scenarios"]["items_added"]
    assert _scalar(con, "select count(*) from marts.fct_feedback") == raw_items
    assert _scalar(con, "select count(distinct item_id) from marts.fct_feedback") == raw_items

    raw_failed = _scalar(con, "select count(*) from enriched.item_labels where status = 'failed'")
    assert raw_failed > 1
    failed = con.execute(
        "select count(*), count(failure_reason), count(model_sentiment_label) "
        "from marts.fct_feedback where enrichment_status = 'failed'"
    ).fetchone()
    assert failed == (raw_failed, raw_failed, 0)
    # Only the failed item a reviewer labelled has a (human) sentiment.
    assert con.execute(
        "select item_id from marts.fct_feedback "
        "where enrichment_status = 'failed' and sentiment_label is not null"
    ).fetchall() == [(built["scenarios"]["failed_reviewed"],)]

    unlabelled = _scalar(
        con,
        "select count(*) from raw.feedback_items i "
        "where not exists (select 1 from enriched.item_labels l where l.item_id = i.item_id)",
    )
    assert unlabelled > 0
    assert (
        _scalar(con, "select count(*) from marts.fct_feedback where enrichment_status = 'pending'")
        == unlabelled
    )


def test_items_without_a_known_member_are_segmented_as_unknown(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows = con.execute(
        "select distinct member_tier, member_chapter, member_tenure_band, member_renewal_window "
        "from marts.fct_feedback where member_id is null or member_id = ?",
        [UNKNOWN_MEMBER_ID],
    ).fetchall()
    assert rows == [("Unknown", "Unknown", "Unknown", "Unknown")]
    # The member with no attributes at all reads 'Unknown' in the dimension too.
    assert con.execute(
        "select tier, chapter, status, tenure_band from marts.dim_members where member_id = 'M0021'"
    ).fetchone() == ("Unknown", "Unknown", "Unknown", "Unknown")


def test_topics_are_the_model_topics_of_labelled_items_or_the_corrected_list(
    con: duckdb.DuckDBPyConnection, built: dict
) -> None:
    by_id = expected.items(con)
    want = sorted((i.item_id, t) for i in by_id.values() for t in i.topics)
    got = con.execute(
        "select item_id, topic_key from marts.fct_feedback_topics order by 1, 2"
    ).fetchall()
    assert got == want
    assert not any(by_id[item_id].status == "pending" for item_id, _ in got)
    assert _scalar(
        con, "select count(*) from marts.fct_feedback_topics where is_proposed"
    ) == _scalar(con, "select count(*) from enriched.item_topics where topic_key like 'proposed:%'")
    # The corrected item carries exactly the reviewer's list, flagged as corrected.
    corrected = built["scenarios"]["topics_corrected"]
    assert con.execute(
        "select topic_key, is_corrected from marts.fct_feedback_topics where item_id = ?",
        [corrected],
    ).fetchall() == [("certification", True)]


def test_net_sentiment_score_matches_a_hand_computation(con: duckdb.DuckDBPyConnection) -> None:
    want_slices = expected.sentiment_slices(expected.items(con))
    rows = con.execute(
        "select created_date, channel, primary_topic, member_tier, member_chapter, item_count, "
        "positive_count, neutral_count, negative_count, failed_count, pending_count, "
        "high_urgency_count, net_sentiment_score from marts.agg_sentiment_daily"
    ).fetchall()
    assert len(rows) == len(want_slices)
    for *key, items, pos, neu, neg, failed, pending, high, nss in rows:
        want = want_slices[tuple(key)]
        assert (items, pos, neu, neg, failed, pending, high) == (
            want["item_count"],
            want["positive_count"],
            want["neutral_count"],
            want["negative_count"],
            want["failed_count"],
            want["pending_count"],
            want["high_urgency_count"],
        ), key
        labelled = pos + neu + neg
        if labelled == 0:
            assert nss is None, key
        else:
            assert nss == pytest.approx(round(100 * (pos - neg) / labelled, 2)), key

    # One slice spelled out: the busiest slice with labelled items, recomputed from its counts.
    key, counts = max(
        ((k, v) for k, v in want_slices.items() if v["positive_count"] + v["negative_count"]),
        key=lambda kv: (kv[1]["item_count"], str(kv[0])),
    )
    pos, neu, neg = counts["positive_count"], counts["neutral_count"], counts["negative_count"]
    nss = _scalar(
        con,
        "select net_sentiment_score from marts.agg_sentiment_daily where created_date = ? "
        "and channel = ? and primary_topic = ? and member_tier = ? and member_chapter = ?",
        list(key),
    )
    assert nss == pytest.approx(round(100.0 * (pos - neg) / (pos + neu + neg), 2))


def test_slices_without_labelled_items_have_no_score(con: duckdb.DuckDBPyConnection) -> None:
    # Failed and pending items have no primary topic, so they land in 'none' slices.
    rows = con.execute(
        "select labelled_count, net_sentiment_score, avg_confidence "
        "from marts.agg_sentiment_daily where labelled_count = 0"
    ).fetchall()
    assert rows, "the fixture should produce at least one slice with no labelled item"
    assert all(nss is None and conf is None for _, nss, conf in rows)


def test_rebuild_is_idempotent(built: dict) -> None:
    home: Path = built["home"]
    assert built["result"].returncode == 0
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        raw_items = _raw_items(con)
        before = con.execute(
            "select * exclude (refreshed_at) from marts.agg_sentiment_daily order by all"
        ).fetchall()
    result = run_dbt(home, "run", "--select", "marts")
    assert result.returncode == 0, result.stdout[-4000:]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert _scalar(con, "select count(*) from marts.fct_feedback") == raw_items
        assert _scalar(con, "select sum(item_count) from marts.agg_sentiment_daily") == raw_items
        assert con.execute(
            "select * exclude (refreshed_at) from marts.agg_sentiment_daily order by all"
        ).fetchall() == (before)


def test_every_model_states_its_grain_and_documents_exactly_its_columns(
    built: dict, con: duckdb.DuckDBPyConnection
) -> None:
    manifest = json.loads((built["home"] / "dbt_target" / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    on_disk = {path.stem for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")}
    assert {m["name"] for m in models} == on_disk
    assert on_disk >= MARTS
    for model in models:
        name = model["name"]
        # Layered: staging in staging, intermediate in intermediate, marts in marts.
        layer = model["fqn"][1]
        assert model["schema"] == layer, f"{name}: in schema {model['schema']}, layer {layer}"
        assert "grain" in model["description"].lower(), f"{name}: description states no grain"
        documented = {col: props["description"] for col, props in model["columns"].items()}
        assert all(documented.values()), f"{name}: a column has no description"
        actual = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [model["schema"], name],
            ).fetchall()
        }
        assert set(documented) == actual, f"{name}: documented columns differ from the relation"


def test_every_mart_has_a_primary_key_test(built: dict) -> None:
    manifest = json.loads((built["home"] / "dbt_target" / "manifest.json").read_text())
    tested: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or "test_metadata" not in node:
            continue
        model = node["attached_node"].split(".")[-1] if node.get("attached_node") else None
        tested.setdefault(model, set()).add(node["test_metadata"]["name"])
    for mart in MARTS:
        assert tested.get(mart, set()) & {"unique", "unique_combination_of_columns"}, mart


def test_sources_carry_the_dagster_asset_keys(built: dict) -> None:
    manifest = json.loads((built["home"] / "dbt_target" / "manifest.json").read_text())
    keys = {
        f"{source['schema']}.{source['name']}": source["config"]["meta"]["dagster"]["asset_key"]
        for source in manifest["sources"].values()
    }
    assert keys == {
        "raw.feedback_items": ["raw", "feedback_items"],
        "raw.ingest_problems": ["raw", "ingest_problems"],
        "raw.members": ["raw", "members"],
        "raw.member_history": ["raw", "member_history"],
        "raw.review_decisions": ["raw", "review_decisions"],
        "raw.taxonomy_topics": ["raw", "taxonomy_topics"],
        "enriched.item_labels": ["enriched", "item_labels"],
        "enriched.item_topics": ["enriched", "item_topics"],
    }
    exposures = list(manifest["exposures"].values())
    assert [e["name"] for e in exposures] == ["member_pulse_dashboard"]
