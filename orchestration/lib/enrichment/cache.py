"""The label cache: a small SQLite store outside the warehouse (DESIGN.md rules 3 and 5).

Keyed by (input hash, model id, prompt version, taxonomy version). The input hash is the item's
`text_hash`, or a hash of text hash + survey question when there is a question
(`EnrichmentInput.cache_hash`). The cache stores the validated labels only: no text, no item id,
so identical texts share one entry and an erased member leaves nothing here that quotes them
beyond the redacted labels' evidence. Only successful results are cached; failures are retried
on the next run.

`enrich_with_cache` is the model step: cached items are served from here, every distinct
uncached input is sent to the enricher once, in batches, and results are written back batch by
batch so a killed run keeps what it paid for.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from pydantic import ValidationError

from orchestration.lib.enrichment.base import Enricher
from orchestration.lib.enrichment.schema import (
    CachedLabel,
    EnrichmentInput,
    LabelResult,
    LabelValidationError,
)
from orchestration.lib.taxonomy import Taxonomy

_SCHEMA = """
create table if not exists labels (
    input_hash        text not null,
    model_id          text not null,
    prompt_version    text not null,
    taxonomy_version  text not null,
    result_json       text not null,
    created_at        text not null,
    primary key (input_hash, model_id, prompt_version, taxonomy_version)
) without rowid;
"""
_CHUNK = 200  # keys per lookup query (4 parameters each, under SQLite's variable limit)


class CacheKey(NamedTuple):
    input_hash: str
    model_id: str
    prompt_version: str
    taxonomy_version: str


def cache_key(item: EnrichmentInput, enricher: Enricher) -> CacheKey:
    return CacheKey(
        item.cache_hash, enricher.model_id, enricher.prompt_version, enricher.taxonomy_version
    )


class LabelCache:
    """SQLite (WAL, busy timeout) store of `CachedLabel`s. Short-lived connections per call."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 30_000) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.hits = 0
        self.misses = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("pragma journal_mode=wal")
            con.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000)
        try:
            con.execute(f"pragma busy_timeout={int(self.busy_timeout_ms)}")
            con.execute("pragma synchronous=normal")
            with con:  # one transaction, committed on success
                yield con
        finally:
            con.close()

    def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, CachedLabel]:
        """The cached labels for those of `keys` that are cached. Counts hits and misses.

        An entry that no longer parses (an older schema) counts as a miss.
        """
        wanted = list(dict.fromkeys(CacheKey(*k) for k in keys))
        found: dict[CacheKey, CachedLabel] = {}
        with self._connect() as con:
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                where = " or ".join(
                    [
                        "(input_hash = ? and model_id = ? and prompt_version = ? and taxonomy_version = ?)"
                    ]
                    * len(chunk)
                )
                params = [v for key in chunk for v in key]
                for *key, payload in con.execute(
                    "select input_hash, model_id, prompt_version, taxonomy_version, result_json "
                    f"from labels where {where}",
                    params,
                ):
                    try:
                        found[CacheKey(*key)] = CachedLabel.model_validate_json(payload)
                    except ValidationError:
                        continue
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    def put_many(self, entries: Iterable[tuple[CacheKey, LabelResult | CachedLabel]]) -> int:
        """Store successful results under their keys (failed ones are skipped). Returns count."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        rows = []
        for key, result in entries:
            if result.status != "ok":
                continue
            cached = result.to_cached() if isinstance(result, LabelResult) else result
            rows.append((*CacheKey(*key), cached.model_dump_json(), now))
        if rows:
            with self._connect() as con:
                con.executemany(
                    "insert or replace into labels (input_hash, model_id, prompt_version, "
                    "taxonomy_version, result_json, created_at) values (?, ?, ?, ?, ?, ?)",
                    rows,
                )
        return len(rows)

    def put_results(
        self, items: Sequence[EnrichmentInput], results: Sequence[LabelResult], enricher: Enricher
    ) -> int:
        return self.put_many(
            (cache_key(item, enricher), result) for item, result in zip(items, results, strict=True)
        )

    def __len__(self) -> int:
        with self._connect() as con:
            return con.execute("select count(*) from labels").fetchone()[0]

    def delete_inputs(self, input_hashes: Iterable[str]) -> int:
        """Forget every entry for these input hashes (member erasure, DESIGN.md rule 1)."""
        hashes = list(input_hashes)
        deleted = 0
        with self._connect() as con:
            for i in range(0, len(hashes), 500):
                chunk = hashes[i : i + 500]
                cur = con.execute(
                    f"delete from labels where input_hash in ({','.join('?' * len(chunk))})", chunk
                )
                deleted += cur.rowcount
        return deleted


def enrich_with_cache(
    enricher: Enricher,
    cache: LabelCache,
    items: Sequence[EnrichmentInput],
    batch_size: int = 32,
    *,
    taxonomy: Taxonomy | None = None,
) -> tuple[list[LabelResult], dict[str, int]]:
    """Label `items`, from the cache where possible. Returns (results in input order, stats).

    Every distinct uncached input (text + question) is sent once. A batch whose call raises,
    or that returns the wrong number or order of results, becomes failed results for its items.
    Successful results are re-checked against the item text (and the taxonomy, when given):
    a result that fails the check is recorded as failed, never stored. Failures are not cached.

    stats: items, cache_hits (items served from the cache), model_calls (enrich() calls),
    items_sent (distinct inputs sent), duplicates (items that shared an input sent or
    cached), failed (items whose result is failed).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    keys = [cache_key(item, enricher) for item in items]
    cached = cache.get_many(keys)

    pending: dict[CacheKey, EnrichmentInput] = {}
    for key, item in zip(keys, items, strict=True):
        if key not in cached and key not in pending:
            pending[key] = item

    fresh: dict[CacheKey, LabelResult] = {}
    model_calls = 0
    todo = list(pending.items())
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        batch_items = [item for _, item in batch]
        model_calls += 1
        results = _call(enricher, batch_items)
        checked = [
            _check(item, result, taxonomy)
            for item, result in zip(batch_items, results, strict=True)
        ]
        for (key, _), result in zip(batch, checked, strict=True):
            fresh[key] = result
        cache.put_many((key, result) for (key, _), result in zip(batch, checked, strict=True))

    out: list[LabelResult] = []
    hits = 0
    for key, item in zip(keys, items, strict=True):
        if key in cached:
            hits += 1
            out.append(cached[key].for_item(item.item_id, item.text_hash))
            continue
        result = fresh[key]
        if result.item_id != item.item_id:  # a duplicate of an input sent for another item
            result = result.model_copy(
                update={"item_id": item.item_id, "text_hash": item.text_hash}
            )
        out.append(result)
    stats = {
        "items": len(items),
        "cache_hits": hits,
        "model_calls": model_calls,
        "items_sent": len(todo),
        "duplicates": len(items) - hits - len(todo),
        "failed": sum(r.status == "failed" for r in out),
    }
    return out, stats


