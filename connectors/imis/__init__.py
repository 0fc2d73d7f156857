"""iMIS REST connector: token auth, paged reads, typed errors, entity parsing (no Dagster)."""

from .client import ImisClient
from .errors import (
    ImisAuthError,
    ImisError,
    ImisMalformedResponse,
    ImisRequestError,
    ImisResponseError,
    ImisRetriesExhausted,
)
from .reader import (
    count_source_items,
    iter_member_changes,
    iter_members,
    iter_source_items,
    iter_staff,
    per_day_counts,
)

__all__ = [
    "ImisAuthError",
    "ImisClient",
    "ImisError",
    "ImisMalformedResponse",
    "ImisRequestError",
    "ImisResponseError",
    "ImisRetriesExhausted",
    "count_source_items",
    "iter_member_changes",
    "iter_members",
    "iter_source_items",
    "iter_staff",
    "per_day_counts",
]
