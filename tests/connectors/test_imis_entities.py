"""Contract tests: the parsers against real iMIS payloads (tests/fixtures/imis/SOURCES.md)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.imis.entities import (
    additional_attributes,
    flatten_contract,
    generic_entity,
    identity_elements,
    parse_datetime,
    row_values,
    unwrap,
)
from connectors.imis.pagination import parse_page

FIXTURES = Path(__file__).parents[1] / "fixtures" / "imis"


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_generic_entity_typed_wrappers_and_nulls_from_multi_instance_sample():
    row = load("ud-table-multi-instance-create-request.json")
    values = row_values(row)
    assert values["CEU_Hours"] == 10.0 and isinstance(values["CEU_Hours"], float)  # System.Double
    assert values["SEQN"] == 2 and isinstance(values["SEQN"], int)  # System.Int32
    assert values["CEU_Notes"] == "These are some notes on the subject!"
    assert values["CEU_Course"] is None  # property without Value = NULL
    assert identity_elements(row) == ["23179", "2"]


def test_generic_entity_decimal_and_boolean_from_single_instance_sample():
    values = row_values(load("ud-table-single-instance-update-request.json"))
    assert values["Activity_Fee"] == Decimal("10")
    assert values["Advertiser"] is False
    assert values["Date_Certified"] is None


def test_expando_rows_are_flat_and_keep_aliases():
    page = parse_page(load("query-endpoint-page-expando.json"))
    assert (page.total, page.has_next, page.next_offset) == (1, False, 0)
    assert row_values(page.items[0]) == {
        "sub": "123456aa-UUID-0000-0000-000000000000",
        "username": "EXAMPLE@EXAMPLE.COM.AU",
        "email": "example@example.com",
        "given_name": "First",
        "family_name": "Last",
    }


def test_envelope_without_items_is_malformed():
    with pytest.raises(ValueError, match=r"Items"):
        parse_page(load("paged-result-envelope-party-fragment.json"))


def test_page_claiming_next_without_progress_is_malformed():
    body = load("query-endpoint-page-expando.json") | {"HasNext": True, "NextOffset": 0}
    with pytest.raises(ValueError, match="NextOffset"):
        parse_page(body)


def test_party_sample_additional_attributes_and_nested_fields():
    party = load("party-comboparty-create-request.json")
    attributes = additional_attributes(party)
    assert attributes["CustomerTypeCode"] == "CM"
    assert attributes["IsMember"] is True
    assert parse_datetime(attributes["JoinDate"]) == datetime(1967, 5, 28)
    flat = flatten_contract(party)
    assert flat["PersonName.FirstName"] == "Douglas"
    assert flat["FirstName"] == "Douglas"  # leaf names reach nested contracts


def test_partynote_sample_is_a_flat_contract():
    flat = row_values(load("partynote-create-request.json"))
    assert flat["PartyId"] == "18043" and flat["Text"].startswith("DRIVING:")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-02-11T16:40:02.1", datetime(2026, 2, 11, 16, 40, 2, 100000)),
        ("2019-03-01T09:12:44.53", datetime(2019, 3, 1, 9, 12, 44, 530000)),
        ("2021-02-20T18:00:00", datetime(2021, 2, 20, 18)),
        ("2021-02-20T18:00:00Z", datetime(2021, 2, 20, 18)),  # stays naive local time
        ("", None),
    ],
)
def test_parse_datetime_keeps_naive_local_time(raw, expected):
    assert parse_datetime(raw) == expected


def test_unwrap_guid_and_plain_values():
    assert unwrap({"$type": "System.Guid", "$value": "abc"}) == "abc"
    assert unwrap("plain") == "plain"


def test_generic_entity_body_round_trips_through_the_parser():
    body = generic_entity(
        "Sentiment_Log",
        {"ID": "23179", "NeedsFollowUp": True, "Score": Decimal("-0.62"), "ProcessedOn": datetime(2026, 5, 1, 10),
         "Summary": None, "Day": date(2026, 5, 1)},
        parent_id="23179",
    )  # fmt: skip
    props = {p["Name"]: p for p in body["Properties"]["$values"]}
    assert props["NeedsFollowUp"]["Value"] == {"$type": "System.Boolean", "$value": True}
    assert "Value" not in props["Summary"]
    assert props["ProcessedOn"]["Value"] == "2026-05-01T10:00:00"
    assert body["PrimaryParentIdentity"]["IdentityElements"]["$values"] == ["23179"]
    assert row_values(body)["Score"] == Decimal("-0.62")
