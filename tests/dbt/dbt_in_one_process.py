"""Run a list of dbt commands in one process that parses the project once.

The dbt CLI parses the whole project again whenever `--vars` change (tens of seconds here), so a
test that replays a month of one-day windows runs them through dbt's programmatic runner with
the manifest parsed once: each command still compiles with its own vars. It runs in a
subprocess, like `run_dbt`, so dbt's global state never leaks into the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def run_dbt_in_one_process(
    home: Path, commands: list[list[str]], timeout: float = 600.0
) -> subprocess.CompletedProcess[str]:
    """Run each dbt command of `commands` (e.g. ["run", "--vars", "{...}"]) against `home`
    (PULSE_HOME) in order, stopping at the first failure (returncode 1, stderr names it)."""
    env = {
        **os.environ,
        "PULSE_HOME": str(home),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "PULSE_DUCKDB_MEMORY_LIMIT": "1GB",
    }
    return subprocess.run(
        [sys.executable, __file__, str(home), json.dumps(commands)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _main(home: Path, commands: list[list[str]]) -> int:
    from dbt.cli.main import dbtRunner

    paths = [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(home / "dbt_target"),
        "--log-path",
        str(home / "dbt_logs"),
    ]
    parsed = dbtRunner().invoke(["parse", *paths])
    if not parsed.success:
        print(f"dbt parse failed: {parsed.exception}", file=sys.stderr)
        return 1
    runner = dbtRunner(manifest=parsed.result)
    for command in commands:
        result = runner.invoke([*command, *paths])
        if not result.success:
            print(f"dbt {' '.join(command)} failed: {result.exception}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(Path(sys.argv[1]), json.loads(sys.argv[2])))
