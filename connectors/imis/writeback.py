"""Idempotent writes to iMIS: look up by the source key before writing, and again after a
write whose outcome is unknown.

iMIS has no upsert, and a POST can be saved and still answered with a 500 (or the connection
can drop after the save). Blindly repeating it would create a second Sentiment_Log row or a
second follow-up case. So every helper here:

1. looks for the row by its source key (properties the caller chooses, stored on the row);
2. writes (POST when absent, PUT when present);
3. when the write fails with an unknown outcome (5xx, timeout, connection lost), looks again:
   found means the first attempt was saved; absent means it is safe to write again.

Attempts are bounded (`attempts`); 4xx answers are final and raised at once. 429 is retried
inside the client (a throttled request was not processed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .client import ImisClient
from .entities import generic_entity, identity_elements, row_values
from .errors import ImisRequestError, ImisResponseError, ImisRetriesExhausted

log = logging.getLogger(__name__)
T = TypeVar("T")

# The "Member" role of group membership; the same GUID in ASI's demo and a customer's code
# (API.md 5.3): verify it per site.
MEMBER_ROLE_ID = "29AAE912-660E-4C53-B884-AD9EE27DEE0C"
DEFAULT_ATTEMPTS = 5


class ImisWriteError(ImisRequestError):
    """A write still had an unknown outcome after every attempt."""


class ImisWriteRejected(ImisResponseError):
    """iMIS refused a write (4xx): final, never retried. The message names the write, the
    status and iMIS's own reason, e.g. an unknown property of the panel source."""


def _rejected(what: str, exc: ImisRequestError) -> ImisWriteRejected:
    return ImisWriteRejected(
        f"{what} was rejected by iMIS (not retried)",
        method=exc.method,
        path=exc.path,
        params=exc.params,
        status=exc.status,
        server_message=exc.server_message,
    )


def _eq(value: Any) -> str:
    """An explicit Equal filter, so a value holding a colon (`pulse:src:1`) is never read as
    an operator (API.md 2.3)."""
    return f"eq:{value}"


def _unknown_outcome(exc: ImisRequestError) -> bool:
    """The server may or may not have saved the write: no response, or a server error."""
    return exc.status is None or exc.status >= 500 or isinstance(exc, ImisRetriesExhausted)


def _matches(values: Mapping[str, Any], key_fields: Mapping[str, Any]) -> bool:
    lowered = {k.lower(): v for k, v in values.items()}
    return all(_same(lowered.get(k.lower()), v) for k, v in key_fields.items())


def _same(stored: Any, wanted: Any) -> bool:
    if stored is None or wanted is None:
        return stored is wanted
    return str(stored).strip().casefold() == str(wanted).strip().casefold()


def _write_with_lookup(
    what: str,
    lookup: Callable[[], T | None],
    write: Callable[[T | None], T],
    attempts: int,
) -> tuple[T, bool]:
    """Look up; write; on an unknown outcome look up again before another attempt.

    Returns (result, created): created is True when this call made the row (including a POST
    whose 500 hid a successful save), False when the row already existed and was updated.
    """
    existing = lookup()
    created = existing is None
    last: ImisRequestError | None = None
    for attempt in range(attempts):
        try:
            return write(existing), created
        except ImisRequestError as exc:
            if not _unknown_outcome(exc):
                raise _rejected(what, exc) from None
            last = exc
            log.info("%s: outcome unknown (%s); checking before retry %d", what, exc, attempt + 1)
            found = lookup()
            if found is not None and existing is None:
                return found, True  # the POST was saved before the error
            existing = found if found is not None else existing
    assert last is not None
    raise ImisWriteError(
        f"{what}: outcome still unknown after {attempts} attempts",
        method=last.method,
        path=last.path,
        params=last.params,
        status=last.status,
        server_message=last.server_message,
    )


# -- panel rows ------------------------------------------------------------------------------


def find_panel_row(
    client: ImisClient,
    entity: str,
    parent_id: str,
    key_fields: Mapping[str, Any],
    *,
    parent_field: str = "ID",
) -> list[str] | None:
    """The identity (`[ID, Ordinal]`) of the contact's row whose key properties match, if any."""
    for raw in client.iter_rows(entity, {parent_field: _eq(parent_id)}):
        if _matches(row_values(raw), key_fields):
            return identity_elements(raw)
    return None


def upsert_panel_row(
    client: ImisClient,
    entity: str,
    parent_id: str,
    key_fields: dict[str, Any],
    properties: dict[str, Any],
    *,
    parent_field: str = "ID",
    ordinal_field: str = "Ordinal",
    attempts: int = DEFAULT_ATTEMPTS,
) -> tuple[list[str], bool]:
    """Create or update one row of a contact-parent multi-instance panel (e.g. Sentiment_Log).

    `key_fields` identify the row by its source (e.g. `{"SourceEntity": "Activity",
    "SourceKey": "16565"}`) and are written with `properties`. Returns (identity, created).
    A retried run finds its own row and updates it: never a second row.
    """
    values = {parent_field: parent_id, **key_fields, **properties}

    def lookup() -> list[str] | None:
        return find_panel_row(client, entity, parent_id, key_fields, parent_field=parent_field)

    def write(identity: list[str] | None) -> list[str]:
        if identity is None:
            body = generic_entity(entity, values, parent_id=parent_id)
            saved = client.post(entity, body)
            return identity_elements(saved) if isinstance(saved, dict) else []
        # Partial PUT: key in Identity and as properties, Ordinal as Int32 (API.md 5.2, S23).
        ordinal = int(identity[-1]) if str(identity[-1]).isdigit() else identity[-1]
        body = generic_entity(
            entity, {**values, ordinal_field: ordinal}, parent_id=parent_id, identity=identity
        )
        _put_retrying(client, entity, "~" + "|".join(identity), body, attempts)
        return identity

    return _write_with_lookup(f"{entity} row for {parent_id}", lookup, write, attempts)


