"""What a labelling run will cost before it starts: calls, tokens and dollars for the items the
cache does not hold yet, so a re-enrichment backfill can stop at `PULSE_MODEL_BUDGET_USD`.

The estimate is deliberately simple and errs high: ~4 characters per token for the prompt
(instructions and taxonomy once per call, each text once), a fixed allowance of output tokens
per item, prices from litellm's local cost map. The built-in model costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from orchestration.lib.enrichment.base import Enricher
from orchestration.lib.enrichment.schema import EnrichmentInput

CHARS_PER_TOKEN = 4
PROMPT_OVERHEAD_TOKENS = 2_500  # system prompt + taxonomy with descriptions, per call
OUTPUT_TOKENS_PER_ITEM = 220


class BudgetExceeded(RuntimeError):
    """The estimated cost of the run is above the configured budget; nothing was sent."""


@dataclass(frozen=True)
class Estimate:
    items: int
    calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None  # None: the model's price is unknown to litellm

    def __add__(self, other: Estimate) -> Estimate:
        """Two parts of one run (a window estimated chunk by chunk)."""
        cost = (
            None
            if self.cost_usd is None or other.cost_usd is None
            else round(self.cost_usd + other.cost_usd, 4)
        )
        return Estimate(
            self.items + other.items,
            self.calls + other.calls,
            self.tokens_in + other.tokens_in,
            self.tokens_out + other.tokens_out,
            cost,
        )

    def describe(self) -> str:
        cost = "unknown cost" if self.cost_usd is None else f"~${self.cost_usd:,.2f}"
        return (
            f"{self.items:,} items to send in ~{self.calls:,} calls, ~{self.tokens_in:,} tokens "
            f"in and ~{self.tokens_out:,} out, {cost}"
        )


def estimate(enricher: Enricher, to_send: Sequence[EnrichmentInput]) -> Estimate:
    batch = max(1, int(getattr(enricher, "batch_size", 1)))
    calls = math.ceil(len(to_send) / batch) if to_send else 0
    text_tokens = sum(len(i.text) + len(i.question or "") for i in to_send) // CHARS_PER_TOKEN
    tokens_in = calls * PROMPT_OVERHEAD_TOKENS + text_tokens
    tokens_out = len(to_send) * OUTPUT_TOKENS_PER_ITEM
    if not getattr(enricher, "makes_model_calls", False):
        return Estimate(len(to_send), 0, 0, 0, 0.0)
    return Estimate(
        len(to_send), calls, tokens_in, tokens_out, _price(enricher, tokens_in, tokens_out)
    )


def _price(enricher: Enricher, tokens_in: int, tokens_out: int) -> float | None:
    import litellm  # only model-calling enrichers get here; they have imported it already

    try:
        cost_in, cost_out = litellm.cost_per_token(
            model=enricher.model_id, prompt_tokens=tokens_in, completion_tokens=tokens_out
        )
    except Exception:  # litellm raises a plain Exception for models missing from its map
        return None
    return round(cost_in + cost_out, 4)


def check_budget(run: Estimate, budget_usd: float | None) -> None:
    """Raise BudgetExceeded when a budget is set and the run would exceed it (or its price is
    unknown: an unpriced model under a budget must be confirmed by raising the budget)."""
    if budget_usd is None or run.calls == 0:
        return
    if run.cost_usd is None or run.cost_usd > budget_usd:
        raise BudgetExceeded(
            f"this run would send {run.describe()}, over PULSE_MODEL_BUDGET_USD={budget_usd:g}. "
            "Nothing was sent. Narrow the partition range, or raise the budget and re-run; "
            "cached items are never paid for twice."
        )
