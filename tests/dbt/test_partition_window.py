"""The per-day dbt models run for a partition window (environment variables PULSE_DBT_MIN_DATE /
PULSE_DBT_MAX_DATE as Dagster passes it, or vars min_date / max_date): a one-day run replaces
exactly that day of the incremental model and tests only that day, without re-parsing the
project; replaying every day one by one gives the marts of a full build."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.dbt.dbt_in_one_process import run_dbt_in_one_process
from tests.warehouse_fixtures import run_dbt

INCREMENTAL = "intermediate.int_feedback_items_labelled"
RUN_STAMPS = {"built_at", "refreshed_at"}  # when dbt built a row, not what it holds
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _window(day: str) -> str:
    return json.dumps({"min_date": day, "max_date": day})


def _last_invocation_log(home: Path) -> str:
    """dbt's debug log (run_dbt's --log-path) of its latest invocation."""
    log = (home / "dbt_logs" / "dbt.log").read_text()
    return log[log.rindex("Running with dbt=") :]


def _rows_by_day(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every row of the incremental model, grouped by created_date, each day's rows sorted."""
    by_day: dict[str, list[tuple]] = {}
    for row in con.execute(
        f"select cast(created_date as varchar), * from {INCREMENTAL}"
    ).fetchall():
        by_day.setdefault(row[0], []).append(row[1:])
    return {day: sorted(rows, key=repr) for day, rows in by_day.items()}


