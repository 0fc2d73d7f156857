"""`make pipeline` without --start begins at the first day on which the sources hold an item,
not at PULSE_START_DATE: a demo over a year of data does not run a year of empty days."""

from __future__ import annotations

import json
from datetime import date, datetime

from connectors.imis import ImisClient, iter_source_items
from connectors.imis_sandbox import SandboxServer
from connectors.records import SourceItem
from connectors.sources import load_sources
from orchestration.cli import first_day_with_items, partition_range, rebuild_range
from orchestration.lib.config import DEFAULT_SOURCES, Settings

END = date(2026, 3, 31)


def test_first_day_is_the_sandbox_sources_earliest_item(tmp_path):
    with SandboxServer(tmp_path / "sb", members=60, items=300, end_date=END, days=40, seed=3) as sb:
        env = {"PULSE_START_DATE": "2025-01-01", "IMIS_BASE_URL": sb.url,
               "IMIS_USERNAME": "pulse", "IMIS_PASSWORD": "pulse-sandbox"}  # fmt: skip
        first = first_day_with_items(Settings.from_env(env), env)
        with ImisClient(sb.url, "pulse", "pulse-sandbox") as client:
            earliest = min(
                record.created_at.date()
                for source in load_sources(DEFAULT_SOURCES).sources
                for record in iter_source_items(
                    client, source, datetime(2025, 1, 1), datetime(2026, 4, 2)
                )
                if isinstance(record, SourceItem)
            )
    assert first == earliest
    assert date(2026, 2, 19) <= first <= date(2026, 2, 25)  # the sandbox's 40 days end 03-31


def test_file_sources_are_read_and_no_items_means_none(tmp_path):
    rows = [{"id": "a", "text": "Great event", "created_at": "2026-05-03T10:00:00"},
            {"id": "b", "text": "Too long queue", "created_at": "2026-05-09T10:00:00"}]  # fmt: skip
    (tmp_path / "x.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "empty.jsonl").write_text("")
    for name, expected in (("x.jsonl", date(2026, 5, 3)), ("empty.jsonl", None)):
        sources = tmp_path / f"{name}.yaml"
        sources.write_text(
            f"sources:\n  - {{name: pilot, kind: file, path: {name},\n"
            "     columns: {id: id, text: text, created_at: created_at}}\n"
        )
        env = {"PULSE_START_DATE": "2026-01-01", "PULSE_SOURCES": str(sources)}
        assert first_day_with_items(Settings.from_env(env), env) == expected


def test_an_erasure_rebuilds_the_days_of_the_members_items_within_the_configured_range():
    settings = Settings.from_env({"PULSE_START_DATE": "2026-01-01"})
    today = partition_range(settings, None, None)[1]
    march = (date(2026, 3, 2), date(2026, 3, 17))
    assert rebuild_range(settings, march) == ("2026-03-02", "2026-03-17")
    # Items older than the first partition: only the configured days hold marts.
    assert rebuild_range(settings, (date(2025, 6, 1), date(2026, 2, 1))) == (
        "2026-01-01",
        "2026-02-01",
    )
    # No day known, or none inside the range: everything, as a full rebuild would.
    assert rebuild_range(settings, None) == ("2026-01-01", today)
    assert rebuild_range(settings, (date(2024, 1, 1), date(2024, 2, 1))) == ("2026-01-01", today)
