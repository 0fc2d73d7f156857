"""The e2e fixture: the pipeline run once over a month of a small sandbox on 127.0.0.1."""

from __future__ import annotations

import json
import os
from datetime import date

import pytest

from connectors.imis_sandbox import SandboxServer
from orchestration.cli import prepare_environment, run_pipeline
from tests.conftest import PIPELINE_ENV_VARS

FIRST, LAST = "2026-03-01", "2026-03-31"


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory):
    """Run the pipeline once over a month of a small sandbox; yield its home, marts, the
    sandbox's ground truth and the environment it ran with.

    Session-scoped, so the pipeline, PII and dashboard tests share one run; the environment is
    restored as soon as the run is done (tests that run it again use `pipeline_env`)."""
    tmp = tmp_path_factory.mktemp("e2e")
    with SandboxServer(
        tmp / "sandbox", members=150, items=500, end_date=date(2026, 3, 31), days=30, seed=11
    ) as sandbox:
        with pytest.MonkeyPatch.context() as mp:
            for name in PIPELINE_ENV_VARS:
                mp.delenv(name, raising=False)
            mp.setenv("PULSE_HOME", str(tmp / "home"))
            mp.setenv("PULSE_START_DATE", FIRST)
            mp.setenv("PULSE_HMAC_SECRET", "e2e-secret")
            mp.setenv("IMIS_BASE_URL", sandbox.url)
            mp.setenv("IMIS_USERNAME", "pulse")
            mp.setenv("IMIS_PASSWORD", "pulse-sandbox")
            settings = prepare_environment(os.environ)
            marts = run_pipeline(FIRST, LAST)
            env = {name: os.environ[name] for name in PIPELINE_ENV_VARS if name in os.environ}
        truth = json.loads((tmp / "sandbox" / "ground_truth.json").read_text())
        yield {
            "home": settings.home,
            "marts": marts,
            "truth": truth,
            "sandbox": sandbox,
            "env": env,
        }


@pytest.fixture
def pipeline_env(pipeline_run, monkeypatch):
    """The shared run, with its environment set again for a test that runs the pipeline."""
    for name in PIPELINE_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in pipeline_run["env"].items():
        monkeypatch.setenv(name, value)
    return pipeline_run
