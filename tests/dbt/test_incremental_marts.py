"""fct_feedback and fct_feedback_topics are incremental (macros/refreshed_items.sql): a run
rebuilds the items the per-day models rebuilt since the marts' latest refresh, every item with a
review decision, and every item's topics when a topic is renamed, and drops items gone
upstream. Their daily aggregates rebuild the days those items fall on, and the days that lost
items; the review queue rewrites the refreshed items' rows and drops those no longer queued.
Whatever changed, the result equals a full rebuild from the same upstream rows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.warehouse_fixtures import run_dbt

ITEM_MARTS = ("marts.fct_feedback", "marts.fct_feedback_topics", "marts.review_queue")
DAY_MARTS = ("marts.agg_sentiment_daily", "marts.agg_topic_sentiment_daily")
RUN_STAMPS = {"refreshed_at"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    # By name: a column an upgrade appended sits last, where a fresh build puts it in place.
    columns = sorted(
        r[0] for r in con.execute(f"describe {table}").fetchall() if r[0] not in RUN_STAMPS
    )
    select = ", ".join(columns)
    return sorted(con.execute(f"select {select} from {table}").fetchall(), key=repr)


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    """Every row of every mart, run stamps aside."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            f"marts.{r[0]}"
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {table: _rows(con, table) for table in tables}


