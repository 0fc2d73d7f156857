"""The PagedResult envelope (API.md 2.2): validate a page, then follow HasNext / NextOffset."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

DEFAULT_PAGE_SIZE = 500  # the largest limit iMIS clients use; the server may clamp lower


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    offset: int
    total: int
    has_next: bool
    next_offset: int


def parse_page(body: Any) -> Page:
    """Raise ValueError when `body` is not a PagedResult: the caller treats that as malformed."""
    if not isinstance(body, dict):
        raise ValueError("page is not a JSON object")
    items = body.get("Items")
    values = items.get("$values") if isinstance(items, dict) else None
    if not isinstance(values, list):
        raise ValueError("page has no Items.$values list")
    try:
        page = Page(
            items=values,
            offset=int(body.get("Offset", 0)),
            total=int(body["TotalCount"]),
            has_next=bool(body["HasNext"]),
            next_offset=int(body.get("NextOffset") or 0),
        )
    except (KeyError, TypeError, ValueError):
        raise ValueError("page lacks TotalCount/HasNext") from None
    if page.has_next and page.next_offset <= page.offset:
        raise ValueError(f"HasNext with NextOffset {page.next_offset} at offset {page.offset}")
    return page


def iterate_pages(fetch: Callable[[int], Page], start_offset: int = 0) -> Iterator[Page]:
    """Yield pages from `fetch(offset)` until HasNext is false.

    The next offset comes from the server (NextOffset), not from our own limit: a server that
    clamps the page size below what we asked for must not make us skip rows.
    """
    offset = start_offset
    while True:
        page = fetch(offset)
        yield page
        if not page.has_next:
            return
        offset = page.next_offset
