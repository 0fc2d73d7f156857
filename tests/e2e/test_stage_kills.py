"""SIGKILL inside the enrichment, dbt and publish stages, then a re-run: the published marts
are identical to those of an uninterrupted run (ingest kills: test_ingest_resilience.py).

The pipeline runs in a subprocess, as `make pipeline` runs it, and is killed when its log says
the target step is under way: after a random number of dbt's model materializations, or a
random fraction of a second into the enrichment or publish step. `make test` kills the dbt
build (partly rebuilt tables, dbt's own state) on a copy of the shared run's home, re-running
only the stages after ingest and enrichment to keep the suite short; `make test-slow` kills a
full pipeline in each of the three stages on a fresh home and re-runs the full pipeline.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.e2e.conftest import FIRST, LAST
from tests.e2e.homes import cli_env, copy_home, marts_content

REPO = Path(__file__).resolve().parents[2]
STEPS = {
    "enrichment": "enrichment__label_cache",
    "dbt": "member_pulse_dbt",
    "publish": "published__marts",
}
DOWNSTREAM = "group:transform or group:publish"
# How far into a step the timer may fire: within the step's length on the shared run's data.
TIMER_S = {"enrichment": 0.5, "publish": 0.2}


def _run(env: dict[str, str], select: str | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "orchestration.cli", "pipeline", "--start", FIRST,
               "--end", LAST] + (["--select", select] if select else [])  # fmt: skip
    return subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # SIGKILL the whole group: nothing of the run survives
    )


def _kill_inside(process: subprocess.Popen, stage: str, rng: random.Random) -> list[str]:
    """SIGKILL the run at a random point of `stage`; returns the log lines seen."""
    step, lines = STEPS[stage], []
    materializations_to_wait = rng.randint(1, 15)
    started = False
    for line in process.stderr:
        lines.append(line)
        if f'Started execution of step "{step}"' in line:
            started = True
            if stage != "dbt":  # dbt is killed on its log; the others a moment in
                threading.Timer(rng.uniform(0.0, TIMER_S[stage]), _kill, (process,)).start()
        elif started and stage == "dbt" and "ASSET_MATERIALIZATION" in line:
            materializations_to_wait -= 1
            if materializations_to_wait == 0:
                _kill(process)
    process.wait(timeout=60)
    assert started, f"the run never reached {step}:\n{''.join(lines[-30:])}"
    return lines


def _kill(process: subprocess.Popen) -> None:
    # It may have finished first: the caller's returncode check says so.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _finish(process: subprocess.Popen) -> None:
    _, err = process.communicate(timeout=900)
    assert process.returncode == 0, err[-3000:]


@pytest.mark.timeout(900)
def test_a_dbt_build_killed_midway_then_rerun_publishes_identical_marts(pipeline_run, reused_home):
    home = copy_home(pipeline_run, reused_home("main"))
    env = cli_env(pipeline_run, home)
    expected = marts_content(home / "marts.duckdb")
    rng = random.Random(7)

    process = _run(env, DOWNSTREAM)
    _kill_inside(process, "dbt", rng)
    assert process.returncode == -signal.SIGKILL

    _finish(_run(env, DOWNSTREAM))  # the runner first fails the abandoned run
    assert marts_content(home / "marts.duckdb") == expected


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("stage", list(STEPS))
def test_a_full_run_killed_inside_a_stage_then_rerun_publishes_identical_marts(
    pipeline_run, reused_home, stage
):
    home = reused_home("main")
    env = cli_env(pipeline_run, home)
    expected = marts_content(pipeline_run["marts"])
    rng = random.Random(stage)

    process = _run(env)
    _kill_inside(process, stage, rng)
    assert process.returncode == -signal.SIGKILL  # killed, not finished before the timer

    _finish(_run(env))
    assert marts_content(home / "marts.duckdb") == expected
