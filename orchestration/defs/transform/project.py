"""The dbt project, with its manifest prepared on first use (dbt parse needs no network)."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.lib.config import REPO_ROOT

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# dbt is installed in the same environment as dagster; its PATH may not include that venv
# (a scheduler, an IDE), so the executable is named explicitly.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


def manifest_is_stale(project: DbtProject) -> bool:
    """True when the manifest is missing or older than any model, macro, test or config file:
    `dbt parse` then runs (10-20 s); otherwise a run starts straight away."""
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = (
        path
        for path in DBT_PROJECT_DIR.rglob("*")
        if path.suffix in {".sql", ".yml", ".yaml", ".csv"}
        and not {"target", "logs", "dbt_packages"} & set(path.relative_to(DBT_PROJECT_DIR).parts)
    )
    return any(path.stat().st_mtime > built for path in sources)


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    # `dagster dev` re-parses on start (prepare_if_dev); elsewhere the manifest is prepared
    # when it is missing or older than the project's files, so it never goes stale.
    if project.preparer and manifest_is_stale(project):
        project.preparer.prepare(project)
    return project
