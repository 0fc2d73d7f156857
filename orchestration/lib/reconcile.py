"""Reconciliation: the days on which the warehouse and iMIS disagree about a source.

The hourly live tail re-reads only the last few days, so an item created, deleted or moved
in iMIS after its day left the lookback would otherwise never be seen. Comparing per-day
counts (iMIS rows against items + rows reported as problems) finds those days cheaply; the
sensor in `orchestration/defs/ingest/reconcile.py` re-ingests them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb


@dataclass(frozen=True)
class DayDifference:
    day: date
    in_imis: int
    in_warehouse: int  # items plus the rows the reader reported as problems

    def describe(self) -> str:
        change = self.in_imis - self.in_warehouse
        return (
            f"{self.day:%Y-%m-%d}: iMIS holds {self.in_imis} rows, the warehouse "
            f"{self.in_warehouse} ({change:+d})"
        )


def warehouse_day_counts(
    con: duckdb.DuckDBPyConnection, source_name: str, start: date, end: date
) -> dict[date, int]:
    """Items plus reported problems per creation day in [start, end) for one source."""
    rows = con.execute(
        """
        select day, sum(n) from (
            select created_date as day, count(*) as n from raw.feedback_items
            where source_name = ? and created_date >= ? and created_date < ?
            group by all
            union all
            select created_date, count(*) from raw.ingest_problems
            where source_name = ? and created_date >= ? and created_date < ?
            group by all
        ) group by day
        """,
        [source_name, start, end, source_name, start, end],
    ).fetchall()
    return {day: int(n) for day, n in rows}


def differing_days(imis: dict[date, int], warehouse: dict[date, int]) -> list[DayDifference]:
    """Days whose counts differ, in date order; a day missing on either side counts as 0."""
    return [
        DayDifference(day, imis.get(day, 0), warehouse.get(day, 0))
        for day in sorted(imis.keys() | warehouse.keys())
        if imis.get(day, 0) != warehouse.get(day, 0)
    ]
