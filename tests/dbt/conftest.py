"""Shared fixtures: ONE seeded warehouse (the base rows plus the behaviour scenarios) built once
with `dbt build` for the whole folder.

Also makes the repository root importable (`orchestration`, `app`, `tests.warehouse_fixtures`):
the project is not installed into the venv and pytest's default import mode puts only this
folder on sys.path.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import duckdb  # noqa: E402
import pytest  # noqa: E402

from tests.conftest import emptied_except  # noqa: E402
from tests.warehouse_fixtures import run_dbt, seed_scenarios, seed_warehouse  # noqa: E402

N_ITEMS = 80


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("pulse_home")
    counts = seed_warehouse(home / "warehouse.duckdb", n_items=N_ITEMS, seed=7)
    scenarios = seed_scenarios(home / "warehouse.duckdb")
    result = run_dbt(home, "build")
    return {"home": home, "counts": counts, "scenarios": scenarios, "result": result}


@pytest.fixture
def con(built: dict):
    assert built["result"].returncode == 0, built["result"].stdout[-4000:]
    connection = duckdb.connect(str(built["home"] / "warehouse.duckdb"), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def _private_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("private") / "pulse_home"


@pytest.fixture
def home(built: dict, _private_home: Path) -> Path:
    """A private copy of the session's fully built warehouse.

    Every test gets it at the same path, with all but dbt's target folder replaced: dbt keys
    its saved parse on the warehouse path, so the tests after the first reuse that parse instead
    of parsing the whole project again (15-25 s each)."""
    assert built["result"].returncode == 0, built["result"].stdout[-4000:]
    home = emptied_except(_private_home, keep="dbt_target")
    shutil.copyfile(built["home"] / "warehouse.duckdb", home / "warehouse.duckdb")
    return home
