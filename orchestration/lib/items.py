"""Turn source items into warehouse rows, redacting in flight; nothing raw survives this step.

Items stream through in bounded chunks: each chunk is redacted as a batch and appended to a
Parquet spool file, so memory stays flat however long the window is, and the warehouse is
held only for the final replace.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.records import SourceItem, SourceProblem
from orchestration.lib.redaction import Redactor, RedactorPool

CHUNK_SIZE = 1000

FEEDBACK_ITEM_SCHEMA = pa.schema(
    [
        ("item_id", pa.string()),
        ("source_name", pa.string()),
        ("source_key", pa.string()),
        ("channel", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("created_date", pa.date32()),
        ("updated_at", pa.timestamp("us")),
        ("member_id", pa.string()),
        ("question", pa.string()),
        ("redacted_text", pa.string()),
        ("text_hash", pa.string()),
        ("text_length", pa.int32()),
        ("original_length", pa.int32()),
        ("pii_entity_counts", pa.string()),
        ("ingested_at", pa.timestamp("us")),
    ]
)


@dataclass
class SpoolStats:
    items: int = 0
    problems: list[SourceProblem] = field(default_factory=list)
    entity_counts: Counter = field(default_factory=Counter)
    items_with_pii: int = 0
    newest_created_at: datetime | None = None


def text_hash(redacted_text: str) -> str:
    return hashlib.sha256(redacted_text.encode("utf-8")).hexdigest()


def spool_redacted_items(
    records: Iterable[SourceItem | SourceProblem],
    redactor: Redactor | RedactorPool,
    spool: Path,
    *,
    chunk_size: int = CHUNK_SIZE,
) -> SpoolStats:
    """Redact `records` chunk by chunk into a Parquet file of `raw.feedback_items` rows."""
    stats = SpoolStats()
    ingested_at = datetime.now(UTC).replace(tzinfo=None)
    seen: set[str] = set()
    with pq.ParquetWriter(spool, FEEDBACK_ITEM_SCHEMA) as writer:
        for chunk in _chunks(records, chunk_size):
            items: list[SourceItem] = []
            for record in chunk:
                if isinstance(record, SourceProblem):
                    stats.problems.append(record)
                elif record.source_key in seen:
                    continue  # a late re-read of the same record: the first copy wins
                else:
                    seen.add(record.source_key)
                    items.append(record)
            if not items:
                continue
            texts = redactor.redact_batch([i.text for i in items])
            questions = redactor.redact_batch([i.question or "" for i in items])
            rows = []
            for item, red, question in zip(items, texts, questions, strict=True):
                stats.entity_counts.update(red.entity_counts)
                stats.items_with_pii += bool(red.entity_counts)
                if stats.newest_created_at is None or item.created_at > stats.newest_created_at:
                    stats.newest_created_at = item.created_at
                rows.append(
                    {
                        "item_id": f"{item.source_name}:{item.source_key}",
                        "source_name": item.source_name,
                        "source_key": item.source_key,
                        "channel": item.channel,
                        "created_at": item.created_at,
                        "created_date": item.created_at.date(),
                        "updated_at": item.updated_at,
                        "member_id": item.member_id,
                        "question": question.text if item.question else None,
                        "redacted_text": red.text,
                        "text_hash": text_hash(red.text),
                        "text_length": len(red.text),
                        "original_length": item.original_length,
                        "pii_entity_counts": json.dumps(red.entity_counts, sort_keys=True),
                        "ingested_at": ingested_at,
                    }
                )
            writer.write_table(pa.Table.from_pylist(rows, schema=FEEDBACK_ITEM_SCHEMA))
            stats.items += len(rows)
    return stats


def _chunks(records: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
