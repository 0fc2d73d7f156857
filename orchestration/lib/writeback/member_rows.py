"""One look-up of a member's panel rows per run, shared by all that member's writes.

`connectors.imis.writeback.upsert_panel_row` looks the contact's rows up (GET by contact id)
before every write, and again after a write whose outcome is unknown. With several items per
member that first GET is repeated for each item although nothing but this run has written
since. `MemberRows` stands in for the client for one member's writes: the first look-up reads
the rows from iMIS and keeps them; the rows this run creates are added from iMIS's answers;
any write that fails forgets them, so the look-up before a retry reads iMIS again (the
guarantee that a retry never duplicates a row holds as before).

Safe because write-back is the only writer of Sentiment_Log rows with Pulse's source keys and
runs one at a time (pool `imis`); the rows are kept for one run only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from connectors.imis import ImisClient


class MemberRows:
    """The client, with `entity`'s row reads for one member answered from one GET."""

    def __init__(self, client: ImisClient, entity: str):
        self._client = client
        self._entity = entity
        self._rows: list[dict[str, Any]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def iter_rows(
        self, entity: str, filters: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        if entity != self._entity:
            return self._client.iter_rows(entity, filters, **kwargs)
        if self._rows is None:
            self._rows = list(self._client.iter_rows(entity, filters, **kwargs))
        return iter(list(self._rows))

    def post(self, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        saved = self._forgetting_on_error(self._client.post, entity, body)
        if entity == self._entity and self._rows is not None:
            if isinstance(saved, dict):
                self._rows.append(saved)
            else:  # an answer without the row: read iMIS again rather than guess
                self._rows = None
        return saved

    def put(self, entity: str, key: str, body: Mapping[str, Any]) -> dict[str, Any]:
        # A PUT keeps the row's identity and source key, so the kept rows still match.
        return self._forgetting_on_error(self._client.put, entity, key, body)

    def _forgetting_on_error(self, send, *args: Any) -> Any:
        try:
            return send(*args)
        except BaseException:
            self._rows = None  # the outcome is unknown: the next look-up must ask iMIS
            raise
