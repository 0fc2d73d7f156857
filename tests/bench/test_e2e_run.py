"""The end-to-end benchmark's harness at a tiny scale: both runs finish and report every stage."""

from __future__ import annotations

import pytest

from bench.e2e.run import STAGES, main

# Two whole pipeline runs (Dagster, dbt and publish twice): minutes, so `make test-slow` only.
pytestmark = pytest.mark.slow


def cells(markdown: str, label: str) -> list[str]:
    row = next(line for line in markdown.splitlines() if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in row.strip().strip("|").split("|")][1:]


def test_harness_reports_every_stage_of_the_backfill_and_the_new_day(tmp_path):
    work, out = tmp_path / "work", tmp_path / "out"
    args = ["--items", "300", "--days", "20", "--new-day-items", "30"]
    assert main([*args, "--work-dir", str(work), "--out-dir", str(out)]) == 0

    markdown = (out / "e2e_300.md").read_text()
    for stage in STAGES:  # seconds and items/s for the backfill and for the new day
        assert all(cell not in {"", "-"} for cell in cells(markdown, stage)), stage
    backfill_items, _, day_items, _ = cells(markdown, "items")
    assert 0 < int(backfill_items.replace(",", "")) <= 300
    assert 0 < int(day_items) <= 30  # the new day alone: empty texts are skipped, not counted
    assert "incremental day" in markdown and "peak memory" in markdown
    assert (out / "e2e_300.png").stat().st_size > 0
    assert not work.exists()  # removed without --keep
