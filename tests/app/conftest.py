"""Fixtures for the dashboard's tests: a synthetic published marts file (tests/app/marts_fixture.py,
no dbt), a users file with one account per role, and helpers to open the app as a user.

Also makes the repository root importable (`orchestration`, `app`, `tests`): the project is not
installed into the venv and pytest's default import mode puts only this folder on sys.path.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[2]
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from app.access import hash_password  # noqa: E402
from tests.app.marts_fixture import Marts, write_marts  # noqa: E402

APP = _REPO_ROOT / "app" / "streamlit_app.py"
TIMEOUT_S = 30
PASSWORD = "correct horse battery"

# username -> (roles, chapter)
USERS: dict[str, tuple[list[str], str | None]] = {
    "lead": (["leadership"], None),
    "director": (["leadership", "reviewer"], None),
    "reviewer": (["reviewer"], None),
    "north_manager": (["chapter_manager"], "North"),
    "north_reviewer": (["reviewer"], "North"),
    "viewer": (["viewer"], None),
}
PAGES = {
    "overview": "app_pages/overview.py",
    "topics": "app_pages/topics.py",
    "segments": "app_pages/segments.py",
    "emerging": "app_pages/emerging.py",
    "review": "app_pages/review_queue.py",
    "ask": "app_pages/ask.py",
}
ITEM_LEVEL_PAGES = {"review"}


@pytest.fixture(scope="session")
def users_yaml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    hashed = hash_password(PASSWORD)
    lines = ["users:"]
    for username, (roles, chapter) in USERS.items():
        lines += [
            f"  - username: {username}",
            f"    name: Test {username}",
            f"    roles: [{', '.join(roles)}]",
            f"    password_hash: {hashed}",
        ]
        if chapter:
            lines.append(f"    chapter: {chapter}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def marts_source(tmp_path_factory: pytest.TempPathFactory) -> Marts:
    return write_marts(tmp_path_factory.mktemp("marts") / "marts.duckdb")


@pytest.fixture
def pulse_home(
    tmp_path: Path,
    marts_source: Marts,
    users_yaml: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A fresh PULSE_HOME per test (its own copy of the marts, an empty app state)."""
    home = tmp_path / "pulse_home"
    home.mkdir()
    shutil.copy2(marts_source.path, home / "marts.duckdb")
    monkeypatch.setenv("PULSE_HOME", str(home))
    monkeypatch.setenv("PULSE_USERS_FILE", str(users_yaml))
    monkeypatch.delenv("PULSE_HMAC_SECRET", raising=False)
    return home


@pytest.fixture
def open_app(pulse_home: Path) -> Callable[..., AppTest]:
    """open_app(user, page=None, query=None): the app run as `user`, on `page` (a PAGES key)."""

    def _open(
        user: str | None,
        page: str | None = None,
        query: dict[str, str | list[str]] | None = None,
    ) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
        for name, value in (query or {}).items():
            at.query_params[name] = value
        if user is not None:
            at.session_state["pulse_user"] = user
        at.run()
        if page is not None and page != "overview":
            at.switch_page(PAGES[page]).run()
        return at

    return _open