def _latest_refresh(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The items fct_feedback's latest refresh rebuilt."""
    sql = (
        "select item_id from marts.fct_feedback "
        "where refreshed_at = (select max(refreshed_at) from marts.fct_feedback)"
    )
    return {r[0] for r in con.execute(sql).fetchall()}


def test_a_one_day_run_refreshes_that_day_and_decided_items_and_equals_a_full_rebuild(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = home / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        # The latest day with undecided labelled items to change, one of them in the review
        # queue for low confidence and one confident and not urgent (outside the queue).
        day, dequeued, queued = con.execute(
            "select f.created_date::varchar, "
            "min(f.item_id) filter (where q.queue_reason = 'low_confidence'), "
            "min(f.item_id) filter (where q.item_id is null and f.urgency_level <> 'high') "
            "from marts.fct_feedback as f left join marts.review_queue as q using (item_id) "
            "where f.enrichment_status = 'ok' and not f.is_decided group by 1 "
            "having count(*) >= 6 and count(*) filter (where q.queue_reason = 'low_confidence') "
            "> 0 and count(*) filter (where q.item_id is null and f.urgency_level <> 'high') > 0 "
            "order by 1 desc limit 1"
        ).fetchone()
        on_day = [
            r[0]
            for r in con.execute(
                "select item_id from marts.fct_feedback where created_date = cast(? as date) "
                "and enrichment_status = 'ok' and not is_decided order by item_id",
                [day],
            ).fetchall()
        ]
        relabelled, erased = [i for i in on_day if i not in (dequeued, queued)][:2]
        old_item = con.execute(
            "select item_id from marts.fct_feedback where created_date < cast(? as date) "
            "and enrichment_status = 'ok' and not is_decided order by created_date, item_id "
            "limit 1",
            [day],
        ).fetchone()[0]
        renamed_topic = con.execute(
            "select topic_key from marts.fct_feedback_topics where not is_proposed "
            "group by 1 order by count(*) desc limit 1"
        ).fetchone()[0]
        decided = {r[0] for r in con.execute("select item_id from raw.review_decisions").fetchall()}
        assert decided, "the scenarios plant review decisions"
        # Two older days the per-day run does not rebuild: one loses an item, one every item
        # (an erasure's).
        undecided_days = con.execute(
            "select created_date, list(item_id order by item_id) from marts.fct_feedback "
            "where created_date < cast(? as date) group by 1 "
            "having not bool_or(is_decided or item_id = ?) order by count(*), 1",
            [day, old_item],
        ).fetchall()
        (emptied_day, emptied), (thinned_day, thinned) = undecided_days[0], undecided_days[-1]
        erased_elsewhere = [*emptied, thinned[0]]

        # Upstream changes: a new label and an erased item on `day`; a reviewer's correction of
        # an item of an older day (whose day is not rebuilt); a renamed taxonomy topic.
        con.execute(
            "update enriched.item_labels set sentiment_label = case sentiment_label "
            "when 'negative' then 'positive' else 'negative' end where item_id = ?",
            [relabelled],
        )
        for table in ("raw.feedback_items", "enriched.item_labels", "enriched.item_topics"):
            con.execute(f"delete from {table} where item_id = ?", [erased])
        # As an erasure removes items: from every table, the per-day model's included.
        for table in (
            "raw.feedback_items",
            "enriched.item_labels",
            "enriched.item_topics",
            "intermediate.int_feedback_items_labelled",
        ):
            con.execute(f"delete from {table} where list_contains(?, item_id)", [erased_elsewhere])
        con.execute(
            "insert into raw.review_decisions (decision_id, item_id, decided_by, decided_at, "
            "sentiment_label) values ('d-incremental', ?, 'director', "
            "timestamp '2026-03-05 09:00:00', 'negative')",
            [old_item],
        )
        con.execute(
            "update raw.taxonomy_topics set label = label || ' (renamed)' where topic_key = ?",
            [renamed_topic],
        )
        # The review queue: one item's confidence rises out of it, another's falls into it.
        con.execute(
            "update enriched.item_labels set sentiment_confidence = 0.99 where item_id = ?",
            [dequeued],
        )
        con.execute(
            "update enriched.item_labels set sentiment_confidence = 0.05, sentiment_label = "
            "'neutral' where item_id = ?",
            [queued],
        )

    monkeypatch.setenv("PULSE_DBT_MIN_DATE", day)
    monkeypatch.setenv("PULSE_DBT_MAX_DATE", day)
    per_day = run_dbt(home, "build", "--select", "tag:per_day")
    assert per_day.returncode == 0, per_day.stdout[-4000:]
    monkeypatch.delenv("PULSE_DBT_MIN_DATE")
    monkeypatch.delenv("PULSE_DBT_MAX_DATE")

    full_home = tmp_path / "full_rebuild"
    full_home.mkdir()
    shutil.copyfile(warehouse, full_home / "warehouse.duckdb")

    incremental = run_dbt(home, "build", "--exclude", "tag:per_day")
    assert incremental.returncode == 0, incremental.stdout[-4000:]
    # The marts' tests ran, on the refreshed rows.
    assert "PASS unique_fct_feedback_item_id" in _ANSI.sub("", incremental.stdout)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        refreshed = _latest_refresh(con)
        on_day_now = {
            r[0]
            for r in con.execute(
                "select item_id from marts.fct_feedback where created_date = cast(? as date)",
                [day],
            ).fetchall()
        }
        labels = dict(
            con.execute(
                "select item_id, sentiment_label from marts.fct_feedback where item_id in (?, ?)",
                [relabelled, old_item],
            ).fetchall()
        )
        erased_rows = con.execute(
            "select (select count(*) from marts.fct_feedback where item_id = $1) "
            "+ (select count(*) from marts.fct_feedback_topics where item_id = $1)",
            [erased],
        ).fetchone()[0]
        days = {
            table: {
                r[0]: r[1]
                for r in con.execute(
                    f"select created_date, sum({count}) from {table} "
                    "where created_date in (?, ?) group by 1",
                    [emptied_day, thinned_day],
                ).fetchall()
            }
            for table, count in zip(DAY_MARTS, ("item_count", "mention_count"), strict=True)
        }
        stale_labels = con.execute(
            "select count(*) from marts.fct_feedback_topics "
            "where topic_key = ? and topic_label not like '% (renamed)'",
            [renamed_topic],
        ).fetchone()[0]
        queue = dict(
            con.execute(
                "select item_id, (queue_reason, queue_confidence) from marts.review_queue"
            ).fetchall()
        )
        rewritten = {
            r[0]
            for r in con.execute(
                "select item_id from marts.review_queue "
                "where refreshed_at = (select max(refreshed_at) from marts.fct_feedback)"
            ).fetchall()
        }
        # Renamed rows carry the new refresh: the publish step moves rows by it.
        renamed_earlier = con.execute(
            "select count(*) from marts.fct_feedback_topics where topic_key = ? and "
            "refreshed_at < (select max(refreshed_at) from marts.fct_feedback_topics)",
            [renamed_topic],
        ).fetchone()[0]

    # Exactly the rebuilt day and the decided items were refreshed; the rest kept their rows.
    assert refreshed == on_day_now | decided | {old_item}
    # The queue: the two changed items moved, and only refreshed items' rows were rewritten.
    assert dequeued not in queue and queue[queued] == ("low_confidence", 0.05)
    assert queued in rewritten and rewritten <= refreshed and len(rewritten) < len(queue)
    assert labels[old_item] == "negative"
    assert erased_rows == 0
    assert stale_labels == 0
    assert renamed_earlier == 0
    assert days["marts.agg_sentiment_daily"] == {thinned_day: len(thinned) - 1}
    assert emptied_day not in days["marts.agg_topic_sentiment_daily"]

    full = run_dbt(full_home, "build", "--exclude", "tag:per_day", "--full-refresh")
    assert full.returncode == 0, full.stdout[-4000:]
    assert _marts(warehouse) == _marts(full_home / "warehouse.duckdb")


def test_a_run_with_nothing_new_refreshes_only_the_decided_items(home: Path) -> None:
    warehouse = home / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        decided = {r[0] for r in con.execute("select item_id from raw.review_decisions").fetchall()}
    before = _marts(warehouse)

    rerun = run_dbt(home, "build", "--exclude", "tag:per_day")
    assert rerun.returncode == 0, rerun.stdout[-4000:]

    with duckdb.connect(str(warehouse), read_only=True) as con:
        refreshed = _latest_refresh(con)
    assert refreshed == decided
    assert _marts(warehouse) == before


def test_marts_built_by_a_version_without_refresh_stamps_are_rebuilt_whole_once(
    home: Path,
) -> None:
    warehouse = home / "warehouse.duckdb"
    before = _marts(warehouse)
    with duckdb.connect(str(warehouse)) as con:  # as an earlier version left them
        for table, column in (
            *((table, "refreshed_at") for table in DAY_MARTS),
            ("marts.fct_feedback_topics", "refreshed_at"),
            ("marts.fct_feedback", "refreshed_at"),
            ("intermediate.int_feedback_items_labelled", "built_at"),
            *(
                ("marts.review_queue", c)
                for c in ("refreshed_at", "queue_priority", "queue_confidence")
            ),
        ):
            con.execute(f"alter table {table} drop column {column}")
        # The queue's stored rank, which this version no longer has.
        con.execute("alter table marts.review_queue add column queue_rank bigint default 1")

    upgraded = run_dbt(home, "build", "--exclude", "tag:per_day")
    assert upgraded.returncode == 0, upgraded.stdout[-4000:]

    with duckdb.connect(str(warehouse), read_only=True) as con:
        stamps = {
            table: con.execute(
                f"select count(distinct refreshed_at), count(*) - count(refreshed_at) from {table}"
            ).fetchone()
            for table in ITEM_MARTS + DAY_MARTS
        }
    assert stamps == {table: (1, 0) for table in ITEM_MARTS + DAY_MARTS}  # every row, at once
    assert _marts(warehouse) == before
