"""Staff users known to iMIS (`/api/User`), for the redactor: every staff name the sandbox
plants in text must come from that list."""

from __future__ import annotations

import json

import httpx

from connectors.imis import ImisClient, iter_members, iter_staff
from connectors.records import StaffRecord

TOKEN = {"access_token": "t", "token_type": "bearer", "expires_in": 1799}


def test_every_planted_staff_name_is_a_staff_user(client, sandbox_dir):
    staff = list(iter_staff(client))
    assert len(staff) == 8 and all(isinstance(s, StaffRecord) for s in staff)
    known = set()
    for s in staff:
        assert s.first_name and s.last_name and s.emails
        known |= {s.first_name, s.last_name, f"{s.first_name} {s.last_name}"}
    truth = json.loads((sandbox_dir / "ground_truth.json").read_text())
    planted = {p["value"] for p in truth["pii"] if p["kind"] == "staff_name"}
    assert planted, "the sandbox plants staff names"
    assert planted <= known


def test_members_web_logins_are_not_staff(client):
    member_ids = {m.member_id for m in iter_members(client, None)}
    staff = list(iter_staff(client))
    assert not {s.party_id for s in staff} & member_ids
    everyone = list(iter_staff(client, staff_roles=None))
    assert len(everyone) > len(staff)
    assert {s.party_id for s in everyone} & member_ids  # members' logins exist, and are skipped


def test_staff_repr_hides_names_and_emails(client):
    record = next(iter_staff(client))
    text = repr(record)
    assert record.first_name not in text and record.last_name not in text
    assert "@" not in text


def test_summary_only_users_and_party_resolution():
    """A UserData whose Party is a bare summary: names come from `Name`, or from /api/Party."""
    users = [
        {"UserId": "U1", "UserName": "JDOE", "Roles": {"$values": [{"Name": "staff"}]},
         "Party": {"PartyId": "77", "Name": "Jane van Doe", "Email": "jd@assoc.example"}},
        {"UserId": "U2", "UserName": "GONE", "IsDisabled": {"$type": "System.Boolean", "$value": True},
         "Roles": {"$values": ["Staff"]}, "Party": {"PartyId": "78", "Name": "Old Timer"}},
        {"UserId": "U3", "UserName": "web", "Roles": {"$values": ["Member"]}, "Party": {"PartyId": "9"}},
    ]  # fmt: skip
    person = {"$type": "Asi.Soa.Membership.DataContracts.PersonData, Asi.Contracts",
              "PersonName": {"FirstName": "Jane", "LastName": "van Doe"},
              "Emails": {"$values": [{"Address": "jane@home.example"}]}}  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json=TOKEN)
        if request.url.path == "/api/Party/77":
            return httpx.Response(200, json=person)
        if request.url.path.startswith("/api/Party/"):
            return httpx.Response(404, json={"Message": "not found"})
        return httpx.Response(200, json={"Items": {"$values": users}, "Offset": 0, "Count": 3,
                                         "TotalCount": 3, "HasNext": False, "NextOffset": 0})  # fmt: skip

    with ImisClient("http://imis.test", "u", "p", transport=httpx.MockTransport(handler)) as c:
        plain = list(iter_staff(c))
        assert [(s.user_id, s.first_name, s.last_name) for s in plain] == [
            ("U1", "Jane van", "Doe"),
            ("U2", "Old", "Timer"),
        ]
        assert [s.user_id for s in iter_staff(c, include_disabled=False)] == ["U1"]
        resolved = list(iter_staff(c, resolve_party=True))
        assert (resolved[0].first_name, resolved[0].last_name) == ("Jane", "van Doe")
        assert resolved[0].emails == ("jd@assoc.example", "jane@home.example")
        assert resolved[1].last_name == "Timer"  # 404 on its party: the summary stands
