"""The whole product against the iMIS sandbox on 127.0.0.1: ingest -> redact -> enrich -> dbt ->
publish, run the way `make pipeline` runs it (one run of the asset job over a partition range)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from connectors.imis_sandbox.generate import CHAPTERS, TIERS
from orchestration.cli import run_pipeline
from tests.e2e.homes import marts_content

MIDDLE_DAY = "2026-03-15"


def _count(db: Path, sql: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def _counts(home: Path) -> dict[str, int]:
    tables = {
        "items": "select count(*) from raw.feedback_items",
        "labels": "select count(*) from enriched.item_labels",
        "topics": "select count(*) from enriched.item_topics",
        "members": "select count(*) from raw.members",
        "fct": "select count(*) from marts.fct_feedback",
        "agg": "select sum(item_count) from marts.agg_sentiment_daily",
    }
    return {name: _count(home / "warehouse.duckdb", sql) for name, sql in tables.items()}


def test_marts_hold_one_row_per_sandbox_item(pipeline_run):
    home, marts = pipeline_run["home"], pipeline_run["marts"]
    assert marts == home / "marts.duckdb"
    counts = _counts(home)
    # every non-empty text item the sandbox holds for the window is ingested exactly once
    problems = _count(home / "warehouse.duckdb", "select count(*) from raw.ingest_problems")
    sandbox_items = pipeline_run["truth"]["params"]["items"]
    assert counts["items"] + problems == sandbox_items
    assert counts["labels"] == counts["items"] == counts["fct"] == counts["agg"]
    assert counts["members"] > 100
    with duckdb.connect(str(marts), read_only=True) as con:
        statuses = dict(
            con.execute(
                "select enrichment_status, count(*) from fct_feedback group by 1"
            ).fetchall()
        )
        assert sum(statuses.values()) == counts["items"]
        assert set(statuses) <= {"ok", "failed"}
        channels = {
            r[0] for r in con.execute("select distinct channel from fct_feedback").fetchall()
        }
        assert channels == {"email", "survey", "community", "case"}
        columns = {r[0] for r in con.execute("describe fct_feedback").fetchall()}
    assert {
        "item_id",
        "source_name",
        "source_key",
        "channel",
        "created_at",
        "member_id",
        "redacted_text",
        "sentiment_label",
        "sentiment_score",
        "sentiment_confidence",
        "urgency_level",
        "primary_topic",
        "enrichment_status",
    } <= columns


def test_segment_codes_are_named_from_imis_and_the_chapter_seed(pipeline_run):
    with duckdb.connect(str(pipeline_run["marts"]), read_only=True) as con:
        names = {
            (kind, code): (label, source)
            for kind, code, label, source in con.execute(
                "select segment_type, segment_code, segment_label, label_source from dim_segments"
            ).fetchall()
        }
        used = con.execute(
            "select distinct member_tier, member_chapter from agg_sentiment_daily"
        ).fetchall()
    for tier, chapter in used:
        if tier != "Unknown":  # iMIS's CustomerTypeDescription, synced with the member
            assert names["tier", tier] == (TIERS[tier][0], "imis")
        if chapter != "Unknown":  # the chapter_names seed lists the sandbox's chapters
            assert names["chapter", chapter] == (CHAPTERS[chapter][0], "chapter_names")
    assert {t for t, _ in used} - {"Unknown"} and {c for _, c in used} - {"Unknown"}


def test_every_dbt_call_reuses_the_homes_saved_parse(pipeline_run):
    """dbt keys its saved parse on the profile, which names the home's warehouse: the parse,
    and every dbt call's artifacts, live in the home, so no call of the run parses again."""
    target = pipeline_run["home"] / "dbt"
    logs = sorted(target.glob("*/dbt.log"))
    assert len(logs) >= 2, f"expected the per-day and the whole-table dbt calls under {target}"
    for log in logs:
        text = log.read_text()
        assert "Partial parsing enabled" in text, f"{log} did not start from the saved parse"
        assert "Unable to do partial parsing" not in text, f"{log} parsed the project again"


def test_rerunning_a_day_leaves_identical_marts(pipeline_env):
    home, marts = pipeline_env["home"], pipeline_env["marts"]
    counts, content = _counts(home), marts_content(marts)
    assert len(content) >= 9 and content["fct_feedback"] and content["agg_sentiment_daily"]
    run_pipeline(MIDDLE_DAY, MIDDLE_DAY)  # re-running a day replaces that day only
    assert _counts(home) == counts
    assert marts_content(marts) == content


def test_dashboard_overview_renders_on_the_pipeline_marts(pipeline_run, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PULSE_HOME", str(pipeline_run["home"]))
    monkeypatch.delenv("PULSE_USERS_FILE", raising=False)  # the demo users file
    app = Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=60)
    at.session_state["pulse_user"] = "director"  # signed in (the form is tested in tests/app)
    at.run()
    assert not at.exception
    assert not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Feedback items"].replace(",", "")) > 0
