"""Reader: windows, text assembly, HTML stripping, problems, members and history."""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise

import httpx
import pytest

from connectors.imis import (
    ImisClient,
    count_source_items,
    iter_member_changes,
    iter_members,
    iter_source_items,
)
from connectors.imis.entities import generic_entity
from connectors.imis.text import email_text
from connectors.records import SourceItem, SourceProblem
from connectors.sources import ImisEntitySource, ImisQuerySource, load_sources

SOURCES_YAML = "connectors/imis_sandbox/sources.yaml"
TOKEN = {"access_token": "t", "token_type": "bearer", "expires_in": 1799}

NOTES = ImisEntitySource(
    kind="imis_entity", name="notes", entity="Activity", channel="email", key_fields=["SEQN"],
    watermark_field="TRANSACTION_DATE", text_fields=["DESCRIPTION", "NOTE"], member_id_field="PartyId",
)  # fmt: skip


def serve(rows: list[dict]) -> ImisClient:
    """A client over a mock iMIS that returns `rows` as one page, whatever the filters."""
    items = [generic_entity("Activity", r) for r in rows]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json=TOKEN)
        return httpx.Response(200, json={"Items": {"$values": items}, "Offset": 0, "Count": len(items),
                                         "TotalCount": len(items), "HasNext": False, "NextOffset": 0})  # fmt: skip

    return ImisClient("http://imis.test", "u", "p", transport=httpx.MockTransport(handler))


def test_text_fields_joined_and_window_is_half_open():
    rows = [
        {"SEQN": 1, "PartyId": "7", "TRANSACTION_DATE": "2026-03-01T00:00:00", "DESCRIPTION": "Dues", "NOTE": "Too high."},
        {"SEQN": 2, "PartyId": "7", "TRANSACTION_DATE": "2026-03-02T00:00:00", "NOTE": "next day"},  # == end
        {"SEQN": 3, "PartyId": "7", "TRANSACTION_DATE": "2026-02-28T23:59:59.9", "NOTE": "before"},
        {"SEQN": 1, "PartyId": "7", "TRANSACTION_DATE": "2026-03-01T00:00:00", "NOTE": "duplicate key"},
        {"SEQN": 4, "TRANSACTION_DATE": "2026-03-01T12:00:00", "DESCRIPTION": "", "NOTE": "  "},
    ]  # fmt: skip
    with serve(rows) as client:
        out = list(iter_source_items(client, NOTES, datetime(2026, 3, 1), datetime(2026, 3, 2)))
    assert out[0] == SourceItem(
        "notes", "1", "email", datetime(2026, 3, 1), "Dues\n\nToo high.", member_id="7"
    )
    # dated by the row, so per-day reconciliation counts it on the day iMIS does
    assert out[1:] == [SourceProblem("notes", "Activity 4", "empty text", datetime(2026, 3, 1, 12))]


def test_a_long_window_is_read_in_spans_and_each_item_comes_once():
    """A backfill of months pages through week-long windows, not one huge offset range."""
    rows = [
        {"SEQN": n, "PartyId": "7", "TRANSACTION_DATE": f"2026-03-{d:02d}T{h:02d}:00:00", "NOTE": f"item {n}"}
        for n, (d, h) in enumerate([(1, 0), (7, 23), (8, 0), (14, 12), (15, 0), (20, 23), (21, 0)])
    ]  # fmt: skip
    windows = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json=TOKEN)
        first, last = request.url.params["TRANSACTION_DATE"].removeprefix("between:").split("|")
        windows.append((first, last))
        items = [
            generic_entity("Activity", r) for r in rows if first <= r["TRANSACTION_DATE"] <= last
        ]
        return httpx.Response(200, json={"Items": {"$values": items}, "Offset": 0, "Count": len(items),
                                         "TotalCount": len(items), "HasNext": False, "NextOffset": 0})  # fmt: skip

    with ImisClient("http://imis.test", "u", "p", transport=httpx.MockTransport(handler)) as client:
        out = list(iter_source_items(client, NOTES, datetime(2026, 3, 1), datetime(2026, 3, 21)))
    assert [i.source_key for i in out] == ["0", "1", "2", "3", "4", "5"]  # 21 Mar is the end
    assert [(a[:10], b[:10]) for a, b in windows] == [
        ("2026-03-01", "2026-03-07"), ("2026-03-08", "2026-03-14"), ("2026-03-15", "2026-03-20")
    ]  # fmt: skip


def test_bad_watermark_is_a_problem_not_a_crash():
    with serve([{"SEQN": 9, "TRANSACTION_DATE": "31/02/2026", "NOTE": "x"}]) as client:
        out = list(iter_source_items(client, NOTES, datetime(2026, 1, 1), datetime(2027, 1, 1)))
    assert out == [SourceProblem("notes", "Activity 9", "unreadable TRANSACTION_DATE")]


