"""Write-back runs against the live sandbox: one row per item, whatever happens to the run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from orchestration.lib.app_state import AppState, Decision
from orchestration.lib.writeback import (
    WritebackLedger,
    WritebackPreflightError,
    latest_case_decisions,
    run_writeback,
)
from tests.orchestration.writeback.helpers import (
    START,
    activities,
    config,
    eligible,
    make_items,
    sentiment_rows,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 4, 2, 9, 30)


def run(kind, items, ledger, client, cfg=None, **kw):
    return run_writeback(
        kind, items, cfg or config(), ledger, client, start=START, timezone="UTC", now=NOW, **kw
    )


def expected_rows(items) -> dict:
    return {(i.member_id, i.source_key): 1 for i in eligible(items)}


def test_full_run_writes_one_row_per_eligible_item_and_a_rerun_writes_none(
    tmp_path, client, source
):
    items = make_items(source)
    ledger = WritebackLedger(tmp_path / "ledger.sqlite")
    first = run("sentiment_log", items, ledger, client)
    assert (first.created, first.skipped, first.failed) == (12, 3, 0)
    assert sentiment_rows(client, source) == expected_rows(items)
    assert ledger.counts("sentiment_log") == {"written": 12, "skipped": 3}
    entry = ledger.get("sentiment_log", items[0].item_id)
    assert entry.imis_key.startswith("100001|") and entry.first_written_at

    second = run("sentiment_log", items, ledger, client)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 12)
    assert sentiment_rows(client, source) == expected_rows(items)

    # A reviewer's correction changes the row in place: an update, never a second row.
    corrected = [
        items[0].__class__(**{**items[0].__dict__, "sentiment_label": "neutral"}),
        *items[1:],
    ]
    third = run("sentiment_log", corrected, ledger, client)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 11)
    assert sentiment_rows(client, source) == expected_rows(items)

    # Even with the ledger lost, iMIS is looked up first: rows are found, not duplicated.
    fresh = WritebackLedger(tmp_path / "lost.sqlite")
    fourth = run("sentiment_log", items, fresh, client)
    assert (fourth.created, fourth.reconciled) == (0, 12)
    assert sentiment_rows(client, source) == expected_rows(items)


class Killed(Exception):
    pass


def test_a_run_killed_mid_write_and_rerun_leaves_one_row_per_item(tmp_path, client, source):
    items = make_items(source)
    ledger = WritebackLedger(tmp_path / "ledger.sqlite")
    posts = 0
    original = client.post

    def dying_post(entity, body):
        nonlocal posts
        saved = original(entity, body)  # the row is saved in iMIS...
        posts += 1
        if posts == 5:
            raise Killed  # ...and the process dies before the ledger hears of it
        return saved

    client.post = dying_post  # type: ignore[method-assign]
    with pytest.raises(Killed):
        run("sentiment_log", items, ledger, client)
    client.post = original  # type: ignore[method-assign]
    assert ledger.counts("sentiment_log")["pending"] == 1

    rerun = run("sentiment_log", items, ledger, client)
    assert (rerun.created, rerun.reconciled, rerun.unchanged) == (7, 1, 4)
    assert sentiment_rows(client, source) == expected_rows(items)
    assert ledger.counts("sentiment_log") == {"written": 12, "skipped": 3}


KILL_SCRIPT = """
import sys
from datetime import date
from connectors.imis import ImisClient
from orchestration.lib.writeback import WritebackConfig, WritebackLedger, run_writeback
url, ledger_path = sys.argv[1], sys.argv[2]
ledger = WritebackLedger(ledger_path)
config = WritebackConfig(enabled=True, min_interval_s=0.05)
with ImisClient(url, "pulse", "pulse-sandbox") as client:
    run_writeback("sentiment_log", ledger.snapshot(), config, ledger, client,
                  start=date(2026, 3, 1), timezone="UTC")
