"""Read text sources, members and member history from iMIS as the shared records.

Watermarks are iMIS creation dates: naive local datetimes, compared as such. A window is
[start, end): the server filter is inclusive (`between:`), so the end is pulled in by 3 ms, the
smallest step of SQL Server's `datetime`, and every row is checked again client-side.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from connectors.records import MemberChange, MemberRecord, SourceItem, SourceProblem, StaffRecord
from connectors.sources import ImisEntitySource, ImisQuerySource

from .client import ImisClient
from .entities import (
    additional_attributes,
    identity_elements,
    parse_date,
    parse_datetime,
    row_values,
)
from .errors import ImisResponseError
from .text import email_text

ImisSource = ImisEntitySource | ImisQuerySource
_END_STEP = timedelta(milliseconds=3)
READ_SPAN = timedelta(days=7)  # longest window one paged read covers
# ChangeLog property names (classic `Name.*` columns) -> MemberChange.attribute
_CHANGE_ATTRIBUTES = {"MEMBER_TYPE": "tier", "CUSTOMERTYPECODE": "tier", "CHAPTER": "chapter",
                      "STATUS": "status", "PARTYSTATUSID": "status"}  # fmt: skip


def window_filters(source: ImisSource, start: datetime, end: datetime) -> dict[str, str]:
    """The iMIS filters for one window.

    A filter value may use `{start}` / `{end}` placeholders (e.g. an IQA's own date filters,
    which take no operator); otherwise an entity source filters its watermark with `between:`.
    """
    first, last = _fmt(start), _fmt(end - _END_STEP)
    filters: dict[str, str] = {}
    templated = False
    for name, value in source.filters.items():
        templated |= "{start}" in value or "{end}" in value
        filters[name] = value.replace("{start}", _fmt(start)).replace("{end}", _fmt(end))
    if isinstance(source, ImisEntitySource) and not templated:
        filters[source.watermark_field.rsplit(".", 1)[-1]] = f"between:{first}|{last}"
    return filters


def count_source_items(
    client: ImisClient, source: ImisSource, start: datetime, end: datetime
) -> int:
    """How many rows iMIS holds for the window (one request, limit=1)."""
    filters = window_filters(source, start, end)
    if isinstance(source, ImisEntitySource):
        return client.count(f"/api/{source.entity}", filters)
    return client.count("/api/query", {"QueryName": source.query_name, **filters})


def iter_source_items(
    client: ImisClient, source: ImisSource, start: datetime, end: datetime
) -> Iterator[SourceItem | SourceProblem]:
    """Items created in [start, end), each once; unusable rows come out as SourceProblems.

    A long window (a first backfill of years) is read in spans of READ_SPAN: iMIS pages by
    offset, and each page of one huge window makes the server count and sort the whole window
    again, so a year read in one piece costs the server time that grows with its square.
    """
    label = source.entity if isinstance(source, ImisEntitySource) else source.query_name
    seen: set[str] = set()
    for position, raw in enumerate(_rows_by_span(client, source, start, end)):
        values = row_values(raw)
        key_parts = [_field(values, f) for f in source.key_fields]
        location = f"{label} row {position}"
        if any(p is None or p == "" for p in key_parts):
            created = _safe_datetime(_field(values, source.watermark_field))
            yield SourceProblem(source.name, location, "missing key field", created)
            continue
        key = "|".join(str(p) for p in key_parts)
        if key in seen:  # a row read again (a later page or span): its first copy counts
            continue
        location = f"{label} {key}"
        try:
            created = parse_datetime(_field(values, source.watermark_field))
        except ValueError:
            seen.add(key)
            yield SourceProblem(source.name, location, f"unreadable {source.watermark_field}")
            continue
        if created is None:
            seen.add(key)
            yield SourceProblem(source.name, location, f"no {source.watermark_field}")
            continue
        if not start <= created < end:
            continue
        seen.add(key)
        yield _item(source, values, key, created, location)


def _rows_by_span(
    client: ImisClient, source: ImisSource, start: datetime, end: datetime
) -> Iterator[dict[str, Any]]:
    span_start = start
    while span_start < end:
        span_end = min(span_start + READ_SPAN, end)
        filters = window_filters(source, span_start, span_end)
        if isinstance(source, ImisEntitySource):
            yield from client.iter_rows(source.entity, filters)
        else:
            yield from client.iter_query(source.query_name, filters)
        span_start = span_end


def _item(
    source: ImisSource, values: Mapping[str, Any], key: str, created: datetime, location: str
) -> SourceItem | SourceProblem:
    parts = [
        str(v).strip()
        for f in source.text_fields
        if (v := _field(values, f)) is not None and str(v).strip()
    ]
    raw = "\n\n".join(parts)
    original_length = None
    if source.html:
        original_length = len(raw)
        text = email_text(raw)
    else:
        text = raw
    if not text.strip():
        return SourceProblem(source.name, location, "empty text", created)
    member_id = _field(values, source.member_id_field) if source.member_id_field else None
    question = _field(values, source.question_field) if source.question_field else None
    updated = _field(values, source.updated_field) if source.updated_field else None
    return SourceItem(
        source_name=source.name,
        source_key=key,
        channel=source.channel,
        created_at=created,
        text=text,
        member_id=str(member_id) if member_id not in (None, "") else None,
        question=str(question) if question else None,
        updated_at=_safe_datetime(updated),
        original_length=original_length,
    )


def iter_members(client: ImisClient, updated_since: datetime | None) -> Iterator[MemberRecord]:
    """People from `/api/Party` (organisations are skipped), optionally only those updated since."""
    filters = {"UpdatedOn": f"gt:{_fmt(updated_since)}"} if updated_since else {}
    seen: set[str] = set()
    for raw in client.iter_rows("Party", filters):
        if not str(raw.get("$type", "")).startswith("Asi.Soa.Membership.DataContracts.PersonData"):
            continue
        member_id = str(raw.get("PartyId") or raw.get("Id") or "")
        if not member_id or member_id in seen:
            continue
        seen.add(member_id)
        attributes = additional_attributes(raw)
        name = raw.get("PersonName") or {}
        emails = tuple(
            e["Address"] for e in (raw.get("Emails") or {}).get("$values", []) if e.get("Address")
        )
        yield MemberRecord(
            member_id=member_id,
            tier=attributes.get("CustomerTypeCode") or None,
            tier_label=attributes.get("CustomerTypeDescription") or None,
            chapter=attributes.get("Chapter") or None,
            status=(raw.get("Status") or {}).get("PartyStatusId"),
            join_date=_safe_date(attributes.get("JoinDate")),
            paid_through=_safe_date(attributes.get("PaidThruDate")),
            updated_at=_safe_datetime((raw.get("UpdateInformation") or {}).get("UpdatedOn")),
            first_name=name.get("FirstName") or None,
            last_name=name.get("LastName") or None,
            emails=emails,
        )


# Roles that make an iMIS user a staff member (ASSUMPTION: site-specific; pass your own).
DEFAULT_STAFF_ROLES = ("Staff", "SysAdmin")


def iter_staff(
    client: ImisClient,
    *,
    entity: str = "User",
    staff_roles: Collection[str] | None = DEFAULT_STAFF_ROLES,
    include_disabled: bool = True,
    resolve_party: bool = False,
) -> Iterator[StaffRecord]:
    """Staff users known to iMIS, for the redactor's known-people index (names, e-mails).

    ASSUMPTION (API.md is silent on users): `/api/User` lists UserData with `UserId`,
    `UserName`, `IsDisabled`, `Party` (the user's contact: `PartyId`, `Name`, `Email`, and
    `PersonName` when the server embeds it) and `Roles.$values[]` (`RoleName` or `Name`, or plain
    strings). A user is staff when one of its roles is in `staff_roles` (case-insensitive;
    `None` takes every user). Disabled users are kept by default: former staff still appear in
    old notes. `resolve_party=True` reads each staff contact's full `/api/Party/{id}`
    (PersonName and every e-mail) instead of trusting the embedded summary: one request per
    staff user, so only for sites whose UserData carries a bare party reference.
    """
    wanted = {r.casefold() for r in staff_roles} if staff_roles is not None else None
    seen: set[str] = set()
    for raw in client.iter_rows(entity):
        user_id = str(raw.get("UserId") or raw.get("UserName") or "")
        if not user_id or user_id in seen:
            continue
        if not include_disabled and unwrap_bool(raw.get("IsDisabled")):
            continue
        if wanted is not None and not wanted & {r.casefold() for r in _role_names(raw)}:
            continue
        seen.add(user_id)
        party = raw.get("Party") if isinstance(raw.get("Party"), dict) else {}
        party_id = str(party.get("PartyId") or party.get("Id") or "") or None
        first, last, emails = _person_parts(party)
        if resolve_party and party_id:
            try:
                first, last, emails = _person_parts(client.get_one("Party", party_id), emails)
            except ImisResponseError as exc:
                if exc.status != 404:
                    raise
        yield StaffRecord(user_id, party_id, first, last, emails)


def unwrap_bool(value: Any) -> bool:
    if isinstance(value, dict):
        value = value.get("$value")
    return value is True or str(value).lower() == "true"


def _role_names(raw: Mapping[str, Any]) -> list[str]:
    roles = raw.get("Roles")
    values = roles.get("$values", []) if isinstance(roles, dict) else roles or []
    names = []
    for role in values:
        if isinstance(role, str):
            names.append(role)
        elif isinstance(role, dict):
            name = role.get("RoleName") or role.get("Name") or role.get("RoleKey")
            if name:
                names.append(str(name))
    return names


def _person_parts(
    party: Mapping[str, Any], extra_emails: tuple[str, ...] = ()
) -> tuple[str | None, str | None, tuple[str, ...]]:
    """First name, last name and e-mails of a Party (PersonData or PartySummaryData)."""
    name = party.get("PersonName") if isinstance(party.get("PersonName"), dict) else {}
    first, last = name.get("FirstName") or None, name.get("LastName") or None
    if not (first or last) and party.get("Name"):
        *given, family = str(party["Name"]).split()  # a summary carries only the full name
        first, last = " ".join(given) or None, family
    emails = list(extra_emails)
    if party.get("Email"):
        emails.append(str(party["Email"]))
    for e in (party.get("Emails") or {}).get("$values", []):
        if isinstance(e, dict) and e.get("Address"):
            emails.append(str(e["Address"]))
    return first, last, tuple(dict.fromkeys(emails))


def per_day_counts(
    client: ImisClient, source: ImisSource, start: date, end: date
) -> dict[date, int]:
    """Rows iMIS holds per creation day in [start, end), for the reconciliation job.

    One `limit=1` request per day (iMIS has no GROUP BY), so ask for the days you mean to
    check, not years. Counts are rows, including the empty ones the reader reports as
    problems: compare them with items + problems per day.
    """
    counts: dict[date, int] = {}
    day = start
    while day < end:
        first = datetime.combine(day, datetime.min.time())
        counts[day] = count_source_items(client, source, first, first + timedelta(days=1))
        day += timedelta(days=1)
    return counts


def iter_member_changes(client: ImisClient, since: datetime | None) -> Iterator[MemberChange]:
    """Tier, chapter and status changes from `/api/ChangeLog?IdentityEntityTypeName=Party`."""
    filters = {"IdentityEntityTypeName": "Party"}
    if since:
        filters["CreatedOn"] = f"gt:{_fmt(since)}"
    for raw in client.iter_rows("ChangeLog", filters):
        elements = identity_elements(raw)
        changed_at = _safe_datetime(raw.get("CreatedOn"))
        if not elements or changed_at is None:
            continue
        for change in (raw.get("Changes") or {}).get("$values", []):
            prop = str(change.get("PropertyName", "")).rsplit(".", 1)[-1].upper()
            if prop in _CHANGE_ATTRIBUTES:
                yield MemberChange(
                    member_id=str(elements[0]),
                    changed_at=changed_at,
                    attribute=_CHANGE_ATTRIBUTES[prop],
                    old_value=change.get("OriginalValue") or None,
                    new_value=change.get("NewValue") or None,
                )


def _field(values: Mapping[str, Any], name: str) -> Any:
    """Property names are case-insensitive in iMIS, so the configuration may differ in case."""
    if name in values:
        return values[name]
    lowered = name.lower()
    return next((v for k, v in values.items() if k.lower() == lowered), None)


def _fmt(value: datetime) -> str:
    value = value.replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")


def _safe_datetime(value: Any) -> datetime | None:
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _safe_date(value: Any) -> Any:
    try:
        return parse_date(value)
    except ValueError:
        return None
