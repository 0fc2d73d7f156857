"""Where Member Pulse keeps things, derived from the environment when asked (never at import).

Every file the product stores lives under `PULSE_HOME` (default `./data`):

    warehouse.duckdb   the working warehouse (one writer: the Dagster `duckdb` pool)
    marts.duckdb       the published marts (read-only for the app and BI tools)
    label_cache.sqlite model labels keyed by (text hash, model, prompt, taxonomy version)
    app_state.sqlite   review decisions and users (the app writes, a pooled asset copies)
    pii/               keyed hashes of known names and e-mails (never the values)
    dagster/           DAGSTER_HOME unless set
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCES = REPO_ROOT / "connectors" / "imis_sandbox" / "sources.yaml"
DEFAULT_TAXONOMY = REPO_ROOT / "taxonomy.yaml"


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
    def dagster_home(self) -> Path:
        return self.home / "dagster"


def pulse_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("PULSE_HOME") or REPO_ROOT / "data").resolve()


def paths(env: Mapping[str, str] | None = None) -> Paths:
    return Paths(pulse_home(env))
