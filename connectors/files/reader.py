"""Read a CSV or JSONL export into `SourceItem`s, one bad row never stopping the others.

Every problem (missing column, unreadable line, bad date, empty text) is yielded as a
`SourceProblem` naming the file and line, so the ingest step can record and report it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from connectors.records import SourceItem, SourceProblem
from connectors.sources import FileSource

_CHANNELS = {"email", "survey", "community", "case"}


def iter_file_items(
    source: FileSource, start: datetime | None = None, end: datetime | None = None
) -> Iterator[SourceItem | SourceProblem]:
    """Items of `source` created in [start, end) (all items when no window is given)."""
    path = Path(source.path)
    if not path.is_file():
        yield SourceProblem(source.name, str(path), "file not found")
        return
    fmt = source.format if source.format != "auto" else _format_of(path)
    rows = _jsonl_rows(path) if fmt == "jsonl" else _csv_rows(path)
    seen: set[str] = set()
    for line, row in rows:
        where = f"{path}:{line}"
        if isinstance(row, str):  # an unreadable line: the reason is in the string
            yield SourceProblem(source.name, where, row)
            continue
        parsed = _item_from_row(source, row, where)
        if isinstance(parsed, SourceProblem):
            yield parsed
            continue
        if (start is not None and parsed.created_at < start) or (
            end is not None and parsed.created_at >= end
        ):
            continue
        if parsed.source_key in seen:
            yield SourceProblem(
                source.name, where, f"duplicate id {parsed.source_key!r}; kept the first"
            )
            continue
        seen.add(parsed.source_key)
        yield parsed


def _format_of(path: Path) -> str:
    return "jsonl" if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} else "csv"


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict | str]]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield line_no, f"not valid JSON ({exc.msg} at column {exc.colno})"
                continue
            yield line_no, row if isinstance(row, dict) else "a JSON line must be an object"


def _csv_rows(path: Path) -> Iterator[tuple[int, dict | str]]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle)
        try:
            for row in reader:
                # reader.line_num is the line where this record ended (records may span lines)
                if None in row:
                    yield reader.line_num, "more fields than the header names"
                    continue
                yield reader.line_num, row
        except csv.Error as exc:
            yield reader.line_num, f"unreadable CSV ({exc})"


def _item_from_row(source: FileSource, row: dict, where: str) -> SourceItem | SourceProblem:
    cols = source.columns
    missing = [c for c in (cols.id, cols.text, cols.created_at) if c not in row]
    if missing:
        return SourceProblem(source.name, where, f"missing column(s): {', '.join(missing)}")
    key = _text(row.get(cols.id))
    if not key:
        return SourceProblem(source.name, where, f"empty id in column {cols.id!r}")
    text = _text(row.get(cols.text))
    if not text:
        return SourceProblem(source.name, where, f"empty text in column {cols.text!r}")
    created = _parse_datetime(_text(row.get(cols.created_at)))
    if created is None:
        return SourceProblem(
            source.name, where, f"unreadable date in column {cols.created_at!r} (use ISO 8601)"
        )
    channel = _text(row.get(cols.channel)) if cols.channel else ""
    channel = channel.lower() or source.channel
    if channel not in _CHANNELS:
        return SourceProblem(
            source.name, where, f"unknown channel {channel!r} (use one of {sorted(_CHANNELS)})"
        )
    return SourceItem(
        source_name=source.name,
        source_key=key,
        channel=channel,
        created_at=created,
        text=text,
        member_id=(_text(row.get(cols.member_id)) or None) if cols.member_id else None,
        question=(_text(row.get(cols.question)) or None) if cols.question else None,
        original_length=len(text),
    )


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _parse_datetime(value: str) -> datetime | None:
    """ISO 8601 date or datetime; an offset is dropped after conversion to naive local time."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    # Exports written with an offset are kept at their wall-clock time: partitions are days
    # in the association's own time zone, which is what the export's author saw.
    return parsed.replace(tzinfo=None)
