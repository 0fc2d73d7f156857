"""iMIS JSON shapes -> plain Python values, and back for writes.

Three row shapes reach the reader: GenericEntityData (business objects, panels, Activity), with
properties in a `Properties.$values` bag and non-strings in `{"$type", "$value"}` wrappers;
typed data contracts (PersonData, PartyNoteData...), plain objects with nested `$type` parts;
and `/api/query` ExpandoObject rows, flat and keyed by the IQA's display aliases.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

GENERIC_ENTITY = "Asi.Soa.Core.DataContracts.GenericEntityData, Asi.Contracts"
PROPERTY = "Asi.Soa.Core.DataContracts.GenericPropertyData, Asi.Contracts"
PROPERTIES = "Asi.Soa.Core.DataContracts.GenericPropertyDataCollection, Asi.Contracts"
IDENTITY = "Asi.Soa.Core.DataContracts.IdentityData, Asi.Contracts"
STRINGS = "System.Collections.ObjectModel.Collection`1[[System.String, mscorlib]], mscorlib"

_NUMBERS = {"System.Int32": int, "System.Int64": int, "System.Int16": int, "System.Byte": int,
            "System.SByte": int, "System.Double": float, "System.Single": float}  # fmt: skip


def unwrap(value: Any) -> Any:
    """`{"$type": "System.Int32", "$value": 2}` -> 2; plain values pass through."""
    if not isinstance(value, dict) or "$value" not in value:
        return value
    clr, raw = str(value.get("$type", "")), value["$value"]
    if raw is None:
        return None
    if clr in _NUMBERS:
        return _NUMBERS[clr](raw)
    if clr == "System.Decimal":
        return Decimal(str(raw))
    if clr == "System.Boolean":
        return raw if isinstance(raw, bool) else str(raw).lower() == "true"
    return raw  # Guid, DateTime, String, Byte[] (base64) stay as strings


def is_generic_entity(obj: Any) -> bool:
    return isinstance(obj, dict) and isinstance(obj.get("Properties"), dict)


def generic_properties(obj: dict[str, Any]) -> dict[str, Any]:
    """The property bag as a dict; a property without `Value` is NULL (API.md 3.1)."""
    return {
        p["Name"]: unwrap(p.get("Value"))
        for p in obj["Properties"].get("$values", [])
        if "Name" in p
    }


def identity_elements(obj: dict[str, Any]) -> list[str]:
    identity = obj.get("Identity") or {}
    return list((identity.get("IdentityElements") or {}).get("$values") or [])


def flatten_contract(obj: dict[str, Any]) -> dict[str, Any]:
    """A typed contract as a flat dict: top-level scalars, then leaves of nested objects.

    Nested leaves are reachable by their own name (`UpdateInformation.CreatedOn` -> `CreatedOn`)
    unless a top-level field already has that name, and by their dotted path.
    """
    flat: dict[str, Any] = {}
    nested: list[tuple[str, Any]] = []
    for key, value in obj.items():
        if key.startswith("$"):
            continue
        if isinstance(value, dict) and "$value" not in value:
            nested.append((key, value))
        else:
            flat[key] = unwrap(value)
    for prefix, value in nested:
        for leaf, leaf_value in flatten_contract(value).items():
            flat.setdefault(f"{prefix}.{leaf}", leaf_value)
            if "." not in leaf:
                flat.setdefault(leaf, leaf_value)
    return flat


def row_values(obj: dict[str, Any]) -> dict[str, Any]:
    """Any row the API returns -> {property name: plain value}."""
    if is_generic_entity(obj):
        return generic_properties(obj)
    if "Expando" in str(obj.get("$type", "")):
        return {k: v for k, v in obj.items() if k != "$type"}
    return flatten_contract(obj)


def additional_attributes(obj: dict[str, Any]) -> dict[str, Any]:
    """Party `AdditionalAttributes` (CustomerTypeCode, JoinDate, Chapter...) as a dict."""
    bag = obj.get("AdditionalAttributes") or {}
    return {p["Name"]: unwrap(p.get("Value")) for p in bag.get("$values", []) if "Name" in p}


def parse_datetime(value: Any) -> datetime | None:
    """iMIS dates are naive local strings ("2026-02-11T16:40:02.1"); a zone, if any, is dropped
    because every other date from the same server is local time."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1]
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=None)


def parse_date(value: Any) -> date | None:
    parsed = parse_datetime(value)
    return parsed.date() if parsed else None


def format_datetime(value: datetime) -> str:
    """The form iMIS accepts in filters and property bags: no zone, seconds precision."""
    return value.replace(tzinfo=None, microsecond=0).isoformat()


def wrap(value: Any) -> Any:
    """Python -> iMIS property value. Booleans need the wrapper or iMIS rejects the write."""
    if isinstance(value, bool):
        return {"$type": "System.Boolean", "$value": value}
    if isinstance(value, int):
        return {"$type": "System.Int32", "$value": value}
    if isinstance(value, Decimal):
        return {"$type": "System.Decimal", "$value": float(value)}
    if isinstance(value, float):
        return {"$type": "System.Double", "$value": value}
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    return value


def _identity(entity_type: str, elements: list[str]) -> dict[str, Any]:
    return {"$type": IDENTITY, "EntityTypeName": entity_type,
            "IdentityElements": {"$type": STRINGS, "$values": elements}}  # fmt: skip


def generic_entity(
    entity_type: str,
    properties: dict[str, Any],
    *,
    parent_id: str | None = None,
    identity: list[str] | None = None,
) -> dict[str, Any]:
    """A GenericEntityData body for POST/PUT; None values become properties without `Value`."""
    body: dict[str, Any] = {
        "$type": GENERIC_ENTITY,
        "EntityTypeName": entity_type,
        "PrimaryParentEntityTypeName": "Party" if parent_id else "Standalone",
    }
    if identity:
        body["Identity"] = _identity(entity_type, identity)
    if parent_id:
        body["PrimaryParentIdentity"] = _identity("Party", [parent_id])
    values = []
    for name, value in properties.items():
        prop: dict[str, Any] = {"$type": PROPERTY, "Name": name}
        if value is not None:
            prop["Value"] = wrap(value)
        values.append(prop)
    body["Properties"] = {"$type": PROPERTIES, "$values": values}
    return body
