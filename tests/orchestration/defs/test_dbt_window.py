"""The per-day dbt set hands dbt its partition window as inclusive local dates, the way the items'
created_date is stored, whatever the time zone and its daylight-saving days, in the environment
variables the dbt project reads (not `--vars`, which would defeat dbt's partial parsing)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import dagster as dg
import pytest

from orchestration.defs.transform.assets import environment, window_env, window_vars

# 2026-03-08 is 23 hours long in Chicago (daylight saving time starts).
PARTITIONS = dg.DailyPartitionsDefinition(
    start_date="2026-03-01", timezone="America/Chicago", end_offset=1
)


def _context(first: str, last: str) -> SimpleNamespace:
    """What window_vars reads of a run's context: its partition time window."""
    start = PARTITIONS.time_window_for_partition_key(first).start
    end = PARTITIONS.time_window_for_partition_key(last).end
    return SimpleNamespace(partition_time_window=dg.TimeWindow(start, end))


def test_one_day_is_min_and_max_date() -> None:
    assert window_vars(_context("2026-03-08", "2026-03-08")) == {
        "min_date": "2026-03-08",
        "max_date": "2026-03-08",
    }


def test_a_range_runs_from_its_first_to_its_last_day_inclusive() -> None:
    assert window_vars(_context("2026-03-01", "2026-03-31")) == {
        "min_date": "2026-03-01",
        "max_date": "2026-03-31",
    }


def test_the_window_goes_to_dbt_as_the_environment_variables_its_macro_reads() -> None:
    assert window_env(window_vars(_context("2026-03-01", "2026-03-31"))) == {
        "PULSE_DBT_MIN_DATE": "2026-03-01",
        "PULSE_DBT_MAX_DATE": "2026-03-31",
    }


def test_the_environment_is_restored_after_dbt_has_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULSE_DBT_MIN_DATE", "2026-01-01")
    monkeypatch.delenv("PULSE_DBT_MAX_DATE", raising=False)
    window = {"PULSE_DBT_MIN_DATE": "2026-03-08", "PULSE_DBT_MAX_DATE": "2026-03-08"}
    with pytest.raises(RuntimeError), environment(window):
        assert {name: os.environ[name] for name in window} == window
        raise RuntimeError("dbt failed to start")
    assert os.environ["PULSE_DBT_MIN_DATE"] == "2026-01-01"
    assert "PULSE_DBT_MAX_DATE" not in os.environ
