"""Publishing copies the marts into the file readers open, atomically; an incremental mart
(refreshed_at, and item_id or created_date) only moves the rows dbt refreshed since the last
publish, and whatever changed the published file equals the warehouse's marts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from orchestration.lib.warehouse import Warehouse, publish_marts

FIRST, SECOND = "timestamp '2026-03-01 06:00:00'", "timestamp '2026-03-02 06:00:00'"


def _content(path: Path, schema: str) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
        ]
        return {
            n: sorted(con.execute(f'select * from {schema}."{n}"').fetchall(), key=repr)
            for n in names
        }


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", memory_limit="512MB")
    with warehouse.connect() as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.fct_feedback as select 'i' || n as item_id, 'v' || n as label, "
            f"{FIRST} as refreshed_at from range(1, 6) as t(n)"
        )
        con.execute(
            "create table marts.fct_feedback_topics as select 'i' || n as item_id, "
            f"topic, {FIRST} as refreshed_at from range(1, 6) as t(n), "
            "(values ('billing'), ('events')) as k(topic)"
        )
        con.execute(
            "create table marts.agg_by_day as select date '2026-02-27' + n::int as created_date, "
            f"'v' || n as label, {FIRST} as refreshed_at from range(1, 4) as t(n)"
        )
        con.execute("create table marts.agg_daily as select 1 as day, 5 as items")
        con.execute("create table marts.retired as select 1 as x")
    return warehouse


def test_a_publish_moves_only_refreshed_items_and_equals_the_warehouse(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    target = tmp_path / "marts.duckdb"
    first = publish_marts(warehouse, target)
    assert first == {
        "agg_by_day": 3,
        "agg_daily": 1,
        "fct_feedback": 5,
        "fct_feedback_topics": 10,
        "retired": 1,
    }
    assert _content(target, "main") == _content(warehouse.path, "marts")

    # An unchanged item's published row is not copied again: mark it in the published file.
    with duckdb.connect(str(target)) as con:
        con.execute("update fct_feedback set label = 'kept' where item_id = 'i5'")
        con.execute("update agg_by_day set label = 'kept' where created_date = '2026-03-02'")

    with warehouse.connect() as con:
        # dbt's next refresh: i2 relabelled, i1 lost its topics, i3 erased, i6 new...
        con.execute(
            f"update marts.fct_feedback set label = 'changed', refreshed_at = {SECOND} "
            "where item_id in ('i1', 'i2')"
        )
        con.execute("delete from marts.fct_feedback where item_id = 'i3'")
        con.execute(f"insert into marts.fct_feedback values ('i6', 'v6', {SECOND})")
        con.execute("delete from marts.fct_feedback_topics where item_id in ('i1', 'i3')")
        con.execute(
            f"update marts.fct_feedback_topics set refreshed_at = {SECOND} where item_id = 'i2'"
        )
        con.execute(f"insert into marts.fct_feedback_topics values ('i6', 'events', {SECOND})")
        # ...a day rebuilt and a day gone from an incremental aggregate...
        con.execute(
            f"update marts.agg_by_day set label = 'changed', refreshed_at = {SECOND} "
            "where created_date = '2026-02-28'"
        )
        con.execute("delete from marts.agg_by_day where created_date = '2026-03-01'")
        # ...an aggregate rebuilt, a mart retired, a mart added.
        con.execute("create or replace table marts.agg_daily as select 1 as day, 5 as items")
        con.execute("drop table marts.retired")
        con.execute("create table marts.dim_new as select 'x' as code")

    second = publish_marts(warehouse, target)
    assert second == {
        "agg_by_day": 2,
        "agg_daily": 1,
        "dim_new": 1,
        "fct_feedback": 5,
        "fct_feedback_topics": 7,
    }
    with duckdb.connect(str(target)) as con:
        kept = con.execute("select label from fct_feedback where item_id = 'i5'").fetchone()
        assert kept == ("kept",)
        kept_day = con.execute("select label from agg_by_day where created_date = '2026-03-02'")
        assert kept_day.fetchone() == ("kept",)
        con.execute("update fct_feedback set label = 'v5' where item_id = 'i5'")  # undo the marks
        con.execute("update agg_by_day set label = 'v3' where created_date = '2026-03-02'")
    assert _content(target, "main") == _content(warehouse.path, "marts")


def test_an_item_mart_whose_columns_changed_is_copied_whole(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    target = tmp_path / "marts.duckdb"
    publish_marts(warehouse, target)
    with warehouse.connect() as con:
        con.execute("alter table marts.fct_feedback add column language varchar default 'en'")
    publish_marts(warehouse, target)
    assert _content(target, "main") == _content(warehouse.path, "marts")


def test_a_failed_publish_leaves_the_published_file_as_it_was(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    target = tmp_path / "marts.duckdb"
    publish_marts(warehouse, target)
    before = target.read_bytes()
    with pytest.raises(duckdb.Error):
        publish_marts(Warehouse(tmp_path / "missing" / "warehouse.duckdb"), target)
    assert target.read_bytes() == before
