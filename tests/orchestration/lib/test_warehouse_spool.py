"""Spool files let a step work through a window in chunks: what goes in comes out, in order,
in bounded batches, and an empty spool replaces a window with nothing."""

from __future__ import annotations

from datetime import date

import pytest

import orchestration.lib.warehouse as warehouse_module
from orchestration.lib.warehouse import (
    Warehouse,
    replace_rows,
    scalar,
    spool_query,
    spooled_rows,
    table_spool,
)


@pytest.fixture
def con(tmp_path):
    with Warehouse(tmp_path / "w.duckdb").connect() as con:
        yield con


def test_a_query_spools_and_reads_back_in_bounded_batches(con, tmp_path, monkeypatch):
    monkeypatch.setattr(warehouse_module, "SPOOL_BATCH_ROWS", 4)
    path = tmp_path / "q.parquet"
    written = spool_query(
        con, "select i, 'row ' || i as label from range(?) t(i) order by i", [10], path
    )
    batches = list(spooled_rows(path))
    assert written == 10
    assert [len(b) for b in batches] == [4, 4, 2]
    assert [r["label"] for b in batches for r in b] == [f"row {i}" for i in range(10)]


def test_table_spool_keeps_the_table_types_and_an_empty_one_clears_the_window(con, tmp_path):
    window = "created_date = ?"
    path = tmp_path / "topics.parquet"
    row = {
        "item_id": "a",
        "created_date": date(2026, 5, 1),
        "topic_key": "events",
        "topic_sentiment": "negative",
        "evidence": "the venue",
    }
    with table_spool(con, "enriched.item_topics", path) as append:
        append([row])
        append([])  # a chunk with nothing to add
        append([{**row, "item_id": "b", "proposed_label": None}])
    assert replace_rows(con, "enriched.item_topics", path, delete_where=window,
                        params=[date(2026, 5, 1)]) == 2  # fmt: skip

    empty = tmp_path / "none.parquet"
    with table_spool(con, "enriched.item_topics", empty):
        pass
    assert replace_rows(con, "enriched.item_topics", empty, delete_where=window,
                        params=[date(2026, 5, 1)]) == 0  # fmt: skip
    assert scalar(con, "select count(*) from enriched.item_topics") == 0
