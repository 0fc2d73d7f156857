"""Helpers for e2e tests that work on a copy of the shared pipeline run's home."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from orchestration.lib.config import Paths
from tests.conftest import PIPELINE_ENV_VARS

# Stamped with the time of the run that wrote them, not derived from the data.
RUN_TIME_COLUMNS = {"enriched_at", "ingested_at", "synced_at", "published_at", "refreshed_at"}


def copy_home(pipeline_run: dict, home: Path) -> Path:
    """A private copy of the shared run's PULSE_HOME (warehouse, marts, caches, run storage) in
    `home`, an empty `reused_home`: its own dbt target folder, prepared for its path, is kept
    instead of the run's, prepared for another."""
    target = Paths(pipeline_run["home"]).dbt_target
    shutil.copytree(
        pipeline_run["home"],
        home,
        ignore=lambda folder, _: [target.name] if Path(folder) == target.parent else [],
        dirs_exist_ok=True,
    )
    return home


def cli_env(pipeline_run: dict, home: Path) -> dict[str, str]:
    """The shared run's environment for a CLI subprocess, pointed at `home`."""
    env = {k: v for k, v in os.environ.items() if k not in PIPELINE_ENV_VARS}
    env.update(pipeline_run["env"])
    env.update(PULSE_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
    return env


def marts_content(marts: Path) -> dict[str, list[tuple]]:
    """Every row of every published mart (run-time stamps aside), sorted."""
    content = {}
    with duckdb.connect(str(marts), read_only=True) as con:
        tables = [r[0] for r in con.execute("show tables").fetchall()]
        for table in tables:
            columns = [
                r[0]
                for r in con.execute(f'describe "{table}"').fetchall()
                if r[0] not in RUN_TIME_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {select} from "{table}"').fetchall()
            content[table] = sorted(rows, key=repr)
    return content


def duckdb_cells(path: Path) -> list[tuple[str, object]]:
    """(schema.table.column, value) of every cell of every table and view of a DuckDB file:
    DuckDB compresses strings on disk, so a search of its files must read them cell by cell."""
    out = []
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        for schema, name in tables:
            cursor = con.execute(f'select * from "{schema}"."{name}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                out.extend((f"{schema}.{name}.{c}", v) for c, v in zip(columns, row, strict=True))
    return out
