"""Read text sources, members and member history from iMIS as the shared records.

Watermarks are iMIS creation dates: naive local datetimes, compared as such. A window is
[start, end): the server filter is inclusive (`between:`), so the end is pulled in by 3 ms, the
smallest step of SQL Server's `datetime`, and every row is checked again client-side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from connectors.records import MemberChange, MemberRecord, SourceItem, SourceProblem
from connectors.sources import ImisEntitySource, ImisQuerySource

from .client import ImisClient
from .entities import (
    additional_attributes,
    identity_elements,
    parse_date,
    parse_datetime,
    row_values,
)
from .text import email_text

ImisSource = ImisEntitySource | ImisQuerySource
_END_STEP = timedelta(milliseconds=3)
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
    """Items created in [start, end), each once; unusable rows come out as SourceProblems."""
    filters = window_filters(source, start, end)
    if isinstance(source, ImisEntitySource):
        label = source.entity
        rows = client.iter_rows(source.entity, filters)
    else:
        label = source.query_name
        rows = client.iter_query(source.query_name, filters)
    seen: set[str] = set()
    for position, raw in enumerate(rows):
        values = row_values(raw)
        key_parts = [_field(values, f) for f in source.key_fields]
        location = f"{label} row {position}"
        if any(p is None or p == "" for p in key_parts):
            yield SourceProblem(source.name, location, "missing key field")
            continue
        key = "|".join(str(p) for p in key_parts)
        location = f"{label} {key}"
        try:
            created = parse_datetime(_field(values, source.watermark_field))
        except ValueError:
            yield SourceProblem(source.name, location, f"unreadable {source.watermark_field}")
            continue
        if created is None:
            yield SourceProblem(source.name, location, f"no {source.watermark_field}")
            continue
        if not start <= created < end or key in seen:
            continue
        seen.add(key)
        yield _item(source, values, key, created, location)


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
        return SourceProblem(source.name, location, "empty text")
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
            chapter=attributes.get("Chapter") or None,
            status=(raw.get("Status") or {}).get("PartyStatusId"),
            join_date=_safe_date(attributes.get("JoinDate")),
            paid_through=_safe_date(attributes.get("PaidThruDate")),
            updated_at=_safe_datetime((raw.get("UpdateInformation") or {}).get("UpdatedOn")),
            first_name=name.get("FirstName") or None,
            last_name=name.get("LastName") or None,
            emails=emails,
        )


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