def _put_retrying(
    client: ImisClient, entity: str, key: str, body: Mapping[str, Any], attempts: int
) -> Any:
    """PUT replaces the same properties each time, so repeating it is safe."""
    for attempt in range(attempts):
        try:
            return client.put(entity, key, body)
        except ImisRequestError as exc:
            if not _unknown_outcome(exc) or attempt == attempts - 1:
                raise
            client._backoff(attempt, f"PUT {entity} failed ({exc.status})", None)
    return None


# -- activities ------------------------------------------------------------------------------


def find_activity(
    client: ImisClient, party_id: str, activity_type: str, key_fields: Mapping[str, Any]
) -> str | None:
    """The SEQN of the contact's activity of this type whose key properties match, if any."""
    filters = {"PartyId": _eq(party_id), "ACTIVITY_TYPE": _eq(activity_type)}
    filters.update({k: _eq(v) for k, v in key_fields.items()})
    for raw in client.iter_rows("Activity", filters):
        values = row_values(raw)
        if _matches(values, key_fields):
            return str(values.get("SEQN") or identity_elements(raw)[0])
    return None


def create_activity(
    client: ImisClient,
    party_id: str,
    activity_type: str,
    key_fields: dict[str, Any],
    properties: dict[str, Any],
    *,
    attempts: int = DEFAULT_ATTEMPTS,
) -> tuple[str, bool]:
    """Create a follow-up Activity once; returns (SEQN, created).

    `key_fields` must be stored on the Activity and filterable, e.g.
    `{"OTHER_CODE": "pulse:activity_feedback:20001"}`. An existing activity is left as it is
    (staff may have edited it).
    """

    def lookup() -> str | None:
        return find_activity(client, party_id, activity_type, key_fields)

    def write(seqn: str | None) -> str:
        if seqn is not None:
            return seqn
        body = generic_entity(
            "Activity",
            {"PartyId": party_id, "ACTIVITY_TYPE": activity_type, **key_fields, **properties},
            parent_id=party_id,
        )
        saved = client.post("Activity", body)
        return identity_elements(saved)[0] if isinstance(saved, dict) else ""

    seqn, created = _write_with_lookup(
        f"{activity_type} activity for {party_id}", lookup, write, attempts
    )
    return seqn, created


# -- group membership ------------------------------------------------------------------------


def find_group_member(client: ImisClient, group_id: str, party_id: str) -> str | None:
    for raw in client.iter_rows(
        "GroupMember", {"GroupId": _eq(group_id), "PartyId": _eq(party_id)}
    ):
        return str(raw.get("GroupMemberId") or "") or None
    return None


def add_group_member(
    client: ImisClient,
    group_id: str,
    party_id: str,
    *,
    role_id: str = MEMBER_ROLE_ID,
    attempts: int = DEFAULT_ATTEMPTS,
) -> tuple[str, bool]:
    """Add a contact to a group once (API.md 5.3); returns (GroupMemberId, created)."""

    def lookup() -> str | None:
        return find_group_member(client, group_id, party_id)

    def write(member_id: str | None) -> str:
        if member_id is not None:
            return member_id
        body = {
            "$type": "Asi.Soa.Membership.DataContracts.GroupMemberData, Asi.Contracts",
            "Group": {"GroupId": group_id},
            "Party": {"PartyId": party_id},
            "IsActive": True,
            "MembershipDetails": {"$values": [{"Role": {"RoleId": role_id, "Name": "Member"}}]},
        }
        saved = client.post("GroupMember", body)
        return str(saved.get("GroupMemberId")) if isinstance(saved, dict) else ""

    return _write_with_lookup(f"group {group_id} member {party_id}", lookup, write, attempts)


def find_group_id(client: ImisClient, name: str) -> str | None:
    """The GroupId of the group with this exact name (`GET /api/GroupSummary?Name=`, API.md 5.3)."""
    for raw in client.iter_rows("GroupSummary", {"Name": _eq(name)}):
        values = row_values(raw)
        if _same(values.get("Name"), name) and values.get("GroupId"):
            return str(values["GroupId"])
    return None


# -- preflight -------------------------------------------------------------------------------


def entity_properties(client: ImisClient, entity: str) -> set[str] | None:
    """Check that `/api/{entity}` exists (a clear error naming it when not) and return the
    property names of one of its rows, or None when it has no row yet to learn them from.

    Panel sources are created in the iMIS UI (API.md 5.1); a missing one answers 404.
    """
    try:
        page = client.get_page(f"/api/{entity}", {"limit": 1, "offset": 0})
    except ImisResponseError as exc:
        if exc.status == 404:
            raise ImisWriteRejected(
                f"the iMIS entity {entity!r} does not exist: create the panel source "
                f"{entity!r} in RiSE > Panel Designer (or set its name in the write-back "
                "configuration)",
                method=exc.method, path=exc.path, status=exc.status,
                server_message=exc.server_message,
            ) from None  # fmt: skip
        raise
    if not page.items:
        return None
    return set(row_values(page.items[0]))