def _call(enricher: Enricher, items: list[EnrichmentInput]) -> list[LabelResult]:
    started = time.perf_counter()
    try:
        results = list(enricher.enrich(items))
    except Exception as exc:  # the whole batch failed: record each item, drop none
        reason = f"enricher raised {type(exc).__name__}: {str(exc)[:300]}"
        return [_failed(enricher, item, reason, started) for item in items]
    if len(results) != len(items):
        reason = f"enricher returned {len(results)} results for {len(items)} items"
        return [_failed(enricher, item, reason, started) for item in items]
    return [
        result
        if result.item_id == item.item_id
        else _failed(enricher, item, "enricher returned results out of order", started)
        for item, result in zip(items, results, strict=True)
    ]


def _check(item: EnrichmentInput, result: LabelResult, taxonomy: Taxonomy | None) -> LabelResult:
    if result.status != "ok" or result.labels is None:
        return result
    try:
        result.labels.validate_against(item.text, taxonomy)
    except LabelValidationError as exc:
        return LabelResult.failed(
            item,
            f"labels failed validation: {exc}",
            model_id=result.model_id,
            prompt_version=result.prompt_version,
            taxonomy_version=result.taxonomy_version,
            attempts=result.attempts,
            latency_ms=result.latency_ms,
        )
    if result.text_hash != item.text_hash:
        return result.model_copy(update={"text_hash": item.text_hash})
    return result


def _failed(enricher: Enricher, item: EnrichmentInput, reason: str, started: float) -> LabelResult:
    return LabelResult.failed(
        item,
        reason,
        model_id=enricher.model_id,
        prompt_version=enricher.prompt_version,
        taxonomy_version=enricher.taxonomy_version,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
