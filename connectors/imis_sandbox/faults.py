"""Fault injection: slow, throttled, failing and malformed responses, reproducible from a seed."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Faults:
    """Rates are probabilities per `/api` request; decisions come from one seeded RNG, so the
    same request sequence meets the same faults."""

    latency_ms: int = 0
    rate_429: float = 0.0
    retry_after_s: float = 1  # sent as `Retry-After`; fractions only for fast tests
    rate_5xx: float = 0.0
    malformed_rate: float = 0.0  # 200 with a truncated JSON body
    write_saved_then_500_rate: float = 0.0  # the row is saved, the response is a 500 anyway
    token_expiry_s: int = 1799
    # Every N seconds all tokens die at once, unannounced (an app-pool restart or "Purge System
    # Cache", API.md 1.2): clients see a 401 on a token they believe valid. 0 = never.
    revoke_tokens_every_s: float = 0.0
    max_page_size: int = 500
    seed: int = 0
    injected: Counter[str] = field(init=False, default_factory=Counter, compare=False)
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def roll(self, rate: float, name: str = "") -> bool:
        """True when this request gets the fault; counted under `name` for tests and logs."""
        hit = rate > 0 and self._rng.random() < rate
        if hit and name:
            self.injected[name] += 1
        return hit

    def pick(self, options: tuple[int, ...]) -> int:
        return self._rng.choice(options)
