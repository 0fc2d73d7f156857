"""Where Member Pulse keeps things, derived from the environment when asked (never at import).

Every file the product stores lives under `PULSE_HOME` (default `./data`):

    warehouse.duckdb   the working warehouse (one writer: the Dagster `duckdb` pool)
    marts.duckdb       the published marts (read-only for the app and BI tools)
    label_cache.sqlite model labels keyed by (text hash, model, prompt, taxonomy version)
    app_state.sqlite   review decisions and users (the app writes, a pooled asset copies)
    writeback_ledger.sqlite  what write-back sent to iMIS (and the items it works from)
    alert_log.sqlite   alerts sent (one per issue and period)
    pii/               keyed hashes of known names and e-mails (never the values)
    dbt/               dbt's manifest, saved parse and each run's artifacts (DBT_TARGET_PATH)
    dagster/           DAGSTER_HOME unless set
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCES = REPO_ROOT / "connectors" / "imis_sandbox" / "sources.yaml"
DEFAULT_TAXONOMY = REPO_ROOT / "taxonomy.yaml"
DEFAULT_VOCABULARY = REPO_ROOT / "config" / "vocabulary.yaml"


@dataclass(frozen=True)
class Paths:
    home: Path

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def marts(self) -> Path:
        return self.home / "marts.duckdb"

    @property
    def label_cache(self) -> Path:
        return self.home / "label_cache.sqlite"

    @property
    def app_state(self) -> Path:
        return self.home / "app_state.sqlite"

    @property
    def pii_dir(self) -> Path:
        return self.home / "pii"

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder for this home. dbt keys its saved parse on the profile, which
        names this home's warehouse: a parse saved for another home would be thrown away by
        every dbt run here."""
        return self.home / "dbt"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def writeback_ledger(self) -> Path:
        """What write-back sent to iMIS, keyed on the source record (SQLite, its own file)."""
        return self.home / "writeback_ledger.sqlite"

    @property
    def alert_log(self) -> Path:
        """Alerts sent, one per issue and period (SQLite, read and written by the sensors)."""
        return self.home / "alert_log.sqlite"


def _json_object(value: str | None, name: str) -> dict:
    if not value:
        return {}
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} is not valid JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f'{name} must be a JSON object, e.g. {{"batch_size": 16}}')
    return parsed


def pulse_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("PULSE_HOME") or REPO_ROOT / "data").resolve()


def paths(env: Mapping[str, str] | None = None) -> Paths:
    return Paths(pulse_home(env))


@dataclass(frozen=True)
class Settings:
    """The knobs the pipeline reads from the environment (README lists each, with defaults)."""

    home: Path
    sources_file: Path
    taxonomy_file: Path
    vocabulary_file: Path
    start_date: str  # first daily partition, YYYY-MM-DD
    timezone: str  # IANA name of the iMIS server's local time (its dates carry no zone)
    model: str  # "builtin" or any litellm model id
    model_api_base: str | None  # an OpenAI-compatible server's base URL (vLLM, Ollama, Azure)
    model_params: dict  # extra enricher/litellm parameters, from JSON in PULSE_MODEL_PARAMS
    model_budget_usd: float | None  # a labelling run estimated above this stops before sending
    duckdb_memory_limit: str
    duckdb_threads: int
    ingest_cron: str  # the live tail's cadence; iMIS asks for hourly at most
    lookback_days: int  # recent days each scheduled ingest re-reads for late and edited items
    reconcile_days: int  # days before the lookback whose counts are compared with iMIS
    max_failure_rate: float  # share of failed labels above which the coverage check fails

    @property
    def paths(self) -> Paths:
        return Paths(self.home)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            home=pulse_home(env),
            sources_file=Path(env.get("PULSE_SOURCES") or DEFAULT_SOURCES).resolve(),
            taxonomy_file=Path(env.get("PULSE_TAXONOMY") or DEFAULT_TAXONOMY).resolve(),
            vocabulary_file=Path(env.get("PULSE_VOCABULARY") or DEFAULT_VOCABULARY).resolve(),
            start_date=env.get("PULSE_START_DATE") or "2025-01-01",
            timezone=env.get("IMIS_TIMEZONE") or "UTC",
            model=env.get("PULSE_MODEL") or "builtin",
            model_api_base=env.get("PULSE_MODEL_API_BASE") or None,
            model_params=_json_object(env.get("PULSE_MODEL_PARAMS"), "PULSE_MODEL_PARAMS"),
            model_budget_usd=float(env["PULSE_MODEL_BUDGET_USD"])
            if env.get("PULSE_MODEL_BUDGET_USD")
            else None,
            duckdb_memory_limit=env.get("PULSE_DUCKDB_MEMORY_LIMIT") or "2GB",
            duckdb_threads=int(env.get("PULSE_DUCKDB_THREADS") or 2),
            ingest_cron=env.get("PULSE_INGEST_CRON") or "0 * * * *",
            lookback_days=int(env.get("PULSE_LOOKBACK_DAYS") or 3),
            reconcile_days=int(env.get("PULSE_RECONCILE_DAYS") or 30),
            max_failure_rate=float(env.get("PULSE_MAX_FAILURE_RATE") or 0.05),
        )
