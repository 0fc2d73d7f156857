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


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    # `dagster dev` re-parses on start (prepare_if_dev); elsewhere the manifest is prepared
    # once if missing, and `make` targets re-parse before a run so it never goes stale.
    if project.preparer and not project.manifest_path.exists():
        project.preparer.prepare(project)
    return project
