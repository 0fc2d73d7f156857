"""Planning, configuration and the ledger: no server needed."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

from orchestration.lib.warehouse import Warehouse
from orchestration.lib.writeback import (
    WritebackConfigError,
    WritebackLedger,
    execute_plan,
    latest_case_decisions,
    load_writeback_config,
    plan_alert_group,
    plan_follow_up_cases,
    plan_sentiment_rows,
    plan_thank_yous,
    read_items,
)
from orchestration.lib.writeback.config import DEFAULT_CONFIG
from tests.orchestration.writeback.helpers import (
    START,
    build_warehouse,
    config,
    eligible,
    make_items,
)

NOW = datetime(2026, 4, 2, 9, 30)


def test_sentiment_rows_map_fields_from_configuration_and_skip_with_reasons():
    items = make_items("src")
    cfg = config(
        sentiment_log={
            "panel_source": "ABC_Sentiment_Log",
            "fields": {"source_entity": "SrcEntity", "source_key": "SrcKey",
                       "sentiment": "Sentiment", "confidence": "Confidence",
                       "urgency": "Urgency", "processed_at": "ProcessedOn"},
        }
    )  # fmt: skip
    plan = plan_sentiment_rows(items, cfg, start=START, timezone="America/Chicago")
    assert len(plan.writes) == len(eligible(items)) == 12
    first = plan.writes[0]
    assert first.target == "ABC_Sentiment_Log" and first.member_id == "100001"
    assert first.key_fields == {"SrcEntity": "src", "SrcKey": "1000"}
    assert first.properties == {
        "Sentiment": "negative",
        "Confidence": Decimal("0.8"),
        "Urgency": "high",
        "ProcessedOn": datetime(2026, 4, 1, 7, 0),  # 12:00 UTC in Chicago's local time
    }
    reasons = {s.record_key: s.reason for s in plan.skips}
    assert reasons == {
        "src:nomember": "no member: the item is not linked to an iMIS contact",
        "src:failed": "not labelled (enrichment failed)",
        "src:old": "created before the write-back start date 2026-03-01",
    }


def test_default_mapping_matches_the_sandbox_panel_and_flags_follow_up():
    plan = plan_sentiment_rows(make_items("src"), config(), start=START, timezone="UTC")
    row = plan.writes[0]
    assert set(row.key_fields) == {"SourceEntity", "SourceKey"}
    assert set(row.properties) == {"Sentiment", "Score", "Topics", "Summary", "ModelVersion",
                                   "ProcessedOn", "NeedsFollowUp"}  # fmt: skip
    assert row.properties["NeedsFollowUp"] is True and row.properties["Score"] == Decimal("-0.7")
    assert row.properties["Topics"] == "renewal_billing, communications"
    assert plan.writes[1].properties["NeedsFollowUp"] is False


def test_cases_need_an_approval_unless_automatic_creation_is_enabled():
    items = make_items("src")
    candidates = [i for i in eligible(items) if i.is_negative_high_urgency]
    approved, rejected = candidates[0], candidates[1]
    decisions = latest_case_decisions([
        {"item_id": approved.item_id, "decided_by": "ana", "decided_at": NOW, "case_action": "approve"},
        {"item_id": approved.item_id, "decided_by": "ben", "decided_at": NOW, "case_action": None},
        {"item_id": rejected.item_id, "decided_by": "ana", "decided_at": NOW, "case_action": "approve"},
        {"item_id": rejected.item_id, "decided_by": "ben", "decided_at": NOW, "case_action": "reject"},
    ])  # fmt: skip
    plan = plan_follow_up_cases(
        items, config(), decisions, start=START, now=NOW, app_url="http://app"
    )
    assert [w.record_key for w in plan.writes] == [approved.item_id]
    case = plan.writes[0]
    assert case.activity_type == "FEEDBACK_FU" and case.key_fields == {
        "OTHER_CODE": f"pulse:{approved.item_id}"
    }
    assert case.properties["TICKLER_DATE"] == date(2026, 4, 5)
    note = case.properties["NOTE"]
    assert "Summary of item 0" in note and "billing error" in note and "renewal_billing" in note
    assert "Excerpt (redacted): Item 0: the renewal invoice for <PERSON>" in note
    assert f"http://app/review?item={approved.item_id.replace(':', '%3A')}" in note
    assert "approved by ana" in note
    skips = {s.record_key: s.reason for s in plan.skips}
    assert skips[rejected.item_id] == "rejected by ben in the review queue"
    assert skips[candidates[2].item_id] == "awaiting approval in the review queue"

    auto = config(follow_up_cases={"auto_create_min_confidence": 0.9})
    plan = plan_follow_up_cases(items, auto, {}, start=START, now=NOW)
    confident = {i.item_id for i in candidates if i.sentiment_confidence >= 0.9}
    assert {w.record_key for w in plan.writes} == confident and confident
    assert all("created automatically" in w.properties["NOTE"] for w in plan.writes)


def test_alert_group_adds_each_member_once_and_thank_yous_need_praise():
    items = make_items("src", 18)
    cfg = config(alert_group={"enabled": True, "topics": ["renewal_billing"]})
    plan = plan_alert_group(items, cfg, start=START)
    members = [w.member_id for w in plan.writes]
    assert len(members) == len(set(members)) > 0
    assert all(w.group_name == "Pulse: follow-up needed" for w in plan.writes)
    thanks = plan_thank_yous(items, config(), start=START, now=NOW)
    assert {w.record_key for w in thanks.writes} == {
        i.item_id for i in eligible(items) if i.praises_staff and i.sentiment_label == "positive"
    }
    assert thanks.writes and all(w.activity_type == "THANKYOU" for w in thanks.writes)


def test_dry_run_returns_exactly_what_would_be_written_and_records_nothing(tmp_path):
    ledger = WritebackLedger(tmp_path / "ledger.sqlite")
    plan = plan_sentiment_rows(make_items("src"), config(), start=START, timezone="UTC")
    report = execute_plan(plan, config(), ledger, None, dry_run=True)
    assert report.dry_run and len(report.would_write) == 12 and report.skipped == 3
    first = report.would_write[0]
    assert first["target"] == "Sentiment_Log" and first["member_id"] == "100001"
    assert first["key"] == {"SourceEntity": "src", "SourceKey": "1000"}
    assert first["properties"]["Score"] == -0.7
    json.dumps(report.would_write)  # printable as is
    assert ledger.counts("sentiment_log") == {}


def test_config_file_env_overrides_and_clear_errors(tmp_path):
    shipped = load_writeback_config({"PULSE_WRITEBACK_CONFIG": str(DEFAULT_CONFIG)})
    assert shipped.enabled is False and shipped.sentiment_log.panel_source == "Sentiment_Log"
    assert load_writeback_config({}).enabled is False
    on = load_writeback_config(
        {"PULSE_WRITEBACK_ENABLED": "1", "PULSE_WRITEBACK_DRY_RUN": "yes",
         "PULSE_WRITEBACK_START_DATE": "2026-02-01"}
    )  # fmt: skip
    assert on.enabled and on.dry_run and on.start_date == date(2026, 2, 1)
    assert on.effective_start("2025-01-01") == date(2026, 2, 1)

    bad = tmp_path / "wb.yaml"
    bad.write_text("sentiment_log:\n  fields: {source_entity: null, source_key: K}\n")
    with pytest.raises(WritebackConfigError, match=r"wb\.yaml.*source_entity must name a property"):
        load_writeback_config({"PULSE_WRITEBACK_CONFIG": str(bad)})
    bad.write_text("follow_up_cases: {auto_create_min_confidence: 2}\n")
    with pytest.raises(WritebackConfigError, match="auto_create_min_confidence"):
        load_writeback_config({"PULSE_WRITEBACK_CONFIG": str(bad)})
    with pytest.raises(WritebackConfigError, match="does not exist"):
        load_writeback_config({"PULSE_WRITEBACK_CONFIG": str(tmp_path / "missing.yaml")})
    with pytest.raises(WritebackConfigError, match="PULSE_WRITEBACK_ENABLED"):
        load_writeback_config({"PULSE_WRITEBACK_ENABLED": "maybe"})


def test_items_are_read_from_the_warehouse_with_their_detail(tmp_path):
    items = make_items("src")
    path = build_warehouse(tmp_path / "warehouse.duckdb", items)
    with Warehouse(path).connect(read_only=True) as con:
        read = read_items(con, START)
    assert len(read) == len(items) - 1  # the item created before the start date is not read
    by_id = {i.item_id: i for i in read}
    first = by_id["src:1000"]
    assert first == items[0]
    assert by_id["src:failed"].summary is None and by_id["src:failed"].topics == ["renewal_billing"]


def test_ledger_snapshot_pending_written_and_erasure(tmp_path):
    ledger = WritebackLedger(tmp_path / "ledger.sqlite")
    items = make_items("src")
    assert ledger.replace_snapshot(items, START) == len(items)
    assert ledger.snapshot()[0] == sorted(items, key=lambda i: i.item_id)[0]
    ledger.mark_pending(
        "sentiment_log", "src:1000", item_id="src:1000", member_id="100001", target="Sentiment_Log"
    )
    assert ledger.get("sentiment_log", "src:1000").status == "pending"
    ledger.mark_written(
        "sentiment_log", "src:1000", imis_key="100001|1", content_hash="h", action="created"
    )
    ledger.mark_skipped("sentiment_log", [("src:1000", "src:1000", "100001", "no reason")])
    entry = ledger.get("sentiment_log", "src:1000")
    assert (entry.status, entry.imis_key, entry.attempts) == ("written", "100001|1", 1)
    assert ledger.forget_members(["100001"]) == 1
    assert ledger.get("sentiment_log", "src:1000") is None
    assert all(i.member_id != "100001" for i in ledger.snapshot())


def test_the_dry_run_command_prints_one_json_line_per_write(pulse_env, monkeypatch, capsys):
    from orchestration.lib.config import Paths
    from orchestration.lib.writeback.__main__ import main

    monkeypatch.setenv("PULSE_WRITEBACK_START_DATE", START.isoformat())
    assert main(["--kind", "sentiment_log"]) == 1  # no snapshot yet: says so
    WritebackLedger(Paths(pulse_env).writeback_ledger).replace_snapshot(make_items("src"), START)
    assert main(["--kind", "sentiment_log"]) == 0
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 12 and lines[0]["key"] == {"SourceEntity": "src", "SourceKey": "1000"}
    assert "12 to write" in err and "3 skipped" in err
    assert WritebackLedger(Paths(pulse_env).writeback_ledger).counts("sentiment_log") == {}