def _content(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every row of every mart and of the incremental model, sorted, run stamps aside."""
    tables = [
        f"marts.{row[0]}"
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    ]
    content = {}
    for table in [*tables, INCREMENTAL]:
        columns = [
            r[0] for r in con.execute(f"describe {table}").fetchall() if r[0] not in RUN_STAMPS
        ]
        rows = con.execute(f"select {', '.join(columns)} from {table}").fetchall()
        content[table] = sorted(rows, key=repr)
    return content


def test_a_one_day_run_replaces_that_day_only_and_tests_only_that_day(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = str(home / "warehouse.duckdb")
    with duckdb.connect(warehouse) as con:
        day, other_day = (
            str(row[0])
            for row in con.execute(
                f"select created_date from {INCREMENTAL} where enrichment_status = 'ok' "
                "group by 1 having count(*) >= 3 order by 1 limit 2"
            ).fetchall()
        )

        def ok_items(on: str) -> list[str]:
            sql = (
                f"select item_id from {INCREMENTAL} where enrichment_status = 'ok' "
                "and created_date = cast(? as date) order by item_id"
            )
            return [row[0] for row in con.execute(sql, [on]).fetchall()]

        relabelled, erased = ok_items(day)[:2]
        relabelled_elsewhere, duplicated = ok_items(other_day)[:2]
        # The source changes on both days: a new label on each, one item of `day` erased...
        con.execute(
            "update enriched.item_labels set sentiment_label = case sentiment_label "
            "when 'negative' then 'positive' else 'negative' end where item_id in (?, ?)",
            [relabelled, relabelled_elsewhere],
        )
        for table in ("raw.feedback_items", "enriched.item_labels", "enriched.item_topics"):
            con.execute(f"delete from {table} where item_id = ?", [erased])
        # ...and the model holds a duplicate on the other day, which its unique test would catch.
        con.execute(
            f"insert into {INCREMENTAL} select * from {INCREMENTAL} where item_id = ?", [duplicated]
        )
        before = _rows_by_day(con)
        sentiment_before = dict(
            con.execute(f"select item_id, sentiment_label from {INCREMENTAL}").fetchall()
        )

    # As Dagster runs it: the project parsed once, then the window in the environment. A new
    # window must not cost a full re-parse (new --vars would, on every run).
    parsed = run_dbt(home, "parse")
    assert parsed.returncode == 0, parsed.stdout[-4000:]
    monkeypatch.setenv("PULSE_DBT_MIN_DATE", day)
    monkeypatch.setenv("PULSE_DBT_MAX_DATE", day)
    one_day = run_dbt(home, "build", "--select", "tag:per_day")
    assert one_day.returncode == 0, one_day.stdout[-4000:]
    assert "PASS unique_int_feedback_items_labelled_item_id" in _ANSI.sub("", one_day.stdout)
    log = _last_invocation_log(home)
    assert "Partial parsing enabled" in log
    assert "Unable to do partial parsing" not in log
    monkeypatch.delenv("PULSE_DBT_MIN_DATE")
    monkeypatch.delenv("PULSE_DBT_MAX_DATE")

    with duckdb.connect(warehouse, read_only=True) as con:
        after = _rows_by_day(con)
        sentiment_after = dict(
            con.execute(f"select item_id, sentiment_label from {INCREMENTAL}").fetchall()
        )
    # The day is rebuilt from the source: the new label is in, the erased item is gone.
    assert sentiment_after[relabelled] != sentiment_before[relabelled]
    assert erased not in sentiment_after
    assert len(after[day]) == len(before[day]) - 1
    # Every other day is left as it was: its stale label and its duplicate included.
    assert {d: rows for d, rows in after.items() if d != day} == {
        d: rows for d, rows in before.items() if d != day
    }
    assert sentiment_after[relabelled_elsewhere] == sentiment_before[relabelled_elsewhere]

    # Without the window, the model's tests read every day and catch the duplicate.
    every_day = run_dbt(home, "test", "--select", "int_feedback_items_labelled")
    assert every_day.returncode != 0
    assert "FAIL 1 unique_int_feedback_items_labelled_item_id" in _ANSI.sub("", every_day.stdout)


def test_replaying_every_day_one_by_one_gives_the_marts_of_a_full_build(home: Path) -> None:
    warehouse = str(home / "warehouse.duckdb")
    with duckdb.connect(warehouse) as con:
        full_build = _content(con)
        days = [
            str(row[0])
            for row in con.execute(
                "select distinct created_date from raw.feedback_items order by 1"
            ).fetchall()
        ]
        # The model exists but is empty: each day must come from its own one-day run.
        con.execute(f"delete from {INCREMENTAL}")
    assert len(days) >= 30

    per_day = [["run", "--select", "tag:per_day", "--vars", _window(day)] for day in days]
    result = run_dbt_in_one_process(home, [*per_day, ["build", "--exclude", "tag:per_day"]])
    assert result.returncode == 0, result.stderr[-4000:] + result.stdout[-4000:]

    with duckdb.connect(warehouse, read_only=True) as con:
        assert _content(con) == full_build


def test_an_item_moved_to_another_day_leaves_its_old_day(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = str(home / "warehouse.duckdb")
    with duckdb.connect(warehouse) as con:
        item, old_day = con.execute(
            f"select item_id, created_date from {INCREMENTAL} order by created_date, item_id "
            "limit 1"
        ).fetchone()
        new_day = str(old_day + timedelta(days=3))
        # Ingest and enrichment have filed it under its new date (the source's date was edited).
        for table in ("raw.feedback_items", "enriched.item_labels", "enriched.item_topics"):
            con.execute(
                f"update {table} set created_date = cast(? as date) where item_id = ?",
                [new_day, item],
            )
        con.execute(
            "update raw.feedback_items set created_at = cast(? as date) + interval 9 hour "
            "where item_id = ?",
            [new_day, item],
        )

    monkeypatch.setenv("PULSE_DBT_MIN_DATE", new_day)
    monkeypatch.setenv("PULSE_DBT_MAX_DATE", new_day)
    one_day = run_dbt(home, "build", "--select", "tag:per_day")
    assert one_day.returncode == 0, one_day.stdout[-4000:]

    with duckdb.connect(warehouse, read_only=True) as con:
        days = con.execute(
            f"select cast(created_date as varchar) from {INCREMENTAL} where item_id = ?", [item]
        ).fetchall()
    assert days == [(new_day,)]
