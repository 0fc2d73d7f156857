"""The sandbox over real HTTP on 127.0.0.1: auth, envelope, filters, keys, writes, persistence."""

from __future__ import annotations

import httpx
import pytest

from connectors.imis.entities import generic_entity, identity_elements, row_values
from connectors.imis_sandbox import SandboxServer

UNAUTHORIZED = {
    "$type": "System.Web.Http.HttpError, System.Web.Http",
    "Message": "Authorization has been denied for this request.",
}


def token(url: str, **form: str) -> httpx.Response:
    return httpx.post(f"{url}/Token", data=form)


def bearer(url: str) -> dict[str, str]:
    body = token(url, Grant_Type="password", UserName="pulse", PASSWORD="pulse-sandbox").json()
    return {"Authorization": f"Bearer {body['access_token']}"}


@pytest.fixture
def http(sandbox):
    with httpx.Client(base_url=sandbox.url, headers=bearer(sandbox.url)) as c:
        yield c


def test_token_accepts_any_key_case_and_describes_itself(sandbox):
    body = token(
        sandbox.url, GRANT_TYPE="password", username="pulse", Password="pulse-sandbox"
    ).json()
    assert body["token_type"] == "bearer" and body["userName"] == "pulse"
    assert body["expires_in"] == 1799 and body["access_token"]


def test_bad_credentials_are_invalid_grant(sandbox):
    response = token(sandbox.url, grant_type="password", username="pulse", password="nope")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_new_token_revokes_the_previous_one(sandbox):
    first = bearer(sandbox.url)
    assert httpx.get(f"{sandbox.url}/api/Activity?limit=1", headers=first).status_code == 200
    second = bearer(sandbox.url)
    denied = httpx.get(f"{sandbox.url}/api/Activity?limit=1", headers=first)
    assert denied.status_code == 401 and denied.json() == UNAUTHORIZED
    assert httpx.get(f"{sandbox.url}/api/Activity?limit=1", headers=second).status_code == 200


def test_missing_token_gets_the_documented_401_body(sandbox):
    response = httpx.get(f"{sandbox.url}/api/Party")
    assert response.status_code == 401 and response.json() == UNAUTHORIZED


def test_envelope_fields_and_last_page(http):
    total = http.get("/api/activity", params={"limit": 1}).json()["TotalCount"]
    page = http.get("/api/ACTIVITY", params={"Limit": 7, "Offset": total - 3}).json()
    assert page["$type"].startswith(
        "Asi.Soa.Core.DataContracts.PagedResult`1[[Asi.Soa.Core.DataContracts.GenericEntityData"
    )
    assert page["Items"]["$type"].startswith("System.Collections.Generic.List`1[[")
    assert (page["Offset"], page["Limit"], page["Count"]) == (total - 3, 7, 3)
    assert page["NextPageLink"] is None and page["HasNext"] is False and page["NextOffset"] == 0
    first = http.get("/api/Activity").json()
    assert (first["Limit"], first["Count"], first["HasNext"], first["NextOffset"]) == (
        100,
        100,
        True,
        100,
    )


def test_limit_is_clamped_to_the_server_maximum(http):
    assert http.get("/api/Activity", params={"limit": 5000}).json()["Limit"] == 500


def _values(page):
    return [row_values(item) for item in page["Items"]["$values"]]


def test_filter_operators(http):
    rows = _values(
        http.get("/api/Activity", params={"ACTIVITY_TYPE": "eq:call", "limit": 500}).json()
    )
    assert rows and {r["ACTIVITY_TYPE"] for r in rows} == {"CALL"}  # case-insensitive match
    window = {"TRANSACTION_DATE": "between:2026-05-01|2026-05-03T23:59:59", "limit": 500}
    dated = _values(http.get("/api/Activity", params=window).json())
    assert dated and all("2026-05-01" <= r["TRANSACTION_DATE"] < "2026-05-04" for r in dated)
    both = _values(
        http.get("/api/Activity", params={"activity_type": "In:CALL|FEEDBACK", "limit": 500}).json()
    )
    assert {r["ACTIVITY_TYPE"] for r in both} == {"CALL", "FEEDBACK"}
    assert all(
        r["ACTIVITY_TYPE"] != "CALL"
        for r in _values(http.get("/api/Activity", params={"ACTIVITY_TYPE": "ne:CALL"}).json())
    )
    contains = _values(
        http.get("/api/Activity", params={"NOTE": "contains:dues", "limit": 500}).json()
    )
    assert contains and all("dues" in r["NOTE"].lower() for r in contains)
    starts = _values(http.get("/api/Party", params={"LastName": "startsWith:s"}).json())
    assert all(p for p in starts)
    seqs = [
        r["SEQN"]
        for r in _values(
            http.get(
                "/api/Activity",
                params={"SEQN": "ge:20010", "OrderBy": "SEQN:Descending", "limit": 3},
            ).json()
        )
    ]
    assert seqs == sorted(seqs, reverse=True) and min(seqs) >= 20010


def test_unknown_filter_property_is_a_400(http):
    response = http.get("/api/Activity", params={"NoSuchField": "x"})
    assert response.status_code == 400 and "NoSuchField" in response.text


def test_party_persons_filtered_on_updated_on(http):
    page = http.get("/api/Party", params={"UpdatedOn": "gt:2026-05-01", "limit": 500}).json()
    people = [p for p in page["Items"]["$values"] if "PersonData" in p["$type"]]
    assert people and all(p["UpdateInformation"]["UpdatedOn"] > "2026-05-01" for p in people)
    person = people[0]
    names = {a["Name"] for a in person["AdditionalAttributes"]["$values"]}
    assert {
        "CustomerTypeCode",
        "CustomerTypeDescription",
        "JoinDate",
        "PaidThruDate",
        "Chapter",
    } <= names
    assert person["Emails"]["$values"][0]["Address"] and person["PersonName"]["FirstName"]
    assert person["Status"]["PartyStatusId"] in {"A", "I", "S"}


