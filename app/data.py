"""The dashboard's queries against the published marts, and the pure helpers around them.

The app never touches the working warehouse: it reads `marts.duckdb`, which the publish step
replaces atomically after each dbt build (DESIGN.md rule 3). Every query opens its own
short-lived read-only connection inside a `st.cache_data(ttl=60)` loader, so the app never holds
the file open between reruns. SQL lives in module-level constants with `?` parameters only:
nothing typed by a user is ever formatted into SQL. The file's modification time is part of each
cache key, so a new publish is visible at the next rerun rather than after the TTL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from orchestration.lib.config import paths

CHANNELS: tuple[str, ...] = ("email", "survey", "community", "case")

# Period keys (URL-safe, stored in st.query_params) -> (label, days; None = everything).
PERIODS: dict[str, tuple[str, int | None]] = {
    "7d": ("Last 7 days", 7),
    "30d": ("Last 30 days", 30),
    "90d": ("Last 90 days", 90),
    "365d": ("Last 12 months", 365),
    "all": ("All time", None),
}
DEFAULT_PERIOD = "30d"

# Time grains the charts offer -> DuckDB date_trunc part (passed as a parameter, never formatted).
GRAINS: dict[str, str] = {"Day": "day", "Week": "week"}

# DuckDB settings for the app's connections: small, since the app only reads aggregates.
_CONNECTION_CONFIG = {"memory_limit": "512MB", "threads": 2}

DATE_BOUNDS_SQL = """
select min(created_date) as first_date, max(created_date) as last_date
from agg_sentiment_daily
"""

KPI_SQL = """
select
    coalesce(sum(item_count), 0)         as item_count,
    coalesce(sum(labelled_count), 0)     as labelled_count,
    coalesce(sum(positive_count), 0)     as positive_count,
    coalesce(sum(neutral_count), 0)      as neutral_count,
    coalesce(sum(negative_count), 0)     as negative_count,
    coalesce(sum(failed_count), 0)       as failed_count,
    coalesce(sum(pending_count), 0)      as pending_count,
    coalesce(sum(high_urgency_count), 0) as high_urgency_count
from agg_sentiment_daily
where created_date between ? and ?
  and list_contains(?, channel)
"""

# NSS is recomputed from summed counts (never an average of daily scores).
SENTIMENT_OVER_TIME_SQL = """
select
    cast(date_trunc(?, created_date) as date) as period_start,
    channel,
    sum(item_count)     as item_count,
    sum(labelled_count) as labelled_count,
    sum(positive_count) as positive_count,
    sum(negative_count) as negative_count,
    round(100.0 * (sum(positive_count) - sum(negative_count))
          / nullif(sum(labelled_count), 0), 1) as net_sentiment_score
from agg_sentiment_daily
where created_date between ? and ?
  and list_contains(?, channel)
group by 1, 2
order by 1, 2
"""

HIGH_URGENCY_ITEMS_SQL = """
select
    created_at,
    channel,
    member_tier,
    member_chapter,
    primary_topic,
    sentiment_label,
    summary,
    urgency_reasons,
    redacted_text,
    item_id
from fct_feedback
where urgency_level = 'high'
  and created_date between ? and ?
  and list_contains(?, channel)
order by created_at desc, item_id
limit ?
"""


class MartsUnavailable(RuntimeError):
    """The published marts file is missing, unreadable or lacks an expected table."""


@dataclass(frozen=True)
class Kpis:
    item_count: int
    labelled_count: int
    positive_count: int
    neutral_count: int
    negative_count: int
    failed_count: int
    pending_count: int
    high_urgency_count: int

    @property
    def net_sentiment_score(self) -> float | None:
        return net_sentiment_score(self.positive_count, self.negative_count, self.labelled_count)

    @property
    def negative_share(self) -> float | None:
        """Negative items as a percentage of labelled items; None when nothing is labelled."""
        if not self.labelled_count:
            return None
        return 100.0 * self.negative_count / self.labelled_count


def net_sentiment_score(positive: int, negative: int, labelled: int) -> float | None:
    """100 * (positive - negative) / labelled, as the dbt macro `net_sentiment_score` computes."""
    if not labelled:
        return None
    return round(100.0 * (positive - negative) / labelled, 2)


def period_window(period: str, first: date, last: date) -> tuple[date, date]:
    """The (start, end) dates of `period`, anchored on the latest day the marts hold.

    Anchoring on the data rather than on today keeps a demo or a stale publish readable.
    Unknown keys fall back to the default period.
    """
    _, days = PERIODS.get(period, PERIODS[DEFAULT_PERIOD])
    if days is None:
        return first, last
    return max(first, last - timedelta(days=days - 1)), last


def marts_path() -> Path:
    """Where the published marts live: `$PULSE_HOME/marts.duckdb` (read when called)."""
    return paths().marts


def marts_version(path: Path) -> int:
    """A value that changes whenever the publish step replaces the file (used in cache keys)."""
    return path.stat().st_mtime_ns


def _read(path: str, sql: str, params: Sequence[object]) -> pd.DataFrame:
    try:
        with duckdb.connect(path, read_only=True, config=_CONNECTION_CONFIG) as con:
            return con.execute(sql, list(params)).df()
    except duckdb.Error as exc:
        raise MartsUnavailable(f"Could not read the published marts at {path}: {exc}") from exc


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_date_bounds(path: str, version: int) -> tuple[date, date] | None:
    """First and last day with data, or None when the marts hold no item yet."""
    frame = _read(path, DATE_BOUNDS_SQL, [])
    first, last = frame.iloc[0]["first_date"], frame.iloc[0]["last_date"]
    if pd.isna(first) or pd.isna(last):
        return None
    return pd.Timestamp(first).date(), pd.Timestamp(last).date()


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_kpis(path: str, version: int, start: date, end: date, channels: tuple[str, ...]) -> Kpis:
    row = _read(path, KPI_SQL, [start, end, list(channels)]).iloc[0]
    return Kpis(**{name: int(row[name]) for name in Kpis.__dataclass_fields__})


@st.cache_data(ttl=60, show_spinner="Loading sentiment…", max_entries=64)
def load_sentiment_over_time(
    path: str, version: int, start: date, end: date, channels: tuple[str, ...], grain: str
) -> pd.DataFrame:
    part = GRAINS.get(grain, "day")
    return _read(path, SENTIMENT_OVER_TIME_SQL, [part, start, end, list(channels)])


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_high_urgency_items(
    path: str, version: int, start: date, end: date, channels: tuple[str, ...], limit: int = 50
) -> pd.DataFrame:
    return _read(path, HIGH_URGENCY_ITEMS_SQL, [start, end, list(channels), int(limit)])
