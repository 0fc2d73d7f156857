from __future__ import annotations

from datetime import date

import pytest

from connectors.imis import ImisClient
from connectors.imis_sandbox import SandboxServer

END = date(2026, 6, 30)
SMALL = {"seed": 7, "members": 150, "items": 1000, "end_date": END, "days": 120}


@pytest.fixture(scope="session")
def small() -> dict:
    """Sandbox parameters small enough for a test, large enough for many pages."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def sandbox_dir(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("imis-sandbox")


@pytest.fixture(scope="session")
def sandbox(sandbox_dir):
    """One read-mostly sandbox for the whole folder; tests that write use their own."""
    with SandboxServer(sandbox_dir, **SMALL) as server:
        yield server


@pytest.fixture
def client(sandbox):
    with ImisClient(sandbox.url, "pulse", "pulse-sandbox", backoff_s=0.01) as c:
        yield c
