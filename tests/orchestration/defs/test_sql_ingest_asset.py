"""A `kind: sql` source (on-premise iMIS database) becomes a daily ingest asset like any other:
it reads its window, redacts in flight, and replaces exactly that day in raw.feedback_items."""

from __future__ import annotations

import sqlite3

import dagster as dg
import duckdb

from connectors.sources import SqlSource
from orchestration.defs.ingest.assets import build_ingest_asset
from orchestration.defs.resources import PiiResource, WarehouseResource
from orchestration.lib.config import DEFAULT_VOCABULARY, Paths

SOURCE = {
    "kind": "sql",
    "name": "onprem_notes",
    "channel": "case",
    "url_env": "PULSE_TEST_SQL_URL",
    "query": "SELECT SEQN, ID, TRANSACTION_DATE, NOTE FROM Activity "
    "WHERE TRANSACTION_DATE >= :watermark_start AND TRANSACTION_DATE < :watermark_end",
    "columns": {"key": ["SEQN"], "text": ["NOTE"], "created_at": "TRANSACTION_DATE",
                "member_id": "ID"},
}  # fmt: skip
ROWS = [
    (1, "100201", "2026-04-02 09:15:00", "Call me at 555-201-3344, the renewal page fails."),
    (2, "100202", "2026-04-02 17:40:00", "Great webinar on advocacy, thanks!"),
    (3, "100203", "2026-04-03 08:00:00", "Next day: must not land in the 2026-04-02 window."),
    (4, "100204", "2026-04-02 12:00:00", "   "),  # empty text: reported, never stored
]


def _source_db(tmp_path, monkeypatch):
    """The on-premise database with ROWS, the source's ingest asset, and its resources."""
    db = tmp_path / "imis.sqlite"
    with sqlite3.connect(db) as con:
        con.execute(
            "CREATE TABLE Activity (SEQN INTEGER, ID TEXT, TRANSACTION_DATE TEXT, NOTE TEXT)"
        )
        con.executemany("INSERT INTO Activity VALUES (?, ?, ?, ?)", ROWS)
    monkeypatch.setenv("PULSE_TEST_SQL_URL", f"sqlite:///{db}")
    source = SqlSource.model_validate(SOURCE)
    asset = build_ingest_asset(source, dg.DailyPartitionsDefinition(start_date="2026-04-01"))
    resources = {
        "warehouse": WarehouseResource(pulse_home=str(tmp_path)),
        "pii": PiiResource(
            pulse_home=str(tmp_path), hmac_secret="test", vocabulary_file=str(DEFAULT_VOCABULARY)
        ),
    }
    return db, asset, resources


def test_sql_source_ingests_its_window_redacted_and_idempotently(tmp_path, monkeypatch):
    _, asset, resources = _source_db(tmp_path, monkeypatch)
    assert asset.key == dg.AssetKey(["raw", "feedback_items", "onprem_notes"])
    # a day without items is a clean, empty success (and its checks pass)
    empty = dg.materialize([asset], resources=resources, partition_key="2026-04-05")
    assert empty.success
    assert all(e.passed for e in empty.get_asset_check_evaluations())
    for _ in range(2):  # a re-run replaces the day, never duplicates it
        result = dg.materialize([asset], resources=resources, partition_key="2026-04-02")
        assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"row_count_matches_source": True, "no_residual_pii": True}
    with duckdb.connect(str(Paths(tmp_path).warehouse), read_only=True) as con:
        rows = con.execute(
            "select source_key, member_id, redacted_text from raw.feedback_items "
            "where source_name = 'onprem_notes' order by source_key"
        ).fetchall()
    assert [r[:2] for r in rows] == [("1", "100201"), ("2", "100202")]
    assert "555-201-3344" not in rows[0][2] and "<PHONE_NUMBER_1>" in rows[0][2]


def test_an_item_whose_date_was_edited_moves_to_its_new_day(tmp_path, monkeypatch):
    db, asset, resources = _source_db(tmp_path, monkeypatch)
    assert dg.materialize([asset], resources=resources, partition_key="2026-04-02").success
    with sqlite3.connect(db) as con:  # staff re-date item 2 in iMIS
        con.execute("UPDATE Activity SET TRANSACTION_DATE = '2026-04-03 10:00:00' WHERE SEQN = 2")

    # Its new day is ingested while the old day still holds it: it moves, once.
    assert dg.materialize([asset], resources=resources, partition_key="2026-04-03").success
    with duckdb.connect(str(Paths(tmp_path).warehouse), read_only=True) as con:
        rows = con.execute(
            "select source_key, cast(created_date as varchar) from raw.feedback_items "
            "order by source_key"
        ).fetchall()
    assert rows == [("1", "2026-04-02"), ("2", "2026-04-03"), ("3", "2026-04-03")]
