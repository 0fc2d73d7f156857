"""Secrets never appear in logs, Dagster metadata or storage, or error messages.

The pipeline runs (as `make pipeline` runs it, in a subprocess) with distinctive values for
PULSE_HMAC_SECRET, IMIS_PASSWORD (the sandbox is started with that password), OPENAI_API_KEY
and the alert secrets; then twice more on error paths: a wrong iMIS password, and SQL sources
whose URL (with a password in it) is unusable. Every byte of every file under PULSE_HOME
(warehouse and marts cell by cell, SQLite stores, Dagster's event log, run storage and compute
logs) and everything the runs printed is searched for each secret, in the forms it could take
on the wire (as is, URL-encoded, base64 of user:password).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from connectors.imis_sandbox import SandboxServer
from tests.conftest import PIPELINE_ENV_VARS
from tests.e2e.homes import duckdb_cells

REPO = Path(__file__).resolve().parents[2]
END = date(2026, 3, 31)
FIRST, LAST = "2026-03-22", "2026-03-31"

HMAC_SECRET = "hmac-Zq7Xw3Kp9Vt2Lm5Rn8"
IMIS_PASSWORD = "imis-Pw4Jd8Qs2Hx6Bc1Fy"
WRONG_IMIS_PASSWORD = "imis-Wrong7Gh3Tk9Mz5Np"
OPENAI_KEY = "sk-proj-Ok3Yu8Ei1Wq6Ra4Ts"
WEBHOOK_SECRET = "whk-Tb5Nc2Xv8Lp3Qd7Gs"
SMTP_PASSWORD = "smtp-Ja9Ce4Vn1Hw6Ur3Ko"
SQL_PASSWORD = "sqlpw-Dm2Fb7Ky4Se9Xa1Lq"
SECRETS = {
    "PULSE_HMAC_SECRET": HMAC_SECRET,
    "IMIS_PASSWORD": IMIS_PASSWORD,
    "wrong IMIS_PASSWORD": WRONG_IMIS_PASSWORD,
    "OPENAI_API_KEY": OPENAI_KEY,
    "PULSE_ALERT_WEBHOOK_URL token": WEBHOOK_SECRET,
    "PULSE_ALERT_SMTP_PASSWORD": SMTP_PASSWORD,
    "IMIS_SQL_URL password": SQL_PASSWORD,
}


def _forms(secret: str) -> set[bytes]:
    """The ways a secret could be written: as is, URL-encoded, and inside HTTP basic auth."""
    forms = {secret, quote(secret), quote_plus(secret)}
    for user in ("pulse", "pulse_reader"):
        forms.add(base64.b64encode(f"{user}:{secret}".encode()).decode())
    return {f.encode() for f in forms}


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PIPELINE_ENV_VARS}
    env.update(
        PULSE_HOME=str(home),
        PULSE_START_DATE=FIRST,
        PULSE_HMAC_SECRET=HMAC_SECRET,
        OPENAI_API_KEY=OPENAI_KEY,
        PULSE_ALERT_WEBHOOK_URL=f"http://127.0.0.1:9/hooks/{WEBHOOK_SECRET}",
        PULSE_ALERT_SMTP_HOST="127.0.0.1",
        PULSE_ALERT_SMTP_PASSWORD=SMTP_PASSWORD,
        IMIS_SQL_URL=f"mssql+pyodbc://pulse_reader:{SQL_PASSWORD}@127.0.0.1:1/iMIS"
        "?driver=ODBC+Driver+18+for+SQL+Server",
    )
    env.update(extra)
    return env


def _pipeline(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "pipeline", "--start", FIRST, "--end", LAST,
         *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=900,
    )  # fmt: skip


def _leaks_in_bytes(data: bytes) -> list[str]:
    return [name for name, secret in SECRETS.items() if any(f in data for f in _forms(secret))]


def _leaks_in_duckdb(path: Path) -> list[str]:
    return [
        f"{column}: {leak}"
        for column, value in duckdb_cells(path)
        for leak in _leaks_in_bytes(repr(value).encode())
    ]


def _leaks_under(home: Path) -> dict[str, list[str]]:
    leaks = {}
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        found = _leaks_in_bytes(path.read_bytes())
        if path.suffix == ".duckdb" and not path.name.startswith("."):
            found += _leaks_in_duckdb(path)
        if found:
            leaks[str(path.relative_to(home))] = found
    return leaks


@pytest.fixture(scope="module")
def secret_runs(tmp_path_factory):
    """The pipeline run with the secrets set, then the two failing runs, in one PULSE_HOME."""
    tmp = tmp_path_factory.mktemp("secrets")
    home = tmp / "home"
    sql_sources = tmp / "sql_sources.yaml"
    sql_sources.write_text(
        "sources:\n"
        "  - name: sql_notes\n"
        "    kind: sql\n"
        "    channel: case\n"
        "    url_env: IMIS_SQL_URL\n"
        "    query: >-\n"
        "      select SEQN, NOTE, TRANSACTION_DATE, ID from Activity\n"
        "      where TRANSACTION_DATE >= :watermark_start and TRANSACTION_DATE < :watermark_end\n"
        "    columns: {key: [SEQN], text: [NOTE], created_at: TRANSACTION_DATE, member_id: ID}\n"
        "  - name: sql_unparsable\n"
        "    kind: sql\n"
        "    channel: case\n"
        "    url_env: IMIS_SQL_URL_BROKEN\n"
        "    query: >-\n"
        "      select SEQN, NOTE, TRANSACTION_DATE from Activity\n"
        "      where TRANSACTION_DATE >= :watermark_start and TRANSACTION_DATE < :watermark_end\n"
        "    columns: {key: [SEQN], text: [NOTE], created_at: TRANSACTION_DATE}\n"
    )
    with SandboxServer(
        tmp / "sandbox", members=40, items=150, end_date=END, days=10, seed=5,
        password=IMIS_PASSWORD,
    ) as sandbox:  # fmt: skip
        imis = {"IMIS_BASE_URL": sandbox.url, "IMIS_USERNAME": "pulse"}
        ok = _pipeline(_env(home, **imis, IMIS_PASSWORD=IMIS_PASSWORD))
        wrong = _pipeline(
            _env(home, **imis, IMIS_PASSWORD=WRONG_IMIS_PASSWORD), "--select", "group:ingest"
        )
    bad_sql = _pipeline(
        _env(
            home,
            PULSE_SOURCES=str(sql_sources),
            IMIS_SQL_URL_BROKEN=f"pulse_reader:{SQL_PASSWORD}@ not a url",
        ),
        "--select",
        "group:ingest",
    )
    return {"home": home, "ok": ok, "wrong": wrong, "bad_sql": bad_sql}


def test_the_run_with_secrets_succeeds_and_leaks_nothing(secret_runs):
    ok = secret_runs["ok"]
    assert ok.returncode == 0, ok.stderr[-3000:].decode(errors="replace")
    assert not _leaks_in_bytes(ok.stdout + ok.stderr)
    # Dagster's storage is there to be searched: runs, event logs, compute logs.
    dagster = secret_runs["home"] / "dagster"
    event_logs = list(dagster.rglob("*.db"))
    assert any(b"rows_written" in p.read_bytes() for p in event_logs)  # metadata is in there
    assert any(dagster.rglob("compute_logs/*.err"))
    assert (secret_runs["home"] / "marts.duckdb").exists()


def test_a_wrong_imis_password_fails_clearly_without_the_password(secret_runs):
    wrong = secret_runs["wrong"]
    assert wrong.returncode != 0
    output = (wrong.stdout + wrong.stderr).decode(errors="replace")
    assert "failed" in output
    assert "401" in output or "auth" in output.lower() or "token" in output.lower()
    assert not _leaks_in_bytes(wrong.stdout + wrong.stderr)


def test_a_bad_sql_url_fails_clearly_without_the_password(secret_runs):
    bad = secret_runs["bad_sql"]
    assert bad.returncode != 0
    output = (bad.stdout + bad.stderr).decode(errors="replace")
    assert "IMIS_SQL_URL" in output and "not a usable SQLAlchemy URL" in output
    assert "IMIS_SQL_URL_BROKEN" in output
    assert not _leaks_in_bytes(bad.stdout + bad.stderr)


def test_nothing_under_pulse_home_holds_a_secret(secret_runs):
    """After all three runs: every file, Dagster's included, searched byte by byte (and the
    DuckDB files cell by cell)."""
    leaks = _leaks_under(secret_runs["home"])
    assert not leaks, leaks
