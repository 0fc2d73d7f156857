"""dagster-dbt's dbt CLI resource and manifest preparer, without two start-up steps.

dagster-dbt's `DbtCliResource.cli()` (which its preparer's `dbt parse` uses too) does two things
before it starts dbt:

- it runs `dbt --version` once per resource, to tell dbt Core from the Fusion engine. That is
  a whole dbt start-up (3-6 s on 2 cores), and dbt's `--version` also asks the package index
  for the latest release: an outbound call the pipeline must never make (it runs with loopback
  only). The executable is this environment's dbt Core (`DBT_EXECUTABLE`), so its version is
  the installed package's.
- it opens a handle to the dbt adapter in the step's own process (loading every macro, 1-2 s per
  call), used only by `fetch_row_counts()` and `fetch_column_metadata()`, which these assets do
  not call.

Both, and the preparer's manifest step, are private hooks of dagster-dbt (pinned in the lock);
tests/orchestration/defs/test_dbt_cli.py fails if an upgrade renames them, so neither the
savings nor the no-outbound-call rule can silently lapse.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer
from dbt.version import __version__ as DBT_CORE_VERSION
from packaging import version

# dbt is installed in the same environment as dagster; its PATH may not include that venv
# (a scheduler, an IDE), so the executable is named explicitly.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


class PulseDbtCliResource(DbtCliResource):
    """`DbtCliResource` for this environment's dbt Core executable (pass `DBT_EXECUTABLE`)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(DBT_CORE_VERSION)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


class PulseProjectPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (`dbt parse` under its cross-process lock), running dbt through
    `PulseDbtCliResource`.

    dagster-dbt's own preparer then marks every seed changed in the saved parse, in case the
    project is moved after preparing (a seed's parse holds its absolute path). That makes every
    later dbt call re-parse the seed and rebuild the manifest around it: 1.5-2 s per call. Here a
    saved parse is prepared for one place, and re-prepared when the project or the home moves
    (`prepared_for` in project.py), so the saved parse is kept as dbt wrote it."""

    def _prepare_manifest(self, project: DbtProject) -> None:
        PulseDbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
            self._prepare_project_cli_args, target_path=project.target_path
        ).wait()
