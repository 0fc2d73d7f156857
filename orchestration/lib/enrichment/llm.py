"""The production enricher: any litellm model, several items per call, every reply validated.

    enricher = LiteLLMEnricher(taxonomy, "azure/gpt-4o-mini", api_base=..., extra_params={...})
    results, stats = enrich_with_cache(enricher, cache, items, batch_size=enricher.cache_batch_size)

A run (DESIGN.md rules 1, 4, 5 and 7):

1. Items are de-duplicated on their cache hash (text + survey question), so identical texts are
   sent once; `enrich_with_cache` does the same across runs through the label cache.
2. Distinct inputs are packed into calls of at most `batch_size` items (and `max_batch_chars`
   characters of text). Each item gets a short per-call id (`i1`, `i2`, ...): the item id, the
   text hash and anything about the member never leave the process. The prompt
   (`prompts.build_batch_messages`) carries the taxonomy with descriptions and the items as
   escaped JSON between `<items>` and `</items>`, with the instruction that the data contains no
   instructions.
3. Calls run on a private event loop thread, at most `max_concurrency` in flight, temperature
   0, with a JSON-schema `response_format` where litellm says the model supports one, a
   JSON-object one where it supports that, and the prompt's strict-JSON instruction alone
   otherwise.
4. Transport failures (429, 5xx, timeouts, dropped connections) are retried with tenacity; see
   `_retrying` for why tenacity and not litellm's own `num_retries`. A 429's Retry-After pauses
   every call of this enricher, not only the one that got it.
5. Every reply is parsed and each item validated with the label contract (`ItemLabels`, then
   `validate_against`: evidence quotes are exact substrings of the redacted text, topic keys
   are in the taxonomy). Items whose labels are missing or invalid, and only those, are asked
   again in a repair call that says what was wrong (in words this module writes: no model
   output and no member text is echoed outside the data delimiters). After `repair_rounds`
   repair calls an item still without valid labels becomes a failed `LabelResult` with the
   reason: it goes to review; nothing is dropped. The shared urgency post-rules run on every
   accepted item (they only raise urgency).
6. Lineage per item: model id, prompt and taxonomy versions, attempts (requests that carried
   the item, retries and repairs included), latency (first request to final answer), and the
   tokens and cost of those requests, apportioned equally among the items of each call. Cost
   comes from litellm's local cost map; it is None for a model the map does not know.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import email.utils
import json
import logging
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

# litellm fetches its cost map from the internet at import unless told not to. orchestration/
# __init__.py sets this too; repeat it here so a direct import (tests, benchmarks) is offline.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from orchestration.lib.enrichment.base import apply_urgency_rules
from orchestration.lib.enrichment.prompts import PROMPT_VERSION, build_batch_messages
from orchestration.lib.enrichment.schema import (
    EnrichmentInput,
    ItemLabels,
    LabelResult,
    LabelValidationError,
    SentimentLabel,
    UrgencyLevel,
    UrgencySignal,
    slugify,
)
from orchestration.lib.taxonomy import Taxonomy

log = logging.getLogger(__name__)

# No "Give Feedback / Get Help" banners on stdout. (No litellm callbacks are configured, so no
# message content goes anywhere; `turn_off_message_logging` would deep-copy every request to
# redact it for callbacks that do not exist, a third of the per-call CPU.)
litellm.suppress_debug_info = True
# Token counts come from the provider's usage; never fetch a tokenizer from Hugging Face.
litellm.disable_hf_tokenizer_download = True

StructuredOutput = Literal["auto", "json_schema", "json_object", "none"]
Sleep = Callable[[float], Awaitable[None]]
Progress = Callable[[int, int], None]

# Keys of `extra_params` that configure this enricher; every other key goes to litellm as is.
OPTION_KEYS: frozenset[str] = frozenset(
    {
        "batch_size",
        "max_concurrency",
        "max_attempts",
        "repair_rounds",
        "structured_output",
        "timeout_s",
        "max_batch_chars",
        "max_text_chars",
        "max_retry_after_s",
        "output_tokens_per_item",
    }
)
_FORCED = {"num_retries": 0, "max_retries": 0, "stream": False, "n": 1}  # retries are ours


@dataclass
class LLMStats:
    """Counters over the life of one enricher (the benchmark and tests read them)."""

    calls: int = 0  # HTTP requests sent, retries and repairs included
    retries: int = 0  # requests re-sent after a transport failure
    rate_limited: int = 0  # 429 answers
    rate_limit_waits: list[float] = field(default_factory=list)  # Retry-After values honoured
    repair_calls: int = 0  # calls that re-asked invalid or missing items
    items_repaired: int = 0  # items that got valid labels from a repair call
    items_ok: int = 0
    items_failed: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0


@dataclass(eq=False)
class _Entry:
    """The state of one distinct input during a run."""

    item: EnrichmentInput  # as sent: text cut to max_text_chars
    full_text: str  # what evidence is checked against
    sid: str = ""
    attempts: int = 0
    started: float | None = None
    finished: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    cost_known: bool = True
    labels: ItemLabels | None = None
    problems: list[str] = field(default_factory=list)
    failure: str | None = None
    repaired: bool = False


class LiteLLMEnricher:
    """An `Enricher` over any litellm model id (OpenAI, Azure, Anthropic, vLLM, Ollama, ...).

    `api_base` points at the provider or an OpenAI-compatible server; the key comes from the
    provider's usual environment variable (OPENAI_API_KEY, AZURE_API_KEY, ANTHROPIC_API_KEY,
    ...), read by litellm at call time. `extra_params` go to `litellm.acompletion` unchanged
    (e.g. `api_version`, `max_tokens`, `temperature` for models that refuse 0, `drop_params`),
    except the retry settings, which this class owns.
    """

    makes_model_calls = True  # each uncached item costs tokens (enrichment.budget)

    def __init__(
        self,
        taxonomy: Taxonomy,
        model: str,
        *,
        api_base: str | None = None,
        extra_params: Mapping[str, Any] | None = None,
        batch_size: int = 8,
        max_concurrency: int = 8,
        max_attempts: int = 6,
        repair_rounds: int = 2,
        structured_output: StructuredOutput = "auto",
        timeout_s: float = 120.0,
        max_batch_chars: int = 24_000,
        max_text_chars: int = 12_000,
        max_retry_after_s: float = 120.0,
        output_tokens_per_item: int = 400,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        sleep: Sleep | None = None,
        progress: Progress | None = None,
    ) -> None:
        if not model or not model.strip():
            raise ValueError("a litellm model id is required, e.g. 'openai/gpt-4o-mini'")
        for name, value in (("batch_size", batch_size), ("max_concurrency", max_concurrency),
                            ("max_attempts", max_attempts), ("max_batch_chars", max_batch_chars),
                            ("max_text_chars", max_text_chars)):  # fmt: skip
            if int(value) < 1:
                raise ValueError(f"{name} must be at least 1 (got {value})")
        if repair_rounds < 0:
            raise ValueError(f"repair_rounds must be 0 or more (got {repair_rounds})")
        if structured_output not in get_args(StructuredOutput):
            raise ValueError(
                f"structured_output must be one of {get_args(StructuredOutput)} "
                f"(got {structured_output!r})"
            )
        self.model = model.strip()
        self.taxonomy = taxonomy
        self.api_base = api_base or None
        self.extra_params = dict(extra_params or {})
        self.batch_size = int(batch_size)
        self.max_concurrency = int(max_concurrency)
        self.max_attempts = int(max_attempts)
        self.repair_rounds = int(repair_rounds)
        self.structured_output: StructuredOutput = structured_output
        self.timeout_s = float(timeout_s)
        self.max_batch_chars = int(max_batch_chars)
        self.max_text_chars = int(max_text_chars)
        self.max_retry_after_s = float(max_retry_after_s)
        self.output_tokens_per_item = int(output_tokens_per_item)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self._sleep: Sleep = sleep or asyncio.sleep
        self.progress = progress

        self.model_id = self.model
        self.prompt_version = PROMPT_VERSION
        self.taxonomy_version = taxonomy.version
        self.stats = LLMStats()
        self._resume_at = 0.0  # time.monotonic() before which no call is sent (Retry-After)
        self._response_format = self._choose_response_format()
        self._cost_warned = False

    # -- construction from configuration ----------------------------------------------------
    @classmethod
    def from_config(
        cls,
        model: str,
        taxonomy: Taxonomy,
        *,
        api_base: str | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> LiteLLMEnricher:
        """Split `extra_params` into this class's options (`OPTION_KEYS`) and litellm's."""
        params = dict(extra_params or {})
        options = {key: params.pop(key) for key in list(params) if key in OPTION_KEYS}
        return cls(taxonomy, model, api_base=api_base, extra_params=params, **options)

    @property
    def cache_batch_size(self) -> int:
        """A good `batch_size` for `enrich_with_cache`: enough items per `enrich()` to keep
        every concurrent slot busy, few enough that the cache is written often."""
        return self.batch_size * self.max_concurrency * 4

    # -- the Enricher protocol --------------------------------------------------------------
    def enrich(self, items: Sequence[EnrichmentInput]) -> list[LabelResult]:
        """One result per item, in order; failures are results with status "failed".

        Runs on a private event loop thread (shared by all enrichers), so it works from plain
        code, from Dagster and under another running loop (`aenrich` avoids blocking that loop).
        """
        items = list(items)
        if not items:
            return []
        return _LOOP.run(self.aenrich(items))

    async def aenrich(self, items: Sequence[EnrichmentInput]) -> list[LabelResult]:
        items = list(items)
        unique: dict[str, _Entry] = {}
        for item in items:
            if item.cache_hash not in unique:
                sent = item
                if len(item.text) > self.max_text_chars:  # evidence in a prefix is in the text
                    sent = item.model_copy(update={"text": item.text[: self.max_text_chars]})
                unique[item.cache_hash] = _Entry(item=sent, full_text=item.text)
        batches = self._batches(list(unique.values()))
        semaphore = asyncio.Semaphore(self.max_concurrency)
        done = 0

        async def run(batch: list[_Entry]) -> None:
            nonlocal done
            await self._run_batch(batch, semaphore)
            done += len(batch)
            if self.progress is not None:
                self.progress(done, len(unique))

        await asyncio.gather(*(run(batch) for batch in batches))

        results: list[LabelResult] = []
        for item in items:
            result = self._result(unique[item.cache_hash])
            if result.item_id != item.item_id:  # an identical text sent for another item
                result = result.model_copy(
                    update={"item_id": item.item_id, "text_hash": item.text_hash}
                )
            results.append(result)
        return results

    # -- batching ---------------------------------------------------------------------------
    def _batches(self, entries: list[_Entry]) -> list[list[_Entry]]:
        batches: list[list[_Entry]] = []
        current: list[_Entry] = []
        chars = 0
        for entry in entries:
            size = len(entry.item.text) + len(entry.item.question or "")
            if current and (len(current) >= self.batch_size or chars + size > self.max_batch_chars):
                batches.append(current)
                current, chars = [], 0
            current.append(entry)
            chars += size
        if current:
            batches.append(current)
        for batch in batches:
            for i, entry in enumerate(batch, start=1):
                entry.sid = f"i{i}"
        return batches

    # -- one batch: call, validate, repair, record ------------------------------------------
    async def _run_batch(self, entries: list[_Entry], semaphore: asyncio.Semaphore) -> None:
        try:
            await self._label(entries, semaphore)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not lose items: record them as failed
            log.exception("enrichment batch failed unexpectedly")
            for entry in entries:
                if entry.labels is None and entry.failure is None:
                    entry.failure = f"internal error while labelling: {type(exc).__name__}"
        finally:
            now = time.monotonic()
            for entry in entries:
                if entry.finished is None:
                    entry.finished = now
                if entry.labels is None and entry.failure is None:
                    entry.failure = "no usable reply"
                if entry.labels is not None:
                    self.stats.items_ok += 1
                    self.stats.items_repaired += entry.repaired
                else:
                    self.stats.items_failed += 1

    async def _label(self, entries: list[_Entry], semaphore: asyncio.Semaphore) -> None:
        todo = entries
        notes: list[str] = []
        for round_no in range(self.repair_rounds + 1):
            if round_no:
                self.stats.repair_calls += 1
            try:
                response = await self._call(todo, notes, semaphore)
            except litellm.ContextWindowExceededError:
                if len(todo) > 1:  # too much text for one call: label the halves separately
                    half = len(todo) // 2
                    for part in (todo[:half], todo[half:]):
                        for i, entry in enumerate(part, start=1):
                            entry.sid = f"i{i}"
                    await asyncio.gather(
                        self._label(todo[:half], semaphore), self._label(todo[half:], semaphore)
                    )
                    return
                self._fail(todo, "the item is too long for the model's context window")
                return
            except Exception as exc:
                self._fail(todo, f"model call failed: {_describe_error(exc)}")
                return
            self._account(todo, response)
            notes = self._absorb(todo, response, repair=bool(round_no))
            todo = [entry for entry in todo if entry.labels is None]
            if not todo:
                return
        for entry in todo:
            entry.failure = (
                f"no valid labels after {entry.attempts} attempt(s): "
                + "; ".join(entry.problems or ["no usable reply"])
            )[:2000]

    def _fail(self, entries: list[_Entry], reason: str) -> None:
        now = time.monotonic()
        for entry in entries:
            entry.failure = f"{reason} (after {entry.attempts} attempt(s))"[:2000]
            entry.finished = now

    # -- the call -----------------------------------------------------------------------------
    def _retrying(self) -> AsyncRetrying:
        # tenacity rather than litellm's `num_retries`: litellm's retry wrapper backs off
        # exponentially but does not read Retry-After for every provider (its own parser only
        # takes whole seconds), its retries are invisible to us (no per-item `attempts`), and a
        # provider's rate limit is shared by every concurrent call, so one 429 should pause them
        # all (`_resume_at`), which only the caller can do. litellm's and the OpenAI SDK's own
        # retries are switched off (`_FORCED`) so a failure is never retried twice over.
        return AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            sleep=self._backoff_sleep,
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        after = retry_after_seconds(exc) if exc is not None else None
        if after is not None:
            after = min(after, self.max_retry_after_s)
            self.stats.rate_limit_waits.append(after)
            # Pause every call of this enricher until then (`_gate`); this call waits there too.
            self._resume_at = max(self._resume_at, time.monotonic() + after)
            return 0.0
        return wait_random_exponential(multiplier=self.backoff_s, max=self.max_backoff_s)(state)

    async def _backoff_sleep(self, seconds: float) -> None:
        if seconds > 0:  # 0 after a Retry-After: `_gate` does that wait
            await self._sleep(seconds)

    async def _gate(self) -> None:
        delay = self._resume_at - time.monotonic()
        if delay > 0:
            await self._sleep(delay)

    async def _call(
        self, entries: list[_Entry], notes: Sequence[str], semaphore: asyncio.Semaphore
    ) -> Any:
        messages = build_batch_messages(
            [(entry.sid, entry.item) for entry in entries], self.taxonomy, repair=notes
        )
        kwargs = self._call_kwargs(len(entries))
        async for attempt in self._retrying():
            with attempt:
                async with semaphore:
                    await self._gate()
                    now = time.monotonic()
                    for entry in entries:
                        entry.attempts += 1
                        if entry.started is None:
                            entry.started = now
                    self.stats.calls += 1
                    try:
                        return await litellm.acompletion(messages=messages, **kwargs)
                    except Exception as exc:
                        if getattr(exc, "status_code", None) == 429:
                            self.stats.rate_limited += 1
                        raise
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _call_kwargs(self, n_items: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "temperature": 0,
            "timeout": self.timeout_s,
            "max_tokens": self.output_tokens_per_item * n_items + 200,
            "drop_params": True,  # a provider without e.g. response_format gets the prompt alone
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self._response_format is not None:
            kwargs["response_format"] = self._response_format
        kwargs.update(self.extra_params)
        kwargs.update(_FORCED)
        return kwargs

    def _choose_response_format(self) -> dict[str, Any] | None:
        mode = self.structured_output
        if mode == "auto":
            mode = "none"
            try:
                if litellm.supports_response_schema(model=self.model):
                    mode = "json_schema"
                else:
                    name, provider, _, _ = litellm.get_llm_provider(self.model)
                    params = litellm.get_supported_openai_params(
                        model=name, custom_llm_provider=provider
                    )
                    if params and "response_format" in params:
                        mode = "json_object"
            except Exception:  # an unknown provider: the prompt's JSON instruction alone
                log.debug("no structured-output support found for %s", self.model)
        if mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {
                    "name": "item_labels",
                    "strict": True,
                    "schema": response_schema(self.taxonomy),
                },
            }
        if mode == "json_object":
            return {"type": "json_object"}
        return None

    @property
    def response_format_mode(self) -> str:
        return "none" if self._response_format is None else self._response_format["type"]

    # -- accounting ---------------------------------------------------------------------------
    def _account(self, entries: list[_Entry], response: Any) -> None:
        usage = getattr(response, "usage", None)
        tokens_in = int(getattr(usage, "prompt_tokens", 0) or 0)
        tokens_out = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = self._cost(response)
        self.stats.tokens_in += tokens_in
        self.stats.tokens_out += tokens_out
        self.stats.cost_usd += cost or 0.0
        n = len(entries)
        for i, entry in enumerate(entries):
            entry.tokens_in = (entry.tokens_in or 0) + _share(tokens_in, n, i)
            entry.tokens_out = (entry.tokens_out or 0) + _share(tokens_out, n, i)
            if cost is None:
                entry.cost_known = False
            else:
                entry.cost = (entry.cost or 0.0) + cost / n

    def _cost(self, response: Any) -> float | None:
        hidden = getattr(response, "_hidden_params", None) or {}
        cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
        if cost is None:
            for kwargs in ({}, {"model": self.model}):
                try:
                    cost = litellm.completion_cost(completion_response=response, **kwargs)
                    break
                except Exception:
                    continue
        if cost is None and not self._cost_warned:
            self._cost_warned = True
            log.warning("litellm's cost map has no price for %s: cost_usd is empty", self.model)
        return float(cost) if cost is not None else None

    # -- validation ---------------------------------------------------------------------------
    def _absorb(self, entries: list[_Entry], response: Any, *, repair: bool) -> list[str]:
        """Take the valid labels out of `response`; return repair notes for the rest."""
        choice = (getattr(response, "choices", None) or [None])[0]
        message = getattr(choice, "message", None)
        content = getattr(message, "content", None) or ""
        objects, problem = parse_reply(content)
        if getattr(choice, "finish_reason", None) == "length":
            problem = "the reply was cut off before the end; keep each answer short"
        by_sid = {entry.sid: entry for entry in entries}
        seen: set[str] = set()
        notes: list[str] = [problem] if problem else []
        now = time.monotonic()
        for obj in objects:
            sid = obj.get("id") if isinstance(obj, dict) else None
            entry = by_sid.get(sid) if isinstance(sid, str) else None
            if entry is None or sid in seen:
                continue
            seen.add(sid)
            labels, problems = self._validate(obj, entry)
            if labels is not None:
                entry.labels, entry.finished, entry.repaired = labels, now, repair
            else:
                entry.problems = problems
                notes.extend(f"item {sid}: {p}" for p in problems)
        missing = [entry for entry in entries if entry.sid not in seen]
        for entry in missing:
            entry.problems = [problem or "the reply had no result for this item"]
        if missing and not problem:
            notes.append("no result for item(s) " + ", ".join(entry.sid for entry in missing))
        return notes

    def _validate(self, obj: dict, entry: _Entry) -> tuple[ItemLabels | None, list[str]]:
        payload = {key: value for key, value in obj.items() if key != "id"}
        try:
            labels = ItemLabels.model_validate(payload)
        except ValidationError as exc:
            return None, [_describe_validation(err) for err in exc.errors(include_url=False)[:6]]
        try:
            labels.validate_against(entry.full_text, self.taxonomy)
        except LabelValidationError:
            return None, fit_problems(labels, entry.full_text, self.taxonomy) or [
                "the labels do not fit the item's text or the taxonomy"
            ]
        return apply_urgency_rules(entry.full_text, labels), []

    def _result(self, entry: _Entry) -> LabelResult:
        latency = None
        if entry.started is not None and entry.finished is not None:
            latency = max(0.0, (entry.finished - entry.started) * 1000)
        common: dict[str, Any] = {
            "item_id": entry.item.item_id,
            "text_hash": entry.item.text_hash,
            "model_id": self.model_id,
            "prompt_version": self.prompt_version,
            "taxonomy_version": self.taxonomy_version,
            "attempts": entry.attempts,
            "latency_ms": latency,
            "tokens_in": entry.tokens_in,
            "tokens_out": entry.tokens_out,
            "cost_usd": entry.cost if entry.cost_known else None,
        }
        if entry.labels is not None:
            return LabelResult(status="ok", labels=entry.labels, **common)
        return LabelResult(
            status="failed", failure_reason=entry.failure or "no usable reply", **common
        )


# ---------------------------------------------------------------------------------------------
# Replies
# ---------------------------------------------------------------------------------------------
_FENCE_RE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)


def parse_reply(content: str) -> tuple[list[Any], str | None]:
    """The item objects of a reply, and what was wrong with it (None when it parsed).

    Accepts `{"items": [...]}` (the asked-for shape), a bare array, a single object with an
    `id`, and any of these inside a Markdown code fence. A reply that is not JSON (cut off, or
    chatter around it) gives the complete item objects that can be read from its start.
    """
    text = content.strip()
    fenced = _FENCE_RE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if not text:
        return [], "the reply was empty"
    try:
        data = json.loads(text)
    except ValueError:
        return _salvage(text), "the reply was not valid JSON"
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return data["items"], None
    if isinstance(data, list):
        return data, None
    if isinstance(data, dict) and "id" in data:
        return [data], None
    return [], 'the reply was not an object with an "items" array'


def _salvage(text: str) -> list[Any]:
    anchor = text.find('"items"')
    start = text.find("[", anchor if anchor >= 0 else 0)
    if start < 0:
        return []
    decoder = json.JSONDecoder()
    out: list[Any] = []
    pos = start + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            return out
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except ValueError:
            return out
        out.append(obj)


_SAFE_LOC = re.compile(r"^[a-z_]{1,30}$")


def _describe_validation(err: Mapping[str, Any]) -> str:
    """A pydantic error as a repair note: location and message, no input value; a location
    part the model made up (an unexpected key) is not echoed."""
    loc = ".".join(
        str(part) if isinstance(part, int) or _SAFE_LOC.match(str(part)) else "<unexpected key>"
        for part in err.get("loc", ())
    )
    return f"{loc or 'labels'}: {err.get('msg', 'invalid')}"


def fit_problems(labels: ItemLabels, text: str, taxonomy: Taxonomy | None) -> list[str]:
    """What `ItemLabels.validate_against` objects to, in words that quote nothing."""
    problems: list[str] = []
    for i, topic in enumerate(labels.topics, start=1):
        if topic.evidence not in text:
            problems.append(
                f"topics.{i - 1}.evidence is not an exact substring of the item's text: copy it "
                "character for character"
            )
        if taxonomy is None:
            continue
        if topic.key is not None and topic.key not in taxonomy:
            problems.append(f"topics.{i - 1}.key is not a taxonomy key")
        if topic.proposed is not None and slugify(topic.proposed) in taxonomy:
            problems.append(f"topics.{i - 1}.proposed is already a taxonomy key: use key")
    return problems


# ---------------------------------------------------------------------------------------------
# Transport errors
# ---------------------------------------------------------------------------------------------
def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, litellm.ContextWindowExceededError):
        return False
    if isinstance(exc, litellm.Timeout | litellm.APIConnectionError):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and (status in (408, 409, 429) or status >= 500)


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """The wait a rate-limited or overloaded provider asked for (Retry-After-Ms, Retry-After in
    seconds or as an HTTP date), from the error or the errors it wraps; None when absent."""
    seen = 0
    while exc is not None and seen < 6:
        seen += 1
        for headers in (
            getattr(exc, "litellm_response_headers", None),
            getattr(getattr(exc, "response", None), "headers", None),
            getattr(exc, "headers", None),
        ):
            value = _retry_after_from_headers(headers)
            if value is not None:
                return value
        exc = exc.__cause__ or exc.__context__
    return None


def _retry_after_from_headers(headers: Any) -> float | None:
    if not headers:
        return None
    try:
        get = headers.get
    except AttributeError:
        return None
    raw_ms = get("retry-after-ms") or get("Retry-After-Ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = get("retry-after") or get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())


def _describe_error(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    # litellm messages carry the provider's error text (no request content); keep them short.
    message = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}" + (f" (HTTP {status})" if status else "") + f": {message}"


def _share(total: int, n: int, i: int) -> int:
    base, extra = divmod(total, n)
    return base + (1 if i < extra else 0)


# ---------------------------------------------------------------------------------------------
# The JSON schema sent as response_format
# ---------------------------------------------------------------------------------------------
def response_schema(taxonomy: Taxonomy) -> dict[str, Any]:
    """The reply's JSON schema in the strict subset providers accept (every property required,
    no additional properties, nullable as a type list). Lengths, ranges and the evidence rule
    are checked by `ItemLabels` afterwards, not here."""

    def obj(properties: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "required": list(properties),
            "properties": properties,
        }

    sentiment_enum = {"type": "string", "enum": list(get_args(SentimentLabel))}
    topic = obj(
        {
            "key": {"type": ["string", "null"], "enum": [*taxonomy.keys, None]},
            "proposed": {"type": ["string", "null"]},
            "sentiment": sentiment_enum,
            "evidence": {"type": "string"},
        }
    )
    item = obj(
        {
            "id": {"type": "string"},
            "sentiment": obj(
                {
                    "label": sentiment_enum,
                    "score": {"type": "number"},
                    "confidence": {"type": "number"},
                }
            ),
            "topics": {"type": "array", "items": topic},
            "urgency": obj(
                {
                    "level": {"type": "string", "enum": list(get_args(UrgencyLevel))},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                    "signals": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(get_args(UrgencySignal))},
                    },
                }
            ),
            "language": {"type": "string"},
            "summary": {"type": "string"},
            "praises_staff": {"type": "boolean"},
            "suggestion": {"type": "boolean"},
            "inappropriate": {"type": "boolean"},
        }
    )
    return obj({"items": {"type": "array", "items": item}})


# ---------------------------------------------------------------------------------------------
# The private event loop
# ---------------------------------------------------------------------------------------------
class _LoopThread:
    """One event loop in a daemon thread, shared by every enricher of the process and kept for
    its life: litellm caches async HTTP clients and its logging worker per loop, so a fresh
    `asyncio.run()` per `enrich()` would leave them bound to closed loops; and `enrich()` must
    also work where a loop is already running (a notebook, an async caller). Shut down at exit
    with its pending tasks (litellm's logging worker) cancelled, so nothing is torn down
    half-way."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="pulse-llm-enricher", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
                atexit.register(self.shutdown)
            loop = self._loop
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("enrich() called from its own event loop: await aenrich() instead")
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def shutdown(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return

        async def cancel_pending() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):  # best effort at exit
            asyncio.run_coroutine_threadsafe(cancel_pending(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()


_LOOP = _LoopThread()
