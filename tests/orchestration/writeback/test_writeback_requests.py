"""Requests a Sentiment_Log write-back sends: one look-up (GET by contact) per member per run,
shared by all that member's items, and a fresh look-up before retrying any write whose outcome
is unknown."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import httpx
import pytest

from connectors.imis import ImisClient
from orchestration.lib.writeback import WritebackLedger, run_writeback
from tests.orchestration.writeback.helpers import START, config, make_items, sentiment_rows

NOW = datetime(2026, 4, 2, 9, 30)
ITEMS = 36  # 4 items for each of 9 members (make_items cycles members)
MEMBERS = 9


class CountingTransport(httpx.HTTPTransport):
    """The real transport, recording (method, entity, whether it filters by contact, status)."""

    def __init__(self):
        super().__init__()
        self.seen: list[tuple[str, str, bool, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        path = request.url.path
        entity = path.removeprefix("/api/").split("/")[0] if path.startswith("/api/") else path
        self.seen.append((request.method, entity, "ID" in request.url.params, response.status_code))
        return response

    def lookups(self) -> int:
        """GETs of a contact's Sentiment_Log rows."""
        return sum(
            1
            for m, e, by_contact, _ in self.seen
            if m == "GET" and e == "Sentiment_Log" and by_contact
        )

    def writes(self) -> Counter:
        return Counter(
            (m, s) for m, e, _, s in self.seen if m in ("POST", "PUT") and e == "Sentiment_Log"
        )


@pytest.fixture
def counted(sandbox):
    transport = CountingTransport()
    with ImisClient(
        sandbox.url, "pulse", "pulse-sandbox", backoff_s=0.001, transport=transport
    ) as c:
        yield c, transport


def run(items, ledger, client):
    return run_writeback(
        "sentiment_log", items, config(), ledger, client, start=START, timezone="UTC", now=NOW
    )


def test_one_lookup_per_member_serves_all_its_items(tmp_path, counted, source):
    client, transport = counted
    items = make_items(source, n=ITEMS)
    report = run(items, WritebackLedger(tmp_path / "ledger.sqlite"), client)
    assert (report.created, report.failed) == (ITEMS, 0)
    assert transport.lookups() == MEMBERS  # per item, this was ITEMS (36)
    assert transport.writes() == {("POST", 201): ITEMS}

    # A lost ledger: iMIS is still asked first, once per member, and every row is found.
    transport.seen.clear()
    again = run(items, WritebackLedger(tmp_path / "lost.sqlite"), client)
    assert (again.created, again.reconciled) == (0, ITEMS)
    assert transport.lookups() == MEMBERS
    assert transport.writes() == {("PUT", 200): ITEMS}
    assert set(sentiment_rows(client, source).values()) == {1}
    assert len(sentiment_rows(client, source)) == ITEMS


def test_each_unknown_outcome_is_looked_up_again_before_a_retry(tmp_path, counted, source, faults):
    client, transport = counted
    faults.write_saved_then_500_rate = 0.3
    items = make_items(source, n=ITEMS)
    report = run(items, WritebackLedger(tmp_path / "ledger.sqlite"), client)
    unknown = sum(n for (_, status), n in transport.writes().items() if status >= 500)
    assert unknown > 0
    # Every POST answered 500 was saved: the fresh look-up after it finds the row, so the item
    # is done without a second POST, and no contact ever holds two rows for one item.
    assert transport.lookups() == MEMBERS + unknown
    assert report.created == ITEMS and report.failed == 0
    assert set(sentiment_rows(client, source).values()) == {1}
    assert len(sentiment_rows(client, source)) == ITEMS
