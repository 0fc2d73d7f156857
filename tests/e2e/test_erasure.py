"""Erasing a member (`python -m orchestration.cli erase --member-id ID`) leaves nothing of them
in any store the product keeps: the warehouse, the published marts, the label cache, the app
state, the write-back ledger and the alert log. iMIS is not touched, and the command says so.

Works on a copy of the shared e2e run's PULSE_HOME (the shared run stays as it was), with
review decisions, write-back ledger rows and an alert added for the member's items, and one
other member's item sharing a text with theirs (its label-cache entry must stay).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.alerts.detect import Alert
from orchestration.lib.alerts.log import AlertLog
from orchestration.lib.app_state import AppState, Decision
from orchestration.lib.config import Paths
from orchestration.lib.enrichment.schema import EnrichmentInput
from orchestration.lib.erasure import IMIS_NOTICE, id_pattern
from orchestration.lib.warehouse import Warehouse, replace_rows
from orchestration.lib.writeback.items import read_items
from orchestration.lib.writeback.ledger import WritebackLedger
from tests.conftest import PIPELINE_ENV_VARS
from tests.e2e.homes import cli_env, copy_home, duckdb_cells

REPO = Path(__file__).resolve().parents[2]
SHARED_TEXT_ITEM = "twin_source:twin-1"  # another member's item with the member's text
OTHER_MEMBER = "other-member-for-erasure-test"


def _env(pipeline_run, home: Path) -> dict[str, str]:
    env = cli_env(pipeline_run, home)
    # Erasure never needs iMIS: point it nowhere, so any attempt to reach it would fail.
    env.update(IMIS_BASE_URL="http://127.0.0.1:9", IMIS_PASSWORD="not-the-password")
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _pick_member(warehouse: Path) -> tuple[str, list[tuple[str, str]], tuple[str, str]]:
    """The member with the most items (at least 2): (member_id, [(item_id, text_hash)], the
    first and last day of their items)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        [(member_id,)] = con.execute(
            "select member_id from raw.feedback_items where member_id is not null "
            "group by 1 having count(*) >= 2 order by count(*) desc, 1 limit 1"
        ).fetchall()
        items = con.execute(
            "select item_id, text_hash from raw.feedback_items where member_id = ? order by 1",
            [member_id],
        ).fetchall()
        [(first, last)] = con.execute(
            "select min(created_date)::varchar, max(created_date)::varchar "
            "from raw.feedback_items where member_id = ?",
            [member_id],
        ).fetchall()
    return member_id, items, (first, last)


def _seed_side_stores(paths: Paths, member_id: str, item_ids: list[str]) -> None:
    """What a live installation would hold for the member: decisions, ledger rows, an alert,
    and another member's item with the same text as one of theirs."""
    state = AppState(paths.app_state)
    for item_id in item_ids[:2]:
        state.record(Decision(item_id=item_id, decided_by="reviewer", sentiment_label="negative",
                              case_action="approve", note="follow up"))  # fmt: skip
    warehouse = Warehouse(paths.warehouse)
    with warehouse.connect() as con:
        other = con.execute(
            "select item_id from raw.feedback_items where member_id <> ? order by 1 limit 1",
            [member_id],
        ).fetchall()[0][0]
        state.record(Decision(item_id=other, decided_by="reviewer", urgency_level="high"))
        replace_rows(con, "raw.review_decisions", state.decisions(), delete_where="true")
        # The twin: another member's item whose text (and so label-cache input) is the same.
        con.execute(
            "insert into raw.feedback_items select * replace (? as item_id, 'twin_source' as "
            "source_name, 'twin-1' as source_key, ? as member_id) from raw.feedback_items "
            "where item_id = ?",
            [SHARED_TEXT_ITEM, OTHER_MEMBER, item_ids[0]],
        )
        snapshot = read_items(con, date(2000, 1, 1))
    ledger = WritebackLedger(paths.writeback_ledger)
    ledger.replace_snapshot(snapshot, date(2000, 1, 1))
    for item_id in item_ids:
        ledger.mark_pending("sentiment_log", item_id, item_id=item_id, member_id=member_id,
                            target="Sentiment_Log")  # fmt: skip
        ledger.mark_written("sentiment_log", item_id, imis_key=f"{member_id}|1",
                            content_hash="abc", action="created")  # fmt: skip
    ledger.mark_skipped("alert_group", [(f"group:{member_id}", None, member_id, "test")])
    ledger.mark_pending("sentiment_log", other, item_id=other, member_id="someone-else",
                        target="Sentiment_Log")  # fmt: skip
    alerts = AlertLog(paths.alert_log)
    alerts.record(
        Alert(key=f"urgent:{item_ids[0]}", kind="urgent_item", title="New high-urgency item",
              text="", link=f"http://127.0.0.1:8501/review?item={item_ids[0]}",
              fields={"item_id": item_ids[0], "channel": "case", "topic": "billing"}),
        ["webhook"], None,
    )  # fmt: skip
    alerts.record(
        Alert(key="spike:billing:all:all:2026-03-23", kind="spike", title="Spike", text="",
              fields={"topic_key": "billing", "mentions": 9}),
        ["webhook"], None,
    )  # fmt: skip


