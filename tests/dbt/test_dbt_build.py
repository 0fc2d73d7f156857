"""`dbt build` on a seeded warehouse: models, data tests and unit tests pass, and the marts hold
what the raw tables say they should (row counts, failed items kept, NSS computed by hand)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from tests.warehouse_fixtures import UNKNOWN_MEMBER_ID, run_dbt, seed_warehouse

N_ITEMS = 80


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("pulse_home")
    counts = seed_warehouse(home / "warehouse.duckdb", n_items=N_ITEMS, seed=7)
    started = time.monotonic()
    result = run_dbt(home, "build")
    return {
        "home": home,
        "counts": counts,
        "result": result,
        "seconds": time.monotonic() - started,
    }


@pytest.fixture
def con(built: dict):
    assert built["result"].returncode == 0, built["result"].stdout[-4000:]
    connection = duckdb.connect(str(built["home"] / "warehouse.duckdb"), read_only=True)
    yield connection
    connection.close()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchone()[0]


def test_dbt_build_passes_models_data_tests_and_unit_tests(built: dict) -> None:
    result = built["result"]
    assert result.returncode == 0, result.stdout[-4000:]
    summary = next(line for line in result.stdout.splitlines() if "Done. PASS=" in line)
    assert "ERROR=0" in summary
    assert "unit_test" in result.stdout  # the NSS unit tests ran
    assert built["seconds"] < 60, f"dbt build took {built['seconds']:.1f} s"


def test_marts_schema_holds_exactly_the_marts(con: duckdb.DuckDBPyConnection) -> None:
    tables = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    assert tables == {"fct_feedback", "fct_feedback_topics", "dim_members", "agg_sentiment_daily"}
    # Staging and intermediate live in their own schemas (generate_schema_name uses them as-is).
    schemas = {
        row[0]
        for row in con.execute("select schema_name from information_schema.schemata").fetchall()
    }
    assert {"staging", "intermediate", "marts"} <= schemas


def test_fct_feedback_has_one_row_per_item_and_keeps_failed_items(
    con: duckdb.DuckDBPyConnection,
) -> None:
    raw_items = _scalar(con, "select count(*) from raw.feedback_items")
    assert raw_items == N_ITEMS
    assert _scalar(con, "select count(*) from marts.fct_feedback") == raw_items
    assert _scalar(con, "select count(distinct item_id) from marts.fct_feedback") == raw_items

    raw_failed = _scalar(con, "select count(*) from enriched.item_labels where status = 'failed'")
    assert raw_failed > 0
    failed = con.execute(
        "select count(*), count(failure_reason), count(sentiment_label) "
        "from marts.fct_feedback where enrichment_status = 'failed'"
    ).fetchone()
    assert failed == (raw_failed, raw_failed, 0)

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
        "select distinct member_tier, member_chapter from marts.fct_feedback "
        "where member_id is null or member_id = ?",
        [UNKNOWN_MEMBER_ID],
    ).fetchall()
    assert rows == [("Unknown", "Unknown")]
    # The member with no attributes at all reads 'Unknown' in the dimension too.
    assert con.execute(
        "select tier, chapter, status, tenure_band from marts.dim_members where member_id = 'M0021'"
    ).fetchone() == ("Unknown", "Unknown", "Unknown", "Unknown")


def test_topics_are_reported_only_for_labelled_items(con: duckdb.DuckDBPyConnection) -> None:
    expected = _scalar(
        con,
        "select count(*) from enriched.item_topics t "
        "join enriched.item_labels l on l.item_id = t.item_id where l.status = 'ok'",
    )
    assert _scalar(con, "select count(*) from marts.fct_feedback_topics") == expected
    assert _scalar(
        con, "select count(*) from marts.fct_feedback_topics where is_proposed"
    ) == _scalar(con, "select count(*) from enriched.item_topics where topic_key like 'proposed:%'")


def _hand_computed_slices(con: duckdb.DuckDBPyConnection) -> dict[tuple, dict]:
    """Every agg_sentiment_daily slice recomputed in Python from the raw tables alone."""
    members = {
        member_id: (tier or "Unknown", chapter or "Unknown")
        for member_id, tier, chapter in con.execute(
            "select member_id, tier, chapter from raw.members"
        ).fetchall()
    }
    labels = {
        item_id: (status, sentiment, urgency, topic, confidence)
        for item_id, status, sentiment, urgency, topic, confidence in con.execute(
            "select item_id, status, sentiment_label, urgency_level, primary_topic, "
            "sentiment_confidence from enriched.item_labels"
        ).fetchall()
    }
    slices: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    for item_id, created_date, channel, member_id in con.execute(
        "select item_id, created_date, channel, member_id from raw.feedback_items"
    ).fetchall():
        status, sentiment, urgency, topic, _ = labels.get(item_id, ("pending",) + (None,) * 4)
        ok = status == "ok"
        tier, chapter = members.get(member_id, ("Unknown", "Unknown"))
        key = (created_date, channel, (topic if ok else None) or "none", tier, chapter)
        counts = slices[key]
        counts["item_count"] += 1
        if ok:
            counts[f"{sentiment}_count"] += 1
            counts["high_urgency_count"] += urgency == "high"
        counts[f"{status}_count"] += 1
    return slices


def test_net_sentiment_score_matches_a_hand_computation(con: duckdb.DuckDBPyConnection) -> None:
    expected = _hand_computed_slices(con)
    rows = con.execute(
        "select created_date, channel, primary_topic, member_tier, member_chapter, item_count, "
        "positive_count, neutral_count, negative_count, failed_count, pending_count, "
        "high_urgency_count, net_sentiment_score from marts.agg_sentiment_daily"
    ).fetchall()
    assert len(rows) == len(expected)
    for *key, items, pos, neu, neg, failed, pending, high, nss in rows:
        want = expected[tuple(key)]
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
        ((k, v) for k, v in expected.items() if v["positive_count"] + v["negative_count"]),
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
    result = run_dbt(home, "run", "--select", "marts")
    assert result.returncode == 0, result.stdout[-4000:]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        assert _scalar(con, "select count(*) from marts.fct_feedback") == N_ITEMS
        assert _scalar(con, "select sum(item_count) from marts.agg_sentiment_daily") == N_ITEMS


def test_every_model_states_its_grain_and_documents_exactly_its_columns(
    built: dict, con: duckdb.DuckDBPyConnection
) -> None:
    manifest = json.loads((built["home"] / "dbt_target" / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) == 9
    for model in models:
        name = model["name"]
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
        "enriched.item_labels": ["enriched", "item_labels"],
        "enriched.item_topics": ["enriched", "item_topics"],
    }
    exposures = list(manifest["exposures"].values())
    assert [e["name"] for e in exposures] == ["member_pulse_dashboard"]
