"""`python -m connectors.imis_sandbox` serves and prints its URL."""

from __future__ import annotations

import subprocess
import sys

import httpx


def test_cli_prints_its_url_and_serves(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.imis_sandbox", "--port", "0", "--data-dir", str(tmp_path),
         "--members", "10", "--items", "20", "--end-date", "2026-06-30", "--rate-5xx", "0"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        url = lines[1].strip().removeprefix("iMIS sandbox listening on ")
        assert url.startswith("http://127.0.0.1:")
        response = httpx.post(
            f"{url}/token",
            data={"grant_type": "password", "username": "pulse", "password": "pulse-sandbox"},
        )
        assert response.status_code == 200 and response.json()["userName"] == "pulse"
    finally:
        process.terminate()
        process.wait(timeout=10)