# -- searching every store --------------------------------------------------------------------


def _cells_sqlite(path: Path) -> list[tuple[str, object]]:
    out = []
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        for name in tables:
            cursor = con.execute(f'select * from "{name}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor.fetchall():
                out.extend((f"{name}.{c}", v) for c, v in zip(columns, row, strict=True))
    finally:
        con.close()
    return out


def _hits(cells, member_id: str, item_ids: list[str], hashes: set[str]) -> list[str]:
    ids = re.compile(id_pattern([*item_ids, member_id]))
    found = []
    for where, value in cells:
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if ids.search(text) or any(h in text for h in hashes):
            found.append(where)
    return found


def _stores(paths: Paths) -> dict[str, Path]:
    return {
        "warehouse": paths.warehouse,
        "marts": paths.marts,
        "label cache": paths.label_cache,
        "app state": paths.app_state,
        "write-back ledger": paths.writeback_ledger,
        "alert log": paths.alert_log,
    }


def _search(paths: Paths, member_id: str, item_ids: list[str], hashes: set[str]) -> dict:
    found = {}
    for store, path in _stores(paths).items():
        cells = duckdb_cells(path) if path.suffix == ".duckdb" else _cells_sqlite(path)
        if hits := _hits(cells, member_id, item_ids, hashes):
            found[store] = sorted(set(hits))
    return found


def _label_cache_hashes(paths: Paths) -> set[str]:
    con = sqlite3.connect(paths.label_cache)
    try:
        return {r[0] for r in con.execute("select input_hash from labels")}
    finally:
        con.close()


def _hash_sets(paths: Paths, member_id: str) -> tuple[set[str], set[str]]:
    """(private, shared): the text hashes and label-cache input hashes of the member's items
    that no other item has, and the cache input hashes other items share with them."""
    sql = (
        "select item_id, text_hash, redacted_text, channel, question, member_id "
        "from raw.feedback_items where text_hash in "
        "(select text_hash from raw.feedback_items where member_id = ?)"
    )
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute(sql, [member_id]).fetchall()
    mine_text, mine_cache, other_text, other_cache = set(), set(), set(), set()
    for item_id, text_hash, text, channel, question, owner in rows:
        cache = EnrichmentInput(item_id=item_id, text=text, text_hash=text_hash,
                                channel=channel, question=question).cache_hash  # fmt: skip
        if owner == member_id:
            mine_text.add(text_hash)
            mine_cache.add(cache)
        else:
            other_text.add(text_hash)
            other_cache.add(cache)
    return (mine_text - other_text) | (mine_cache - other_cache), mine_cache & other_cache


@pytest.fixture
def erasure_home(pipeline_run, reused_home):
    home = copy_home(pipeline_run, reused_home("main"))
    paths = Paths(home)
    member_id, items, days = _pick_member(paths.warehouse)
    item_ids = [i for i, _ in items]
    _seed_side_stores(paths, member_id, item_ids)
    private, shared = _hash_sets(paths, member_id)
    assert private and shared  # the twin shares one input; the member's other texts are theirs
    return {
        "paths": paths,
        "env": _env(pipeline_run, home),
        "member_id": member_id,
        "item_ids": item_ids,
        "days": days,
        "private": private,
        "shared": shared,
        "sandbox_db": pipeline_run["sandbox"].sandbox.config.db_path,
    }


def test_erase_leaves_nothing_of_the_member(erasure_home):
    h = erasure_home
    paths, member_id, item_ids = h["paths"], h["member_id"], h["item_ids"]
    private_hashes = h["private"]
    in_imis = _hits(_cells_sqlite(h["sandbox_db"]), member_id, [], set())
    assert in_imis  # the sandbox (iMIS) holds the member's record and items
    # Before: the member is everywhere the test looks (the search itself works).
    before = _search(paths, member_id, item_ids, private_hashes)
    assert set(before) == set(_stores(paths)), before
    assert h["shared"] <= _label_cache_hashes(paths)

    # A dry run counts and changes nothing.
    dry = _cli(h["env"], "erase", "--member-id", member_id, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "would remove" in dry.stdout and "dry run" in dry.stdout
    assert re.search(r"app state review decisions\s+2\b", dry.stdout)
    assert re.search(r"alert log entries\s+1\b", dry.stdout)
    assert _search(paths, member_id, item_ids, private_hashes) == before

    done = _cli(h["env"], "erase", "--member-id", member_id)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    out = done.stdout
    assert f"member {member_id}: {len(item_ids)} items; removed:" in out
    assert re.search(rf"warehouse raw.feedback_items\s+{len(item_ids)}\b", out)
    assert re.search(r"warehouse raw.members\s+1\b", out)
    assert re.search(r"app state review decisions\s+2\b", out)
    assert re.search(r"alert log entries\s+1\b", out)
    assert "label-cache entries kept" in out
    assert "none of the member's rows remain" in out
    # Only the daily partitions the member's items fell on were rebuilt, not the whole range.
    first, last = h["days"]
    assert first < last  # the member wrote on several days, so the span is a real range
    assert f"rebuilding the marts: days {first} .. {last} and every" in out
    assert IMIS_NOTICE in out  # erase says iMIS still holds the member, and what to do
    # Counts only: no item text in what it printed.
    with duckdb.connect(str(h["paths"].warehouse), read_only=True) as con:
        texts = [
            t for (t,) in con.execute("select redacted_text from raw.feedback_items").fetchall()
        ]
    assert not any(t in out for t in texts if len(t) > 20)

    # After: nothing of the member in any store.
    assert _search(paths, member_id, item_ids, private_hashes) == {}
    # The label cache kept the entry another member's item still uses, and only that one.
    cache_after = _label_cache_hashes(paths)
    assert h["shared"] <= cache_after
    assert not (private_hashes & cache_after)
    # Nothing else was lost: other members' decisions, ledger rows and alerts stay.
    assert len(AppState(paths.app_state).decisions()) == 1
    assert len(AlertLog(paths.alert_log).rows()) == 1
    assert WritebackLedger(paths.writeback_ledger).counts("sentiment_log") == {"pending": 1}
    with duckdb.connect(str(paths.marts), read_only=True) as con:
        assert con.execute("select count(*) from fct_feedback").fetchall()[0][0] > 0
        assert con.execute(
            "select count(*) from fct_feedback where item_id = ?", [SHARED_TEXT_ITEM]
        ).fetchall() == [(1,)]

    # iMIS (the sandbox) still holds all of it: the product does not erase there.
    assert _hits(_cells_sqlite(h["sandbox_db"]), member_id, [], set()) == in_imis

    # Erasing again finds nothing and says so.
    again = _cli(h["env"], "erase", "--member-id", member_id)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing of this member is stored" in again.stdout


def test_erase_refuses_while_the_warehouse_is_locked(erasure_home):
    h = erasure_home
    paths, member_id, item_ids = h["paths"], h["member_id"], h["item_ids"]
    before = _search(paths, member_id, item_ids, h["private"])
    holder = duckdb.connect(str(paths.warehouse))  # another writer, as a pipeline step would be
    try:
        result = _cli(h["env"], "erase", "--member-id", member_id)
    finally:
        holder.close()
    assert result.returncode == 3
    assert "could not take the DuckDB lock" in result.stderr
    assert str(paths.warehouse) in result.stderr and "lock" in result.stderr.lower()
    assert "Nothing was erased" in result.stderr
    assert _search(paths, member_id, item_ids, h["private"]) == before


def test_erase_needs_a_member_id_and_an_existing_warehouse(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in PIPELINE_ENV_VARS}
    env.update(PULSE_HOME=str(tmp_path / "nothing-here"), PULSE_HMAC_SECRET="x")
    missing = _cli(env, "erase")
    assert missing.returncode == 2 and "--member-id" in missing.stderr
    nowhere = _cli(env, "erase", "--member-id", "123")
    assert nowhere.returncode == 2 and "no warehouse" in nowhere.stderr
