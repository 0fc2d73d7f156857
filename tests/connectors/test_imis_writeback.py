"""Write-back primitives against a live sandbox on 127.0.0.1: look up before writing, look up
again after an unknown outcome, and never a second row."""

from __future__ import annotations

from datetime import date

import pytest

from connectors.imis import ImisClient
from connectors.imis.entities import row_values
from connectors.imis.writeback import (
    ImisWriteError,
    ImisWriteRejected,
    add_group_member,
    create_activity,
    entity_properties,
    find_group_id,
    upsert_panel_row,
)
from connectors.imis_sandbox import SandboxServer

TINY = {"seed": 5, "members": 30, "items": 80, "end_date": date(2026, 6, 30), "days": 30}
MEMBER = "100003"
OTHER_MEMBER = "100004"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A sandbox of its own: these tests write."""
    with SandboxServer(tmp_path_factory.mktemp("imis-writeback"), **TINY) as s:
        yield s


@pytest.fixture
def faults(server):
    """Faults set by a test are cleared after it."""
    yield server.faults
    server.faults.rate_5xx = server.faults.write_saved_then_500_rate = 0.0


@pytest.fixture
def client(server):
    with ImisClient(server.url, "pulse", "pulse-sandbox", backoff_s=0.001) as c:
        yield c


def sentiment_rows(client: ImisClient, member: str, source_key: str) -> list[dict]:
    rows = [row_values(r) for r in client.iter_rows("Sentiment_Log", {"ID": member})]
    return [r for r in rows if r.get("SourceKey") == source_key]


def test_upsert_twice_leaves_one_row_with_the_latest_values(client):
    key = {"SourceEntity": "activity_feedback", "SourceKey": "upsert-1"}
    identity, created = upsert_panel_row(
        client, "Sentiment_Log", MEMBER, key, {"Sentiment": "negative", "Score": -0.5}
    )
    again, created_again = upsert_panel_row(
        client, "Sentiment_Log", MEMBER, key, {"Sentiment": "neutral", "Score": 0.0}
    )
    assert created and not created_again
    assert identity == again and identity[0] == MEMBER
    rows = sentiment_rows(client, MEMBER, "upsert-1")
    assert len(rows) == 1
    assert rows[0]["Sentiment"] == "neutral" and float(rows[0]["Score"]) == 0.0


def test_the_same_source_key_under_another_member_is_another_row(client):
    key = {"SourceEntity": "survey_responses", "SourceKey": "shared-7"}
    upsert_panel_row(client, "Sentiment_Log", MEMBER, key, {"Sentiment": "positive"})
    upsert_panel_row(client, "Sentiment_Log", OTHER_MEMBER, key, {"Sentiment": "negative"})
    assert len(sentiment_rows(client, MEMBER, "shared-7")) == 1
    assert len(sentiment_rows(client, OTHER_MEMBER, "shared-7")) == 1


def test_a_write_saved_then_answered_500_is_found_not_duplicated(client, faults):
    faults.write_saved_then_500_rate = 1.0  # every write is saved, then answered with a 500
    before = faults.injected["saved_then_500"]
    identity, created = upsert_panel_row(
        client,
        "Sentiment_Log",
        MEMBER,
        {"SourceEntity": "activity_feedback", "SourceKey": "saved-500"},
        {"Sentiment": "negative", "NeedsFollowUp": True},
    )
    assert faults.injected["saved_then_500"] == before + 1  # one POST, no blind repeat
    assert created and identity[0] == MEMBER
    rows = sentiment_rows(client, MEMBER, "saved-500")
    assert len(rows) == 1 and rows[0]["NeedsFollowUp"] is True


def test_activity_saved_then_500_is_created_once(client, faults):
    faults.write_saved_then_500_rate = 1.0
    key = {"OTHER_CODE": "pulse:activity_feedback:42"}
    seqn, created = create_activity(
        client, MEMBER, "FEEDBACK_FU", key, {"DESCRIPTION": "Follow up", "NOTE": "summary"}
    )
    faults.write_saved_then_500_rate = 0.0
    again, created_again = create_activity(client, MEMBER, "FEEDBACK_FU", key, {"NOTE": "x"})
    assert created and not created_again and seqn == again and seqn
    found = [
        row_values(r)
        for r in client.iter_rows("Activity", {"PartyId": MEMBER, "ACTIVITY_TYPE": "FEEDBACK_FU"})
    ]
    assert [r["OTHER_CODE"] for r in found].count("pulse:activity_feedback:42") == 1
    assert next(r for r in found if r["OTHER_CODE"] == key["OTHER_CODE"])["NOTE"] == "summary"


def test_group_member_added_once_even_after_a_lost_answer(client, faults):
    group_id = find_group_id(client, "Pulse: follow-up needed")
    assert group_id
    faults.write_saved_then_500_rate = 1.0
    member_id, created = add_group_member(client, group_id, MEMBER)
    faults.write_saved_then_500_rate = 0.0
    again, created_again = add_group_member(client, group_id, MEMBER)
    assert created and not created_again and member_id == again
    rows = list(client.iter_rows("GroupMember", {"GroupId": group_id, "PartyId": MEMBER}))
    assert len(rows) == 1
    assert find_group_id(client, "No such group") is None


def test_server_errors_before_the_save_are_retried_after_a_lookup(client, faults):
    faults.rate_5xx = 0.5  # half the requests, reads and writes, fail before they are processed
    for n in range(8):
        upsert_panel_row(
            client,
            "Sentiment_Log",
            OTHER_MEMBER,
            {"SourceEntity": "party_notes", "SourceKey": f"storm-{n}"},
            {"Sentiment": "neutral"},
            attempts=20,
        )
    faults.rate_5xx = 0.0
    for n in range(8):
        assert len(sentiment_rows(client, OTHER_MEMBER, f"storm-{n}")) == 1


def test_a_write_that_never_settles_raises_a_typed_error(client, faults):
    faults.write_saved_then_500_rate = 1.0
    client.max_retries = 0  # the look-ups themselves still succeed
    # PUT of an existing row: every PUT is saved then answered 500; PUT is repeated (safe), then
    # the outcome stays unknown and a typed error names the write.
    key = {"SourceEntity": "activity_feedback", "SourceKey": "never-settles"}
    faults.write_saved_then_500_rate = 0.0
    upsert_panel_row(client, "Sentiment_Log", MEMBER, key, {"Sentiment": "positive"})
    faults.write_saved_then_500_rate = 1.0
    with pytest.raises(ImisWriteError) as excinfo:
        upsert_panel_row(
            client, "Sentiment_Log", MEMBER, key, {"Sentiment": "negative"}, attempts=2
        )
    assert "Sentiment_Log row for 100003" in str(excinfo.value)
    assert excinfo.value.status == 500
    assert len(sentiment_rows(client, MEMBER, "never-settles")) == 1


def test_4xx_is_raised_at_once_with_a_clear_message(client):
    calls = []
    original = client.request

    def counting(method, path, **kw):
        calls.append((method, path))
        return original(method, path, **kw)

    client.request = counting  # type: ignore[method-assign]
    with pytest.raises(ImisWriteRejected) as excinfo:
        upsert_panel_row(
            client,
            "Sentiment_Log",
            MEMBER,
            {"SourceEntity": "activity_feedback", "SourceKey": "bad-field"},
            {"NoSuchColumn": "x"},
        )
    message = str(excinfo.value)
    assert excinfo.value.status == 400
    assert "Sentiment_Log row for 100003 was rejected by iMIS" in message
    assert "unknown property NoSuchColumn" in message
    assert [m for m, _ in calls].count("POST") == 1  # never retried


def test_a_write_for_an_unknown_contact_is_rejected(client):
    with pytest.raises(ImisWriteRejected, match="contact 999999999 does not exist"):
        create_activity(client, "999999999", "FEEDBACK_FU", {"OTHER_CODE": "pulse:x:1"}, {})


def test_preflight_names_a_missing_panel_source(client):
    props = entity_properties(client, "Sentiment_Log")
    assert props is None or {"SourceEntity", "SourceKey", "ID"} <= props
    with pytest.raises(ImisWriteRejected, match="'ABC_Sentiment_Log' does not exist"):
        entity_properties(client, "ABC_Sentiment_Log")
