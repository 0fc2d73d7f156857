"""A pilot with only an export file: no iMIS at all, members unknown, bad rows reported."""

from __future__ import annotations

import json
import os
from contextlib import ExitStack

import duckdb

from orchestration.cli import prepare_environment, run_pipeline, start_sandbox_if_needed


def test_file_only_pipeline_builds_marts_without_imis(
    pulse_env, reused_home, tmp_path, monkeypatch
):
    home = reused_home("main")
    monkeypatch.setenv("PULSE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    exports = tmp_path / "exports"
    exports.mkdir()
    rows = [
        {
            "id": f"s{i}",
            "text": text,
            "channel": "survey",
            "created_at": f"2026-05-0{1 + i % 3}T09:00:00",
            "member_id": f"m{i}",
            "question": "What did you think of the conference?",
        }
        for i, text in enumerate(
            [
                "The keynote was inspiring and the sessions were practical.",
                "Registration took forever and nobody answered the help line. Call me at 555-201-7788.",
                "Too expensive this year; I may not renew my membership.",
                "Great networking, thanks to Maria Gonzalez for organising it.",
            ]
        )
    ]
    lines = [json.dumps(r) for r in rows] + ['{"id": "bad", "text": ""']
    (exports / "survey.jsonl").write_text("\n".join(lines) + "\n")
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        "  - name: pilot_survey\n"
        "    kind: file\n"
        "    path: exports/survey.jsonl\n"
        "    columns: {id: id, text: text, channel: channel, created_at: created_at,\n"
        "              member_id: member_id, question: question}\n"
    )
    monkeypatch.setenv("PULSE_SOURCES", str(sources))
    monkeypatch.setenv("PULSE_START_DATE", "2026-05-01")

    settings = prepare_environment(os.environ)
    with ExitStack() as stack:
        start_sandbox_if_needed(settings, os.environ, stack)
        assert "IMIS_BASE_URL" not in os.environ  # nothing to start: no iMIS source configured
        marts = run_pipeline("2026-05-01", "2026-05-03")

    with duckdb.connect(str(marts), read_only=True) as con:
        facts = con.execute(
            "select source_key, member_tier, enrichment_status, redacted_text from fct_feedback "
            "order by source_key"
        ).fetchall()
    assert [f[0] for f in facts] == ["s0", "s1", "s2", "s3"]
    assert {f[1] for f in facts} == {"Unknown"}  # members are unknown, and segments say so
    assert {f[2] for f in facts} == {"ok"}
    text = " ".join(f[3] for f in facts)
    assert "555-201-7788" not in text and "Maria Gonzalez" not in text
    with duckdb.connect(str(settings.paths.warehouse), read_only=True) as con:
        problems = con.execute("select location, reason from raw.ingest_problems").fetchall()
    assert len(problems) == 1
    assert problems[0][0].endswith("survey.jsonl:5") and "not valid JSON" in problems[0][1]
