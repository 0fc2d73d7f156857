"""Write-back fixtures: a live sandbox on 127.0.0.1 (module-scoped; each test writes under a
source name of its own)."""

from __future__ import annotations

import uuid

import pytest

from connectors.imis import ImisClient
from connectors.imis_sandbox import SandboxServer
from tests.orchestration.writeback.helpers import SANDBOX


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with SandboxServer(tmp_path_factory.mktemp("imis-wb"), **SANDBOX) as server:
        yield server


@pytest.fixture
def faults(sandbox):
    yield sandbox.faults
    f = sandbox.faults
    f.rate_5xx = f.write_saved_then_500_rate = 0.0
    f.latency_ms = 0


@pytest.fixture
def client(sandbox):
    with ImisClient(sandbox.url, "pulse", "pulse-sandbox", backoff_s=0.001) as c:
        yield c


@pytest.fixture
def source() -> str:
    """A source name of this test's own, so rows of different tests never mix in the sandbox."""
    return f"t{uuid.uuid4().hex[:10]}"
