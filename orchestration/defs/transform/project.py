"""The dbt project, with its manifest prepared on first use (dbt parse needs no network)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.lib.config import REPO_ROOT, paths

from .dbt_cli import PulseProjectPreparer

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def manifest_is_stale(project: DbtProject) -> bool:
    """True when the manifest or dbt's saved parse (partial_parse.msgpack, which every dbt run
    of the assets starts from) is missing, was prepared for another place, or is older than any
    model, macro, test or config file: `dbt parse` then runs (10-20 s); otherwise a run starts
    straight away."""
    saved = [project.manifest_path, partial_parse_path(project)]
    if not all(path.exists() for path in saved):
        return True
    stamp = prepared_for_path(project)
    if not stamp.exists() or stamp.read_text() != prepared_for(project):
        return True
    built = min(path.stat().st_mtime for path in saved)
    sources = (
        path
        for path in DBT_PROJECT_DIR.rglob("*")
        if path.suffix in {".sql", ".yml", ".yaml", ".csv"}
        and not {"target", "logs", "dbt_packages"} & set(path.relative_to(DBT_PROJECT_DIR).parts)
    )
    return any(path.stat().st_mtime > built for path in sources)


def prepared_for(project: DbtProject) -> str:
    """Where a saved parse belongs. dbt throws a saved parse away, and parses the whole project
    on every call, when the profile's warehouse path differs from the one it was saved with: a
    home copied, moved or restored from a backup elsewhere keeps files that look fresh but no
    longer fit. The target folder lives in the home, so its path names the home; the project
    folder names the checkout (the seeds' paths)."""
    return f"{project.project_dir.resolve()}\n{target_dir(project).resolve()}\n"


def prepared_for_path(project: DbtProject) -> Path:
    return target_dir(project) / "prepared_for.txt"


def partial_parse_path(project: DbtProject) -> Path:
    """dbt's saved parse, which dagster-dbt copies into each run's own target folder."""
    return target_dir(project) / "partial_parse.msgpack"


def target_dir(project: DbtProject) -> Path:
    return project.project_dir / project.target_path


def dbt_project() -> DbtProject:
    """The project with its target folder in PULSE_HOME (as the environment names it now).

    dbt reuses a saved parse only while the profile is the one it was saved with, and the
    profile names the home's warehouse: a target folder shared by every home made each dbt run
    for another home parse the whole project again (10-20 s per dbt call)."""
    return _project_with_target(paths().dbt_target)


@cache
def _project_with_target(target: Path) -> DbtProject:
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target
    )
    # Prepared here whenever `manifest_is_stale` says so (under `dagster dev` or not), by a
    # preparer that never runs `dbt --version` (dbt_cli.py).
    if manifest_is_stale(project):
        PulseProjectPreparer().prepare(project)
        prepared_for_path(project).write_text(prepared_for(project))
    return project