def test_email_html_loses_quoted_history_and_signature():
    html = (
        "<html><body><p>Hi team,</p><p>The renewal page <b>failed</b> again.</p><p>Thanks,<br>Dana</p>"
        '<div class="signature">-- <br>Dana Okafor<br>Tel: 555-201-3344</div>'
        '<div class="gmail_quote">On Mon, 3 March at 9:12 AM Maria Lopez wrote:<br>'
        "<blockquote>We received your request.</blockquote></div></body></html>"
    )
    assert email_text(html) == "Hi team,\n\nThe renewal page failed again.\n\nThanks,\nDana"
    outlook = (
        "<p>Still broken.</p><hr><p><b>From:</b> Staff<br><b>Sent:</b> Tuesday</p><p>Old text</p>"
    )
    assert email_text(outlook) == "Still broken."


def test_html_source_sets_original_length_and_drops_quote_only_mails(sandbox, client):
    config = load_sources(SOURCES_YAML)
    emails = next(s for s in config.sources if s.html)
    out = list(iter_source_items(client, emails, datetime(2026, 3, 1), datetime(2026, 7, 1)))
    items = [i for i in out if isinstance(i, SourceItem)]
    assert items and all(
        "<" not in i.text and "wrote:" not in i.text and "memberservices@" not in i.text
        for i in items
    )
    assert all(i.original_length > len(i.text) for i in items)
    assert all(p.reason == "empty text" for p in out if isinstance(p, SourceProblem))


def test_every_sandbox_source_reads_its_window_exactly(sandbox, client):
    start, end = datetime(2026, 4, 1), datetime(2026, 4, 15)
    for source in load_sources(SOURCES_YAML).sources:
        out = list(iter_source_items(client, source, start, end))
        assert len(out) == count_source_items(client, source, start, end), source.name
        assert all(start <= i.created_at < end for i in out if isinstance(i, SourceItem))
        keys = [i.source_key for i in out if isinstance(i, SourceItem)]
        assert len(keys) == len(set(keys)) and keys, source.name


def test_adjacent_windows_partition_the_items(sandbox, client):
    source = load_sources(SOURCES_YAML).sources[0]
    days = [datetime(2026, 5, d) for d in range(1, 9)]
    per_day = [
        k
        for a, b in pairwise(days)
        for k in (i.source_key for i in iter_source_items(client, source, a, b))
    ]
    whole = [i.source_key for i in iter_source_items(client, source, days[0], days[-1])]
    assert sorted(per_day) == sorted(whole) and len(set(per_day)) == len(per_day)


def test_query_source_with_placeholder_filters(sandbox, client):
    source = ImisQuerySource(
        kind="imis_query", name="survey_iqa", query_name="$/MemberPulse/SurveyComments", channel="survey",
        key_fields=["ID", "Ordinal"], watermark_field="Submitted On", text_fields=["Comment"],
        member_id_field="ID", question_field="Question", filters={"StartDate": "{start}", "EndDate": "{end}"},
    )  # fmt: skip
    start, end = datetime(2026, 4, 1), datetime(2026, 4, 8)
    out = list(iter_source_items(client, source, start, end))
    panel = next(s for s in load_sources(SOURCES_YAML).sources if s.name == "survey_responses")
    assert {i.source_key for i in out} == {
        i.source_key for i in iter_source_items(client, panel, start, end)
    }
    assert count_source_items(client, source, start, end) == len(out)
    assert all(i.question for i in out if isinstance(i, SourceItem))


def test_members_are_people_with_segments_and_names(sandbox, client, small):
    members = list(iter_members(client, None))
    assert len(members) == small["members"]  # organisations skipped
    m = members[0]
    assert m.tier in {"STU", "ASSOC", "MEM", "FELLOW", "EMER", "ORG"} and m.chapter and m.status
    assert isinstance(m.join_date, date) and m.first_name and m.emails
    recent = list(iter_members(client, datetime(2026, 5, 1)))
    assert 0 < len(recent) < len(members) and all(
        r.updated_at > datetime(2026, 5, 1) for r in recent
    )


def test_member_changes_agree_with_current_attributes(sandbox, client):
    changes = list(iter_member_changes(client, None))
    members = {m.member_id: m for m in iter_members(client, None)}
    assert {c.attribute for c in changes} == {"tier", "chapter", "status"}
    latest = {}
    for change in sorted(changes, key=lambda c: c.changed_at):
        latest[(change.member_id, change.attribute)] = change.new_value
    for (member_id, attribute), value in latest.items():
        assert getattr(members[member_id], attribute) == value
    since = datetime(2026, 5, 1)
    assert all(c.changed_at > since for c in iter_member_changes(client, since))


@pytest.mark.parametrize("bad", ["missing", "empty"])
def test_missing_key_is_reported(bad):
    row = {"TRANSACTION_DATE": "2026-03-01T10:00:00", "NOTE": "hello"} | (
        {"SEQN": None} if bad == "empty" else {}
    )
    with serve([row]) as client:
        out = list(iter_source_items(client, NOTES, datetime(2026, 3, 1), datetime(2026, 3, 2)))
    assert out == [
        SourceProblem("notes", "Activity row 0", "missing key field", datetime(2026, 3, 1, 10))
    ]
