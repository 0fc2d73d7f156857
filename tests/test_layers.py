"""The import layers of DESIGN.md rule 8 hold (import-linter contracts in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path


def test_import_contracts_are_kept():
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "lint-imports"),
            "--config",
            str(root / "pyproject.toml"),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
