"""The reconciliation sensor finds the days the warehouse disagrees with iMIS about, and
re-ingesting just those days makes every count meet again."""

import subprocess
import sys
import textwrap
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from connectors.imis_sandbox import SandboxServer
from orchestration.defs.ingest import reconcile
from orchestration.defs.ingest.assets import build_ingest_asset, ingest_key
from orchestration.defs.resources import ImisResource, PiiResource, WarehouseResource
from orchestration.defs.settings import daily_partitions, sources
from orchestration.lib.config import DEFAULT_VOCABULARY, Paths

SOURCE = "party_notes"
LOOKBACK, RECONCILE = 2, 20


@pytest.fixture
def setup(pulse_env, tmp_path, monkeypatch):
    today = datetime.now(ZoneInfo("UTC")).date()
    server = SandboxServer(
        tmp_path / "imis", seed=11, members=120, items=900, end_date=today, days=30
    )
    with server:
        monkeypatch.setenv("PULSE_START_DATE", (today - timedelta(days=30)).isoformat())
        monkeypatch.setenv("PULSE_LOOKBACK_DAYS", str(LOOKBACK))
        monkeypatch.setenv("PULSE_RECONCILE_DAYS", str(RECONCILE))
        source = next(s for s in sources().sources if s.name == SOURCE)
        resources = {
            "imis": ImisResource(base_url=server.url, username="pulse", password="pulse-sandbox"),
            "warehouse": WarehouseResource(pulse_home=str(pulse_env)),
            "pii": PiiResource(
                pulse_home=str(pulse_env),
                hmac_secret="test-secret-not-for-production",
                vocabulary_file=str(DEFAULT_VOCABULARY),
            ),
        }
        yield {
            "today": today,
            "asset": build_ingest_asset(source, daily_partitions()),
            "sensor": reconcile.build_reconcile_sensor([source]),
            "resources": resources,
            "warehouse": Paths(pulse_env).warehouse,
        }


def _ingest(setup, first: date, last: date) -> None:
    result = dg.materialize(
        [setup["asset"]],
        resources=setup["resources"],
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
    )
    assert result.success


def _evaluate(setup, cursor: str | None = None):
    resources = {k: setup["resources"][k] for k in ("imis", "warehouse")}
    context = dg.build_sensor_context(cursor=cursor, resources=resources)
    return setup["sensor"](context), context.cursor


def _day_count(setup, day: date) -> int:
    with duckdb.connect(str(setup["warehouse"]), read_only=True) as con:
        return con.execute(
            "select count(*) from raw.feedback_items where source_name = ? and created_date = ?",
            [SOURCE, day],
        ).fetchone()[0]


def test_days_that_differ_are_requested_and_reingesting_them_makes_counts_meet(setup):
    start, end = reconcile.reconcile_window(setup["today"])
    assert (end - start).days == RECONCILE
    _ingest(setup, start, end - timedelta(days=1))

    result, cursor = _evaluate(setup)
    assert isinstance(result, dg.SkipReason)
    assert f"all {RECONCILE} days" in result.skip_message and "match iMIS" in result.skip_message
    assert cursor == "1"  # the next source's turn (one source here: itself again)

    # A day the warehouse lost, and a row iMIS no longer holds (deleted after its day passed).
    lost = next(
        d for d in (start + timedelta(days=i) for i in range(RECONCILE)) if _day_count(setup, d)
    )
    ghost = start + timedelta(days=RECONCILE - 1)
    lost_rows = _day_count(setup, lost)
    ghost_rows = _day_count(setup, ghost)
    with duckdb.connect(str(setup["warehouse"])) as con:
        con.execute(
            "delete from raw.feedback_items where source_name = ? and created_date = ?",
            [SOURCE, lost],
        )
        con.execute(
            "insert into raw.feedback_items select * replace ('ghost' as source_key, "
            "item_id || '-ghost' as item_id, ? as created_date, ?::timestamp as created_at) "
            "from raw.feedback_items where source_name = ? limit 1",
            [ghost, datetime.combine(ghost, datetime.min.time()), SOURCE],
        )

    requests, _ = _evaluate(setup)
    assert sorted(r.partition_key for r in requests) == sorted(
        [lost.isoformat(), ghost.isoformat()]
    )
    for request in requests:
        assert ingest_key(SOURCE) in request.asset_selection
        assert dg.AssetKey(["enriched", "item_labels"]) in request.asset_selection
        assert request.tags["pulse/reason"] == "reconciliation"
    lost_request = next(r for r in requests if r.partition_key == lost.isoformat())
    assert lost_request.run_key == f"{SOURCE}:{lost}:{lost_rows}:0"

    for request in requests:
        day = date.fromisoformat(request.partition_key)
        _ingest(setup, day, day)
    assert _day_count(setup, lost) == lost_rows
    assert _day_count(setup, ghost) == ghost_rows
    result, _ = _evaluate(setup)
    assert isinstance(result, dg.SkipReason) and "match iMIS" in result.skip_message


def test_a_busy_warehouse_skips_the_tick_without_losing_the_sources_turn(setup, monkeypatch):
    start, _ = reconcile.reconcile_window(setup["today"])
    _ingest(setup, start, start)
    monkeypatch.setattr(reconcile, "WAREHOUSE_WAIT_S", 0.5)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys, time
                con = duckdb.connect({str(setup["warehouse"])!r})
                print("locked", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result, cursor = _evaluate(setup, cursor="4")
    finally:
        holder.kill()
        holder.wait()
    assert isinstance(result, dg.SkipReason) and "busy" in result.skip_message
    assert cursor == "4"


def test_no_warehouse_yet_is_a_clear_skip(setup):
    result, cursor = _evaluate(setup)
    assert isinstance(result, dg.SkipReason)
    assert "does not exist" in result.skip_message
    assert cursor is None
