"""A pipeline process killed while it holds the `duckdb` pool slot must not block the next run
forever: the runner marks the abandoned run failed and frees its slot before it starts."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRunStatus

from orchestration.cli import INSTANCE_CONFIG, RUNNER_TAG, recover_abandoned_runs

HOLDER = """
import sys, time
import dagster as dg

@dg.asset(pool="duckdb")
def holds_the_warehouse():
    open(sys.argv[1], "w").write("claimed")
    time.sleep(600)

with dg.DagsterInstance.get() as instance:
    dg.materialize([holds_the_warehouse], instance=instance, tags={"RUNNER_TAG": "cli"})
""".replace("RUNNER_TAG", RUNNER_TAG)


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copyfile(INSTANCE_CONFIG, home / "dagster.yaml")  # the pools as make pipeline sets them
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def _claimed(instance: dg.DagsterInstance) -> int:
    return len(instance.event_log_storage.get_concurrency_info("duckdb").claimed_slots)


def test_a_killed_run_is_failed_and_its_pool_slot_freed(dagster_home, tmp_path):
    marker = tmp_path / "claimed"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(marker)],
        env={**os.environ, "DAGSTER_HOME": str(dagster_home)},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, "the holder run ended early"
            assert time.monotonic() < deadline, "the holder never claimed the slot"
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    with dg.DagsterInstance.get() as instance:
        [run] = instance.get_runs()
        assert run.status == DagsterRunStatus.STARTED and _claimed(instance) == 1
        assert recover_abandoned_runs(instance) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
        assert _claimed(instance) == 0
        assert recover_abandoned_runs(instance) == []  # nothing left to recover

        @dg.asset(pool="duckdb")
        def next_writer() -> None:
            return None

        # With the slot freed the next writer runs (before the fix it waited forever).
        assert dg.materialize([next_writer], instance=instance).success


def test_a_live_run_is_left_alone(dagster_home):
    with dg.DagsterInstance.get() as instance:

        @dg.asset
        def quick() -> None:
            return None

        dg.materialize([quick], instance=instance, tags={RUNNER_TAG: "cli"})
        assert recover_abandoned_runs(instance) == []  # finished runs are not touched
