"""Shared fixtures: every test runs with its own PULSE_HOME and never touches ./data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")

PIPELINE_ENV_VARS = (
    "PULSE_HOME",
    "DAGSTER_HOME",
    "PULSE_SOURCES",
    "PULSE_START_DATE",
    "IMIS_TIMEZONE",
    "IMIS_BASE_URL",
    "IMIS_USERNAME",
    "IMIS_PASSWORD",
    "PULSE_HMAC_SECRET",
    "PULSE_MODEL",
    "PULSE_TAXONOMY",
    "PULSE_VOCABULARY",
    "PULSE_MODEL_API_BASE",
    "PULSE_MODEL_PARAMS",
    "PULSE_MODEL_BUDGET_USD",
    "PULSE_USERS_FILE",
    "PULSE_WRITEBACK_CONFIG",
    "PULSE_WRITEBACK_ENABLED",
    "PULSE_WRITEBACK_DRY_RUN",
    "PULSE_WRITEBACK_START_DATE",
    "PULSE_ALERT_WEBHOOK_URL",
    "PULSE_ALERT_SMTP_HOST",
    "PULSE_ALERT_EMAIL_TO",
)


@pytest.fixture
def pulse_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment whose data folder is a temporary directory; returns PULSE_HOME."""
    for name in PIPELINE_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "pulse_home"
    monkeypatch.setenv("PULSE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.setenv("PULSE_HMAC_SECRET", "test-secret-not-for-production")
    return home


@pytest.fixture(scope="session")
def _definitions_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("definitions") / "pulse_home"


@pytest.fixture
def definitions_env(pulse_env: Path, _definitions_home: Path, monkeypatch) -> Path:
    """`pulse_env` with one PULSE_HOME shared by the tests that only load the definitions and
    write nothing there: the first of them prepares its dbt parse (15-25 s for a new home), the
    rest reuse it. Returns that PULSE_HOME."""
    monkeypatch.setenv("PULSE_HOME", str(_definitions_home))
    monkeypatch.setenv("DAGSTER_HOME", str(_definitions_home / "dagster"))
    return _definitions_home


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's AppTest leaves the app script as `__main__`; a later test that spawns worker
    processes would then re-run the dashboard in each child. Put pytest's `__main__` back."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
