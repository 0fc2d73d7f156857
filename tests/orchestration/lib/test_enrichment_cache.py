from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from orchestration.lib.config import DEFAULT_TAXONOMY
from orchestration.lib.enrichment.base import Enricher
from orchestration.lib.enrichment.builtin import BuiltinEnricher
from orchestration.lib.enrichment.cache import CacheKey, LabelCache, cache_key, enrich_with_cache
from orchestration.lib.enrichment.schema import EnrichmentInput, ItemLabels, LabelResult
from orchestration.lib.taxonomy import Taxonomy


class FakeEnricher:
    """Labels every item neutral, quoting its first word; fails items whose text has FAIL."""

    def __init__(self, *, prompt_version: str = "p1", bad_evidence: bool = False) -> None:
        self.model_id = "fake:1"
        self.prompt_version = prompt_version
        self.taxonomy_version = "tax-1"
        self.calls: list[list[str]] = []
        self.bad_evidence = bad_evidence

    def enrich(self, items: Sequence[EnrichmentInput]) -> list[LabelResult]:
        self.calls.append([i.text for i in items])
        out = []
        for item in items:
            common = {
                "model_id": self.model_id,
                "prompt_version": self.prompt_version,
                "taxonomy_version": self.taxonomy_version,
            }
            if "FAIL" in item.text:
                out.append(
                    LabelResult.failed(item, "model reply was not valid JSON", attempts=2, **common)
                )
                continue
            evidence = "not in the text" if self.bad_evidence else item.text.split()[0]
            labels = ItemLabels(
                sentiment={"label": "neutral", "score": 0.0, "confidence": 0.5},
                topics=[{"key": "communications", "sentiment": "neutral", "evidence": evidence}],
                urgency={"level": "low"},
                language="en",
                summary="s",
            )
            out.append(
                LabelResult(item_id=item.item_id, text_hash=item.text_hash, status="ok", labels=labels,
                            tokens_in=10, tokens_out=5, cost_usd=0.001, **common)
            )  # fmt: skip
        return out

    @property
    def items_seen(self) -> int:
        return sum(len(c) for c in self.calls)


def _items(texts: Sequence[str]) -> list[EnrichmentInput]:
    return [EnrichmentInput.from_text(f"email:{i}", t, "email") for i, t in enumerate(texts)]


@pytest.fixture
def cache(tmp_path: Path) -> LabelCache:
    return LabelCache(tmp_path / "cache" / "label_cache.sqlite")


def test_fake_is_an_enricher() -> None:
    assert isinstance(FakeEnricher(), Enricher)


def test_second_run_calls_the_model_zero_times(cache: LabelCache) -> None:
    items = _items([f"message number {i}" for i in range(25)])
    fake = FakeEnricher()
    first, stats = enrich_with_cache(fake, cache, items, batch_size=10)
    assert stats == {
        "items": 25,
        "cache_hits": 0,
        "model_calls": 3,
        "items_sent": 25,
        "duplicates": 0,
        "failed": 0,
    }
    assert [r.item_id for r in first] == [i.item_id for i in items]
    assert cache.misses == 25 and cache.hits == 0 and len(cache) == 25

    fake2 = FakeEnricher()
    second, stats2 = enrich_with_cache(fake2, cache, items, batch_size=10)
    assert fake2.calls == []
    assert stats2["model_calls"] == 0 and stats2["cache_hits"] == 25 and stats2["items_sent"] == 0
    assert [r.model_dump() for r in second] == [r.model_dump() for r in first]
    assert cache.hits == 25


def test_identical_texts_are_sent_once(cache: LabelCache) -> None:
    items = _items(["same words here", "other words", "same words here", "same words here"])
    fake = FakeEnricher()
    results, stats = enrich_with_cache(fake, cache, items, batch_size=2)
    assert fake.items_seen == 2 and stats["items_sent"] == 2 and stats["duplicates"] == 2
    assert [r.item_id for r in results] == ["email:0", "email:1", "email:2", "email:3"]
    assert results[0].labels == results[2].labels == results[3].labels
    # a new item with a text already labelled is served from the cache under its own id
    more = [EnrichmentInput.from_text("case:9", "same words here", "case")]
    [again], stats = enrich_with_cache(fake, cache, more)
    assert stats["cache_hits"] == 1 and again.item_id == "case:9" and fake.items_seen == 2


def test_same_text_different_question_is_a_different_input(cache: LabelCache) -> None:
    items = [
        EnrichmentInput.from_text(
            "s:1", "Too expensive", "survey", question="What would you change?"
        ),
        EnrichmentInput.from_text(
            "s:2", "Too expensive", "survey", question="Why did you not attend?"
        ),
        EnrichmentInput.from_text(
            "s:3", "Too expensive", "survey", question="What would you change?"
        ),
    ]
    fake = FakeEnricher()
    _, stats = enrich_with_cache(fake, cache, items)
    assert stats["items_sent"] == 2