"""


def test_a_sigkilled_process_and_a_rerun_leave_one_row_per_item(
    tmp_path, sandbox, client, source, faults
):
    items = make_items(source, 30)
    ledger = WritebackLedger(tmp_path / "ledger.sqlite")
    ledger.replace_snapshot(items, START)
    faults.latency_ms = 15  # slow enough to be killed between two writes, or inside one
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, sandbox.url, str(ledger.path)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            with sqlite3.connect(ledger.path) as con:
                written = con.execute(
                    "select count(*) from writes where status = 'written'"
                ).fetchone()[0]
            if written >= 8 or proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the writer finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    faults.latency_ms = 0
    partial = sum(sentiment_rows(client, source).values())
    assert 8 <= partial < len(eligible(items))

    rerun = run("sentiment_log", ledger.snapshot(), ledger, client)
    assert rerun.failed == 0 and rerun.created + rerun.reconciled + rerun.unchanged == 30
    assert sentiment_rows(client, source) == expected_rows(items)


def test_server_errors_on_writes_never_duplicate_and_failures_are_reported(
    tmp_path, client, source, faults
):
    items = make_items(source, 40)
    ledger = WritebackLedger(tmp_path / "ledger.sqlite")
    # 20% of writes fail: half before anything is saved, half after the row was saved.
    faults.rate_5xx, faults.write_saved_then_500_rate = 0.1, 0.1
    client.max_retries = 1  # reads give up sometimes too, so some writes are given up on
    stormy = run("sentiment_log", items, ledger, client, cfg=config(attempts=1))
    assert stormy.failed > 0 and len(stormy.failures) == stormy.failed
    assert all(f["reason"] for f in stormy.failures)
    assert stormy.created + stormy.failed + stormy.reconciled == 40
    rows = sentiment_rows(client, source)
    assert max(rows.values()) == 1  # no duplicates, whatever was saved
    failed = {f["record_key"] for f in stormy.failures}
    assert {e for e, s in ledger.counts("sentiment_log").items()} >= {"written", "failed"}
    assert failed == {k for k, e in ledger.entries("sentiment_log").items() if e.status == "failed"}

    # The next run, with the default attempts, finishes the job after looking each row up.
    client.max_retries = 5
    calm = run("sentiment_log", items, ledger, client)
    assert calm.failed == 0
    assert calm.created + calm.reconciled == len(failed)
    assert sentiment_rows(client, source) == expected_rows(items)


def test_a_case_is_created_only_after_approval_exactly_once(tmp_path, client, source, faults):
    items = make_items(source)
    ledger = WritebackLedger(tmp_path / "ledger.sqlite")
    state = AppState(tmp_path / "app_state.sqlite")
    target = next(i for i in eligible(items) if i.is_negative_high_urgency)

    def cases():
        decisions = latest_case_decisions(state.decisions())
        return run("follow_up_case", items, ledger, client, decisions=decisions)

    before = cases()
    assert before.created == 0 and before.skipped == 7  # 4 await review, 3 are not eligible
    awaiting = [e for e in ledger.entries("follow_up_case").values() if "awaiting" in e.reason]
    assert len(awaiting) == 4
    assert activities(client, "FEEDBACK_FU", source) == {}

    state.record(Decision(item_id=target.item_id, decided_by="ana", case_action="approve"))
    faults.write_saved_then_500_rate = 1.0  # the create is saved, and the answer lost
    after = cases()
    faults.write_saved_then_500_rate = 0.0
    assert after.created == 1
    # The same approval recorded twice (a double click), and processed again, and again
    # with the ledger lost: still exactly one case.
    state.record(Decision(item_id=target.item_id, decided_by="ana", case_action="approve"))
    assert cases().unchanged == 1
    lost = WritebackLedger(tmp_path / "lost.sqlite")
    again = run(
        "follow_up_case", items, lost, client, decisions=latest_case_decisions(state.decisions())
    )
    assert (again.created, again.reconciled) == (0, 1)
    assert activities(client, "FEEDBACK_FU", source) == {f"pulse:{target.item_id}": 1}
    entry = ledger.get("follow_up_case", target.item_id)
    assert entry.status == "written" and entry.imis_key


def test_alert_group_and_thank_you_are_written_once(tmp_path, client, source):
    items = make_items(source, 18)
    ledger = WritebackLedger(tmp_path / "ledger.sqlite")
    cfg = config(
        alert_group={"enabled": True, "topics": ["renewal_billing"]}, thank_you={"enabled": True}
    )
    group = run("alert_group", items, ledger, client, cfg=cfg)
    assert group.created + group.reconciled > 0 and group.failed == 0
    assert run("alert_group", items, ledger, client, cfg=cfg).unchanged == group.written
    thanks = run("thank_you", items, ledger, client, cfg=cfg)
    assert thanks.created > 0 and thanks.failed == 0
    assert run("thank_you", items, ledger, client, cfg=cfg).unchanged == thanks.created
    assert set(activities(client, "THANKYOU", source).values()) == {1}


def test_preflight_names_the_missing_panel_source_property_and_group(tmp_path, client, source):
    items = make_items(source)
    ledger = WritebackLedger(tmp_path / "ledger.sqlite")
    missing = config(sentiment_log={"panel_source": "ABC_Sentiment_Log"})
    with pytest.raises(WritebackPreflightError, match="panel source 'ABC_Sentiment_Log' not found"):
        run("sentiment_log", items, ledger, client, cfg=missing)
    run("sentiment_log", items[:1], ledger, client)  # a row exists: properties can be checked
    unknown = config(
        sentiment_log={"fields": {"source_entity": "SourceEntity", "source_key": "SourceKey",
                                  "urgency": "Urgency"}}
    )  # fmt: skip
    with pytest.raises(WritebackPreflightError, match="has no property Urgency"):
        run("sentiment_log", items, ledger, client, cfg=unknown)
    nogroup = config(
        alert_group={"enabled": True, "group_name": "Nope", "topics": ["renewal_billing"]}
    )
    with pytest.raises(WritebackPreflightError, match="group 'Nope' not found"):
        run("alert_group", items, ledger, client, cfg=nogroup)
    assert ledger.counts("alert_group") == {}
