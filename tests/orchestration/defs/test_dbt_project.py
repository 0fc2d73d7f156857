"""When a home's saved dbt parse is fresh: present, younger than the project's files, and
prepared for this home (a copied, moved or restored home would otherwise make dbt parse the
whole project on every call while the files looked fresh)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.defs.transform.project import (
    DBT_PROJECT_DIR,
    manifest_is_stale,
    prepared_for,
    prepared_for_path,
)


def _saved_parse(home: Path) -> DbtProject:
    """A project whose target folder in `home` holds a manifest, a saved parse and the stamp,
    all written now (after every project file)."""
    target = home / "dbt"
    target.mkdir(parents=True)
    project = DbtProject(DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target)
    (target / "manifest.json").write_text("{}")
    (target / "partial_parse.msgpack").write_bytes(b"")
    prepared_for_path(project).write_text(prepared_for(project))
    return project


def test_a_saved_parse_prepared_here_after_the_last_edit_is_fresh(tmp_path):
    assert not manifest_is_stale(_saved_parse(tmp_path / "home"))


def test_a_missing_file_or_stamp_makes_it_stale(tmp_path):
    for name in ("manifest.json", "partial_parse.msgpack", "prepared_for.txt"):
        project = _saved_parse(tmp_path / name)
        (project.target_path / name).unlink()
        assert manifest_is_stale(project), name


def test_a_home_copied_elsewhere_is_stale_there_and_fresh_at_the_original(tmp_path):
    original = _saved_parse(tmp_path / "home")
    shutil.copytree(tmp_path / "home", tmp_path / "copy")  # a backup restored elsewhere
    copy = DbtProject(
        DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=tmp_path / "copy" / "dbt"
    )
    assert manifest_is_stale(copy)
    assert not manifest_is_stale(original)


def test_an_edited_model_makes_it_stale(tmp_path):
    project = _saved_parse(tmp_path / "home")
    model = DBT_PROJECT_DIR / "models" / "marts" / "dim_topics.sql"
    future = project.manifest_path.stat().st_mtime + 60
    stat = model.stat()
    try:
        os.utime(model, (stat.st_atime, future))
        assert manifest_is_stale(project)
    finally:
        os.utime(model, (stat.st_atime, stat.st_mtime))