def test_failed_results_are_recorded_not_dropped_and_not_cached(cache: LabelCache) -> None:
    items = _items(["fine text", "FAIL this one", "also fine", "FAIL again"])
    fake = FakeEnricher()
    results, stats = enrich_with_cache(fake, cache, items)
    assert [r.status for r in results] == ["ok", "failed", "ok", "failed"]
    assert (
        results[1].failure_reason == "model reply was not valid JSON" and results[1].attempts == 2
    )
    assert stats["failed"] == 2 and len(cache) == 2
    # the next run retries only the failures
    fake2 = FakeEnricher()
    _, stats2 = enrich_with_cache(fake2, cache, items)
    assert fake2.calls == [["FAIL this one", "FAIL again"]]
    assert stats2["cache_hits"] == 2 and stats2["failed"] == 2


class _Raising(FakeEnricher):
    def enrich(self, items: Sequence[EnrichmentInput]) -> list[LabelResult]:
        if any("BOOM" in i.text for i in items):
            raise TimeoutError("upstream timed out")
        return super().enrich(items)


class _Dropping(FakeEnricher):
    def enrich(self, items: Sequence[EnrichmentInput]) -> list[LabelResult]:
        return super().enrich(items)[1:]


def test_a_raising_batch_becomes_failed_results(cache: LabelCache) -> None:
    items = _items(["a b", "BOOM c", "d e", "f g"])
    results, stats = enrich_with_cache(_Raising(), cache, items, batch_size=2)
    assert [r.status for r in results] == ["failed", "failed", "ok", "ok"]
    assert "TimeoutError: upstream timed out" in (results[0].failure_reason or "")
    assert stats["model_calls"] == 2 and stats["failed"] == 2


def test_an_enricher_that_drops_items_cannot_lose_them(cache: LabelCache) -> None:
    items = _items(["a b", "c d", "e f"])
    results, stats = enrich_with_cache(_Dropping(), cache, items)
    assert len(results) == 3 and stats["failed"] == 3
    assert all("2 results for 3 items" in (r.failure_reason or "") for r in results)
    assert len(cache) == 0


def test_labels_that_do_not_fit_the_text_are_failed_not_stored(cache: LabelCache) -> None:
    items = _items(["hello world"])
    [result], _ = enrich_with_cache(FakeEnricher(bad_evidence=True), cache, items)
    assert result.status == "failed" and "not an exact substring" in (result.failure_reason or "")
    assert len(cache) == 0
    taxonomy = Taxonomy.load(DEFAULT_TAXONOMY)
    [ok], _ = enrich_with_cache(FakeEnricher(), cache, items, taxonomy=taxonomy)
    assert ok.status == "ok"


def test_key_includes_model_prompt_and_taxonomy_versions(cache: LabelCache) -> None:
    items = _items(["one two"])
    enrich_with_cache(FakeEnricher(prompt_version="p1"), cache, items)
    newer = FakeEnricher(prompt_version="p2")
    _, stats = enrich_with_cache(newer, cache, items)
    assert stats["model_calls"] == 1 and stats["cache_hits"] == 0
    key = cache_key(items[0], newer)
    assert key == CacheKey(items[0].text_hash, "fake:1", "p2", "tax-1")
    assert set(cache.get_many([key])) == {key}


def test_cache_stores_no_text_and_no_item_id(cache: LabelCache) -> None:
    text = "Confidential words about <PERSON_1> and the renewal that went wrong"
    items = [EnrichmentInput.from_text("email:secret-id-77", text, "email")]
    enrich_with_cache(FakeEnricher(), cache, items)
    raw = b"".join(p.read_bytes() for p in cache.path.parent.iterdir())
    assert text.encode() not in raw
    assert b"secret-id-77" not in raw
    with sqlite3.connect(cache.path) as con:
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert cache.delete_inputs([items[0].text_hash]) == 1 and len(cache) == 0


def test_unreadable_entry_is_a_miss(cache: LabelCache) -> None:
    items = _items(["one two"])
    fake = FakeEnricher()
    enrich_with_cache(fake, cache, items)
    with sqlite3.connect(cache.path) as con:
        con.execute("update labels set result_json = '{\"old\": true}'")
    _, stats = enrich_with_cache(fake, cache, items)
    assert stats["cache_hits"] == 0 and stats["items_sent"] == 1


def test_many_keys_are_looked_up_in_chunks(cache: LabelCache) -> None:
    items = _items([f"text {i}" for i in range(650)])
    enrich_with_cache(FakeEnricher(), cache, items, batch_size=100)
    _, stats = enrich_with_cache(FakeEnricher(), cache, items)
    assert stats["cache_hits"] == 650


def test_builtin_round_trip_through_the_cache(cache: LabelCache) -> None:
    taxonomy = Taxonomy.load(DEFAULT_TAXONOMY)
    enricher = BuiltinEnricher(taxonomy)
    items = _items(["I was charged twice for my renewal!", "Great keynote.", "", "Great keynote."])
    first, stats = enrich_with_cache(enricher, cache, items, taxonomy=taxonomy)
    assert stats["items_sent"] == 3 and stats["failed"] == 1
    second, stats2 = enrich_with_cache(BuiltinEnricher(taxonomy), cache, items, taxonomy=taxonomy)
    assert stats2["cache_hits"] == 3 and stats2["items_sent"] == 1  # only the empty text again
    assert [r.labels for r in first] == [r.labels for r in second]


def test_batch_size_must_be_positive(cache: LabelCache) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        enrich_with_cache(FakeEnricher(), cache, _items(["x"]), batch_size=0)
