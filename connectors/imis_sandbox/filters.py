"""The query-string filter language of API.md 2.3, translated into SQL over an entity table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .schema import Column, Entity

_OPERATORS = {
    **dict.fromkeys(("equal", "eq", "=="), "eq"),
    **dict.fromkeys(("notequal", "ne", "!="), "ne"),
    **dict.fromkeys(("greaterthan", "gt", ">"), "gt"),
    **dict.fromkeys(("greaterthanorequal", "ge", ">="), "ge"),
    **dict.fromkeys(("lessthan", "lt", "<"), "lt"),
    **dict.fromkeys(("lessthanorequal", "le", "<="), "le"),
    "between": "between",
    "in": "in",
    "contains": "contains",
    **dict.fromkeys(("notcontain", "!contain"), "notcontain"),
    "startswith": "startswith",
    "endswith": "endswith",
    **dict.fromkeys(("isempty", "empty"), "isempty"),
    **dict.fromkeys(("notempty", "!empty"), "notempty"),
    **dict.fromkeys(("istrue", "true"), "istrue"),
    **dict.fromkeys(("isfalse", "false"), "isfalse"),
}
_COMPARE = {"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}


class FilterError(ValueError):
    """A filter the server cannot apply: answered with 400."""


def split_operator(raw: str) -> tuple[str, str]:
    """`"between:a|b"` -> ("between", "a|b"); a value with no known operator means Equal."""
    head, sep, rest = raw.partition(":")
    if sep and head.lower() in _OPERATORS:
        return _OPERATORS[head.lower()], rest
    if raw.lower() in _OPERATORS and _OPERATORS[raw.lower()] in ("istrue", "isfalse"):
        return _OPERATORS[raw.lower()], ""  # `?IsCompany=false`
    return "eq", raw


def coerce(column: Column, value: str) -> Any:
    if column.clr == "Int32":
        try:
            return int(value)
        except ValueError:
            raise FilterError(f"'{value}' is not a valid value for {column.name}") from None
    if column.clr == "Boolean":
        return 1 if value.lower() in ("true", "1") else 0
    if column.clr == "Decimal":
        return float(value)
    if column.clr == "DateTime":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise FilterError(f"'{value}' is not a valid date for {column.name}") from None
        # Stored dates are ISO strings, so comparing strings compares dates; keep milliseconds
        # when the filter has them (`...T23:59:59.997`).
        return parsed.isoformat(timespec="milliseconds" if parsed.microsecond else "seconds")
    return value


def where_clause(entity: Entity, filters: list[tuple[str, str]]) -> tuple[str, list[Any]]:
    """Several filters are ANDed, as iMIS does."""
    parts: list[str] = []
    args: list[Any] = []
    for name, raw in filters:
        column = entity.column(name)
        if column is None:
            raise FilterError(f"Property {name} was not found on {entity.name}")
        op, value = split_operator(raw)
        col = f'"{column.name}"'
        if op in _COMPARE:
            parts.append(f"{col} {_COMPARE[op]} ?")
            args.append(coerce(column, value))
        elif op == "between":
            bounds = value.split("|")
            if len(bounds) != 2:
                raise FilterError(f"Parameter {column.name} does not have two values for between")
            parts.append(f"{col} BETWEEN ? AND ?")
            args += [coerce(column, b) for b in bounds]
        elif op == "in":
            values = value.split("|")
            parts.append(f"{col} IN ({', '.join('?' * len(values))})")
            args += [coerce(column, v) for v in values]
        elif op in ("contains", "notcontain", "startswith", "endswith"):
            pattern = {"startswith": "{}%", "endswith": "%{}"}.get(op, "%{}%").format(
                value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            parts.append(f"{col} {'NOT ' if op == 'notcontain' else ''}LIKE ? ESCAPE '\\'")
            args.append(pattern)
        elif op == "isempty":
            parts.append(f"({col} IS NULL OR {col} = '')")
        elif op == "notempty":
            parts.append(f"({col} IS NOT NULL AND {col} != '')")
        else:
            parts.append(f"{col} = {1 if op == 'istrue' else 0}")
    return (" AND ".join(parts) or "1=1"), args


def order_clause(entity: Entity, order_by: str | None) -> str:
    """`OrderBy=[Prop]:Descending`; the key always breaks ties so pages never overlap."""
    terms: list[str] = []
    if order_by:
        name, _, direction = order_by.partition(":")
        column = entity.column(name.strip("[]"))
        if column is None:
            raise FilterError(f"Property {name} was not found on {entity.name}")
        terms.append(f'"{column.name}" {"DESC" if direction.lower().startswith("desc") else "ASC"}')
    terms += [f'"{k}"' for k in entity.key]
    return ", ".join(terms)
