"""ImisClient: retries, token handling and typed errors, against the sandbox and mock transports."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from connectors.imis import ImisAuthError, ImisClient, ImisResponseError, ImisRetriesExhausted
from connectors.imis.entities import row_values
from connectors.imis_sandbox import Faults, SandboxServer

PAGE = {"$type": "x", "Items": {"$values": []}, "Offset": 0, "Limit": 100, "Count": 0, "TotalCount": 0,
        "NextPageLink": None, "HasNext": False, "NextOffset": 0}  # fmt: skip
TOKEN = {"access_token": "tok-1", "token_type": "bearer", "expires_in": 1799}


def mock_client(handler, **kw) -> ImisClient:
    return ImisClient("http://imis.test", "pulse", "s3cret-pw", transport=httpx.MockTransport(handler),
                      backoff_s=0.001, **kw)  # fmt: skip


ITEM_ENTITIES = {"Activity": ("SEQN",), "PartyNote": ("PartyNoteId",), "CommunicationLog": ("CommunicationLogId",),
                 "PULSE_SurveyResponse": ("ID", "Ordinal"), "PULSE_CaseNote": ("ID", "Ordinal")}  # fmt: skip


def test_full_read_through_faults_returns_every_row_once(tmp_path, small):
    faults = Faults(rate_5xx=0.2, rate_429=0.1, retry_after_s=0, malformed_rate=0.05,
                    token_expiry_s=1, max_page_size=20, latency_ms=20, seed=3)  # fmt: skip
    with SandboxServer(tmp_path, **small, faults=faults) as server, \
            ImisClient(server.url, "pulse", "pulse-sandbox", backoff_s=0.01, max_retries=8) as client:  # fmt: skip
        rates = faults.rate_5xx, faults.rate_429, faults.malformed_rate
        faults.rate_5xx = faults.rate_429 = faults.malformed_rate = 0.0
        expected = {entity: client.count(f"/api/{entity}") for entity in ITEM_ENTITIES}
        faults.rate_5xx, faults.rate_429, faults.malformed_rate = rates
        # The client asks for 500 rows a page; the server clamps to 20, so ~50 pages meet faults.
        read = {
            entity: [tuple(row_values(r)[k] for k in key) for r in client.iter_rows(entity)]
            for entity, key in ITEM_ENTITIES.items()
        }
    assert sum(expected.values()) == small["items"]
    for entity, keys in read.items():
        assert len(keys) == expected[entity] == len(set(keys)), entity
    assert min(faults.injected[k] for k in ("5xx", "429", "malformed")) > 0
    assert faults.injected["token"] >= 2  # tokens expired mid-read and were replaced


def test_token_refreshed_once_after_401():
    calls = {"token": 0, "api": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            calls["token"] += 1
            return httpx.Response(200, json=TOKEN | {"access_token": f"tok-{calls['token']}"})
        calls["api"] += 1
        if request.headers["Authorization"] == "Bearer tok-1":
            return httpx.Response(
                401, json={"Message": "Authorization has been denied for this request."}
            )
        return httpx.Response(200, json=PAGE)

    with mock_client(handler) as client:
        assert client.count("/api/Activity") == 0
    assert calls == {"token": 2, "api": 2}


def test_persistent_401_raises_auth_error():
    def handler(request):
        if request.url.path == "/token":
            return httpx.Response(200, json=TOKEN)
        return httpx.Response(401, json={"Message": "denied"})

    with mock_client(handler) as client, pytest.raises(ImisAuthError):
        client.get("/api/Party")


def test_bad_credentials_error_never_shows_the_password():
    def handler(request):
        return httpx.Response(400, json={"error": "invalid_grant", "error_description": "bad"})

    with mock_client(handler) as client, pytest.raises(ImisAuthError) as info:
        client.get("/api/Party")
    assert "invalid_grant" in str(info.value) and "s3cret-pw" not in str(info.value)
    assert "s3cret-pw" not in repr(client)


def test_retry_after_is_honoured_then_success(monkeypatch):
    sleeps: list[float] = []
    monkeypatch.setattr("connectors.imis.client.time.sleep", sleeps.append)
    responses = iter(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=PAGE)]
    )

    def handler(request):
        return httpx.Response(200, json=TOKEN) if request.url.path == "/token" else next(responses)

    with mock_client(handler) as client:
        assert client.count("/api/Activity") == 0
    assert sleeps == [7.0]


def test_bounded_retries_name_the_entity_filters_and_offset(caplog):
    def handler(request):
        if request.url.path == "/token":
            return httpx.Response(200, json=TOKEN)
        return httpx.Response(503, text="<html>Service Unavailable</html>")

    caplog.set_level(logging.DEBUG)
    with mock_client(handler, max_retries=2) as client, pytest.raises(ImisRetriesExhausted) as info:
        list(client.iter_rows("Activity", {"ACTIVITY_TYPE": "FEEDBACK"}))
    message = str(info.value)
    assert (
        "/api/Activity" in message and "ACTIVITY_TYPE=FEEDBACK" in message and "offset 0" in message
    )
    assert info.value.status == 503 and info.value.offset == 0
    assert "tok-1" not in caplog.text and "s3cret-pw" not in caplog.text


def test_post_is_not_retried_after_a_500():
    posts = []

    def handler(request):
        if request.url.path == "/token":
            return httpx.Response(200, json=TOKEN)
        posts.append(json.loads(request.content))
        return httpx.Response(500, json={"Message": "An error has occurred."})

    with mock_client(handler) as client, pytest.raises(ImisResponseError) as info:
        client.post("Sentiment_Log", {"Properties": {"$values": []}})
    assert len(posts) == 1 and info.value.server_message == "An error has occurred."


def test_validation_error_message_is_surfaced():
    def handler(request):
        if request.url.path == "/token":
            return httpx.Response(200, json=TOKEN)
        return httpx.Response(
            400,
            json={
                "Errors": {
                    "$values": [{"Message": "ArgumentFault: Incorrect number of identity element"}]
                }
            },
        )

    with mock_client(handler) as client, pytest.raises(ImisResponseError, match="Incorrect number"):
        client.get_one("PULSE_SurveyResponse", "1")


def test_paging_follows_next_offset_not_the_requested_limit():
    offsets = []

    def handler(request):
        if request.url.path == "/token":
            return httpx.Response(200, json=TOKEN)
        offset = int(request.url.params["offset"])
        offsets.append(offset)
        items = [
            {"$type": "System.Dynamic.ExpandoObject, System.Core", "n": offset + i}
            for i in range(2)
        ]
        last = offset + 2 >= 6
        return httpx.Response(200, json=PAGE | {"Items": {"$values": items}, "Offset": offset, "Count": 2,
                                               "TotalCount": 6, "HasNext": not last, "NextOffset": 0 if last else offset + 2})  # fmt: skip

    with mock_client(handler) as client:
        assert [r["n"] for r in client.iter_query("$/Q")] == [0, 1, 2, 3, 4, 5]
    assert offsets == [0, 2, 4]