def test_party_list_mixes_people_and_organisations(http):
    types = {
        p["$type"].split(",")[0].rsplit(".", 1)[1]
        for p in http.get("/api/Party", params={"limit": 500}).json()["Items"]["$values"]
    }
    assert types == {"PersonData", "OrganizationData"}


def test_get_by_composite_key_and_wrong_element_count(http):
    row = http.get("/api/PULSE_SurveyResponse", params={"limit": 1}).json()["Items"]["$values"][0]
    member_id, ordinal = identity_elements(row)
    one = http.get(f"/api/pulse_surveyresponse/~{member_id}|{ordinal}")
    assert one.status_code == 200 and identity_elements(one.json()) == [member_id, ordinal]
    wrong = http.get(f"/api/PULSE_SurveyResponse/~{member_id}")
    assert wrong.status_code == 400 and "Incorrect number of identity element" in wrong.text


def test_query_endpoint_returns_expando_rows_and_enforces_its_filters(http):
    params = {
        "QueryName": "$/MemberPulse/SurveyComments",
        "StartDate": "2026-05-01",
        "EndDate": "2026-05-08",
    }
    page = http.get("/api/query", params=params).json()
    assert page["$type"] == "Asi.Soa.Core.DataContracts.PagedResult, Asi.Contracts"
    row = page["Items"]["$values"][0]
    assert row["$type"] == "System.Dynamic.ExpandoObject, System.Core" and "Submitted On" in row
    assert isinstance(row["Ordinal"], int)
    assert http.get("/api/query", params={"QueryName": params["QueryName"]}).status_code == 400
    operator = http.get("/api/query", params=params | {"StartDate": "gt:2026-05-01"})
    assert operator.status_code == 400 and "Parameter Equal" in operator.text


def test_changelog_lists_party_changes(http):
    page = http.get("/api/ChangeLog", params={"IdentityEntityTypeName": "Party", "limit": 5}).json()
    change = page["Items"]["$values"][0]["Changes"]["$values"][0]
    assert change["PropertyName"] in {"Name.MEMBER_TYPE", "Name.CHAPTER", "Name.STATUS"}


def test_panel_post_assigns_next_ordinal_and_persists_across_restart(tmp_path, small):
    params = small | {"members": 20, "items": 50}
    with (
        SandboxServer(tmp_path, **params) as server,
        httpx.Client(base_url=server.url, headers=bearer(server.url)) as http,
    ):
        body = generic_entity("Sentiment_Log", {"ID": "100003", "SourceKey": "20001", "Sentiment": "negative",
                                                "NeedsFollowUp": True}, parent_id="100003")  # fmt: skip
        first = http.post("/api/Sentiment_Log", json=body)
        second = http.post("/api/sentiment_log", json=body)
        assert first.status_code == 201
        assert identity_elements(first.json()) == ["100003", "1"]
        assert identity_elements(second.json()) == ["100003", "2"]
        bare_bool = generic_entity("Sentiment_Log", {"ID": "100003"}, parent_id="100003")
        bare_bool["Properties"]["$values"].append({"Name": "NeedsFollowUp", "Value": True})
        assert http.post("/api/Sentiment_Log", json=bare_bool).status_code == 400
        put = http.put(
            "/api/Sentiment_Log/~100003|2",
            json=generic_entity("Sentiment_Log", {"Sentiment": "positive"}),
        )
        assert row_values(put.json())["Sentiment"] == "positive"
        activity = http.post(
            "/api/Activity",
            json=generic_entity("Activity", {"ACTIVITY_TYPE": "FEEDBACK_FU", "PartyId": "100003"}),
        )
        seqn = identity_elements(activity.json())[0]
    with (
        SandboxServer(tmp_path, **params) as server,
        httpx.Client(base_url=server.url, headers=bearer(server.url)) as http,
    ):
        rows = _values(http.get("/api/Sentiment_Log", params={"ID": "100003"}).json())
        assert [(r["Ordinal"], r["Sentiment"], r["NeedsFollowUp"]) for r in rows] == [
            (1, "negative", True),
            (2, "positive", True),
        ]
        assert (
            row_values(http.get(f"/api/Activity/{seqn}").json())["ACTIVITY_TYPE"] == "FEEDBACK_FU"
        )


def test_group_member_post_then_get(tmp_path, small):
    with SandboxServer(tmp_path, **(small | {"members": 20, "items": 10})) as server, \
            httpx.Client(base_url=server.url, headers=bearer(server.url)) as http:  # fmt: skip
        group = http.get("/api/GroupSummary", params={"Name": "Pulse: follow-up needed"}).json()[
            "Items"
        ]["$values"][0]
        body = {"$type": "Asi.Soa.Membership.DataContracts.GroupMemberData, Asi.Contracts",
                "Group": {"GroupId": group["GroupId"]}, "Party": {"PartyId": "100004"}, "IsActive": True,
                "MembershipDetails": {"$values": [{"Role": {"RoleId": "29AAE912-660E-4C53-B884-AD9EE27DEE0C"}}]}}  # fmt: skip
        assert http.post("/api/GroupMember", json=body).status_code == 201
        assert http.post("/api/GroupMember", json=body).status_code == 400  # already a member
        found = http.get(
            "/api/GroupMember", params={"GroupId": f"eq:{group['GroupId']}", "PartyId": "eq:100004"}
        ).json()
        assert found["Count"] == 1 and found["Items"]["$values"][0]["Party"]["PartyId"] == "100004"
        assert http.delete("/api/GroupMember/x").status_code == 400  # iMIS has no DELETE here
