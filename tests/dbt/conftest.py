"""Make the repository root importable (`orchestration`, `app`, `tests.warehouse_fixtures`).

The project is not installed into the venv and pytest's default import mode puts only this
folder on sys.path. (Adding `pythonpath = ["."]` to [tool.pytest.ini_options] would make this
unnecessary.)
"""

import sys
from pathlib import Path

_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)
