"""Shared fixtures: every test runs with its own PULSE_HOME and never touches ./data."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestration.lib.config import Paths

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


def emptied_except(folder: Path, keep: str) -> Path:
    """`folder`, created if missing, holding nothing but its entry named `keep` (if any)."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.name != keep:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    return folder


@pytest.fixture(scope="session")
def _reused_homes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reused_homes")


@pytest.fixture
def reused_home(_reused_homes: Path) -> Callable[[str], Path]:
    """`reused_home(slot)`: an empty PULSE_HOME at a path every test of the session gets for
    that slot (a test that needs two homes at once takes two slots), keeping only the dbt
    target folder an earlier test prepared there. dbt's saved parse belongs to the home's path
    (orchestration/defs/transform/project.py), so a new path costs the first run a whole
    `dbt parse` (13-20 s) and a reused one nothing."""

    def home(slot: str) -> Path:
        folder = _reused_homes / slot / "pulse_home"
        return emptied_except(folder, keep=Paths(folder).dbt_target.name)

    return home


@pytest.fixture(autouse=True)
def _restore_main_module():
    """Streamlit's AppTest leaves the app script as `__main__`; a later test that spawns worker
    processes would then re-run the dashboard in each child. Put pytest's `__main__` back."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
