"""The dashboard's queries against the published marts, the access rules they enforce, and the
pure helpers around them.

The app never touches the working warehouse: it reads `marts.duckdb`, which the publish step
replaces atomically after each dbt build (DESIGN.md rule 3). Every query opens its own
short-lived read-only connection inside a `st.cache_data(ttl=60)` loader, so the app never holds
the file open between reruns. SQL lives in module-level constants with `$name` parameters only:
nothing typed by a user is ever formatted into SQL. The file's modification time is part of each
cache key, so a new publish is visible at the next rerun rather than after the TTL.

Access control lives HERE, not in the pages: every loader takes the signed-in user's `Scope`
(app/access.py) as a mandatory argument, and `_read` refuses to run a statement that lacks the
`$scope_chapter` predicate (unless it reads a table without member rows, such as dim_topics)
and refuses item-level statements (texts, summaries, evidence) for aggregate-only scopes.
A chapter manager's chapter is bound into every statement, whatever the filters say.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from app.access import AccessDenied, Scope
from orchestration.lib.app_state import AppState, Decision
from orchestration.lib.config import paths

CHANNELS: tuple[str, ...] = ("email", "survey", "community", "case")
SENTIMENTS: tuple[str, ...] = ("positive", "neutral", "negative")
URGENCIES: tuple[str, ...] = ("low", "medium", "high")
QUEUE_REASONS: dict[str, str] = {
    "high_urgency_negative": "Negative and high urgency",
    "low_confidence": "Low model confidence",
    "model_failure": "Labelling failed",
}

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
GRAINS: dict[str, str] = {"Day": "day", "Week": "week", "Month": "month"}

# Segment dimensions of fct_feedback the Segments page compares (column -> label).
SEGMENTS: dict[str, str] = {
    "member_tier": "Member tier",
    "member_chapter": "Chapter",
    "member_tenure_band": "Tenure band",
    "member_renewal_window": "Renewal window",
}

# DuckDB settings for the app's connections: small, since the app only reads aggregates.
_CONNECTION_CONFIG = {"memory_limit": "512MB", "threads": 2}

# ------------------------------------------------------------------------------------------
# SQL. Each statement's filters: the slice ($start, $end, $channels, optional $tiers,
# $chapters, $topics: NULL means "no filter") and the access scope ($scope_chapter).

DATE_BOUNDS_SQL = """
select min(created_date) as first_date, max(created_date) as last_date
from agg_sentiment_daily
where ($scope_chapter is null or member_chapter = $scope_chapter)
"""

FILTER_OPTIONS_SQL = """
select distinct 'tier' as kind, member_tier as value from agg_sentiment_daily
where ($scope_chapter is null or member_chapter = $scope_chapter)
union
select distinct 'chapter', member_chapter from agg_sentiment_daily
where ($scope_chapter is null or member_chapter = $scope_chapter)
order by 1, 2
"""

TOPICS_SQL = """
select topic_key, topic_label, description, is_proposed
from dim_topics
order by is_proposed, topic_label
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
where created_date between $start and $end
  and list_contains($channels, channel)
  and ($tiers is null or list_contains($tiers, member_tier))
  and ($chapters is null or list_contains($chapters, member_chapter))
  and ($topics is null or list_contains($topics, primary_topic))
  and ($scope_chapter is null or member_chapter = $scope_chapter)
"""

# NSS is recomputed from summed counts (never an average of daily scores).
SENTIMENT_OVER_TIME_SQL = """
select
    cast(date_trunc($grain, created_date) as date) as period_start,
    channel,
    sum(item_count)     as item_count,
    sum(labelled_count) as labelled_count,
    sum(positive_count) as positive_count,
    sum(negative_count) as negative_count,
    round(100.0 * (sum(positive_count) - sum(negative_count))
          / nullif(sum(labelled_count), 0), 1) as net_sentiment_score
from agg_sentiment_daily
where created_date between $start and $end
  and list_contains($channels, channel)
  and ($tiers is null or list_contains($tiers, member_tier))
  and ($chapters is null or list_contains($chapters, member_chapter))
  and ($topics is null or list_contains($topics, primary_topic))
  and ($scope_chapter is null or member_chapter = $scope_chapter)
group by 1, 2
order by 1, 2
"""

# Open = not decided in the marts yet (decisions made since the last run are removed by the
# caller from the app's own state store).
HIGH_URGENCY_ITEMS_SQL = """
select
    f.created_at,
    f.channel,
    f.member_tier,
    f.member_chapter,
    f.primary_topic,
    f.sentiment_label,
    f.summary,
    f.urgency_reasons,
    f.redacted_text,
    f.item_id
from fct_feedback as f
left join review_queue as q on q.item_id = f.item_id
where f.urgency_level = 'high'
  and not coalesce(q.is_decided, false)
  and f.created_date between $start and $end
  and list_contains($channels, f.channel)
  and ($tiers is null or list_contains($tiers, f.member_tier))
  and ($chapters is null or list_contains($chapters, f.member_chapter))
  and ($topics is null or list_contains($topics, f.primary_topic))
  and ($scope_chapter is null or f.member_chapter = $scope_chapter)
order by f.created_at desc, f.item_id
limit $limit
"""

# The week's movers: topics in the 7 days ending on $end against their weekly average over the
# 28 days before (topic-level sentiment, so an item counts once per topic it mentions).
MOVERS_SQL = """
with scoped as (
    select *, created_date > cast($end as date) - 7 as this_week
    from fct_feedback_topics
    where created_date between cast($end as date) - 34 and $end
      and list_contains($channels, channel)
      and ($tiers is null or list_contains($tiers, member_tier))
      and ($chapters is null or list_contains($chapters, member_chapter))
      and ($topics is null or list_contains($topics, topic_key))
      and ($scope_chapter is null or member_chapter = $scope_chapter)
)
select
    topic_key,
    any_value(topic_label) as topic_label,
    count(*) filter (where this_week) as items_this_week,
    round(count(*) filter (where not this_week) / 4.0, 1) as items_weekly_before,
    round(100.0 * (count(*) filter (where this_week and topic_sentiment = 'positive')
        - count(*) filter (where this_week and topic_sentiment = 'negative'))
        / nullif(count(*) filter (where this_week), 0), 1) as nss_this_week,
    round(100.0 * (count(*) filter (where not this_week and topic_sentiment = 'positive')
        - count(*) filter (where not this_week and topic_sentiment = 'negative'))
        / nullif(count(*) filter (where not this_week), 0), 1) as nss_before
from scoped
group by topic_key
having count(*) filter (where this_week) > 0
"""

TOPIC_WEEKLY_SQL = """
select
    cast(date_trunc('week', created_date) as date) as week_start,
    topic_key,
    any_value(topic_label) as topic_label,
    count(*) as item_count,
    count(*) filter (where topic_sentiment = 'positive') as positive_count,
    count(*) filter (where topic_sentiment = 'negative') as negative_count,
    round(100.0 * (count(*) filter (where topic_sentiment = 'positive')
        - count(*) filter (where topic_sentiment = 'negative')) / count(*), 1)
        as net_sentiment_score
from fct_feedback_topics
where created_date between $start and $end
  and list_contains($channels, channel)
  and ($tiers is null or list_contains($tiers, member_tier))
  and ($chapters is null or list_contains($chapters, member_chapter))
  and ($topics is null or list_contains($topics, topic_key))
  and ($scope_chapter is null or member_chapter = $scope_chapter)
group by 1, 2
order by 1, 2
"""

TOPIC_VERBATIMS_SQL = """
select
    t.item_id,
    f.created_at,
    t.channel,
    t.member_tier,
    t.member_chapter,
    t.topic_sentiment,
    t.evidence,
    f.redacted_text
from fct_feedback_topics as t
join fct_feedback as f on f.item_id = t.item_id
where t.topic_key = $topic
  and t.created_date between $start and $end
  and list_contains($channels, t.channel)
  and ($tiers is null or list_contains($tiers, t.member_tier))
  and ($chapters is null or list_contains($chapters, t.member_chapter))
  and ($sentiment is null or t.topic_sentiment = $sentiment)
  and ($scope_chapter is null or t.member_chapter = $scope_chapter)
order by f.created_at desc, t.item_id
limit $limit
"""

# Every segment dimension in one scan (grouping sets); `dimension` names the grouped column.
SEGMENTS_SQL = """
select
    case
        when grouping(member_tier) = 0 then 'member_tier'
        when grouping(member_chapter) = 0 then 'member_chapter'
        when grouping(member_tenure_band) = 0 then 'member_tenure_band'
        else 'member_renewal_window'
    end as dimension,
    coalesce(member_tier, member_chapter, member_tenure_band, member_renewal_window, 'Unknown')
        as segment,
    count(*) as item_count,
    count(sentiment_label) as labelled_count,
    count(*) filter (where sentiment_label = 'positive') as positive_count,
    count(*) filter (where sentiment_label = 'negative') as negative_count,
    count(*) filter (where urgency_level = 'high') as high_urgency_count,
    round(100.0 * (count(*) filter (where sentiment_label = 'positive')
        - count(*) filter (where sentiment_label = 'negative'))
        / nullif(count(sentiment_label), 0), 1) as net_sentiment_score
from fct_feedback
where created_date between $start and $end
  and list_contains($channels, channel)
  and ($tiers is null or list_contains($tiers, member_tier))
  and ($chapters is null or list_contains($chapters, member_chapter))
  and ($topics is null or list_contains($topics, primary_topic))
  and ($scope_chapter is null or member_chapter = $scope_chapter)
group by grouping sets ((member_tier), (member_chapter), (member_tenure_band),
                        (member_renewal_window))
order by 1, 2
"""

# A chapter-bound scope sees only its own chapter's segment rows: the 'all' and 'tier' rows
# aggregate other chapters' items.
EMERGING_SQL = """
select
    week_start, topic_key, topic_label, segment_type, segment_value, item_count,
    negative_count, negative_share, net_sentiment_score, baseline_item_count, baseline_nss,
    nss_change, volume_change_ratio, robust_z, evidence_item_ids
from emerging_issues
where is_spike
  and week_start between cast(date_trunc('week', cast($start as date)) as date) and $end
  and ($topics is null or list_contains($topics, topic_key))
  and ($chapters is null or segment_type <> 'chapter' or list_contains($chapters, segment_value))
  and ($scope_chapter is null
       or (segment_type = 'chapter' and segment_value = $scope_chapter))
order by week_start desc, robust_z desc, topic_key, segment_type, segment_value
"""

EMERGING_SERIES_SQL = """
select
    topic_key || '|' || segment_type || '|' || segment_value as series_key,
    week_start, item_count, net_sentiment_score
from emerging_issues
where list_contains($series, topic_key || '|' || segment_type || '|' || segment_value)
  and week_start <= $end
  and ($scope_chapter is null
       or (segment_type = 'chapter' and segment_value = $scope_chapter))
order by 1, 2
"""

ITEMS_BY_ID_SQL = """
select
    item_id, created_at, channel, member_tier, member_chapter, primary_topic,
    sentiment_label, urgency_level, summary, redacted_text
from fct_feedback
where list_contains($ids, item_id)
  and ($scope_chapter is null or member_chapter = $scope_chapter)
order by created_at desc, item_id
"""

REVIEW_QUEUE_SQL = """
select
    queue_rank, queue_reason, item_id, created_at, channel, source_name, member_tier,
    member_chapter, sentiment_label, sentiment_confidence, urgency_level, urgency_reasons,
    primary_topic, summary, redacted_text, enrichment_status, failure_reason, is_decided,
    latest_decision_at, case_action
from review_queue
where created_date between $start and $end
  and list_contains($channels, channel)
  and ($tiers is null or list_contains($tiers, member_tier))
  and ($chapters is null or list_contains($chapters, member_chapter))
  and ($topics is null or list_contains($topics, primary_topic))
  and ($reasons is null or list_contains($reasons, queue_reason))
  and ($scope_chapter is null or member_chapter = $scope_chapter)
order by is_decided, queue_rank
limit $limit
"""

QUEUE_ITEM_SQL = """
select q.item_id, q.queue_reason, q.sentiment_label, q.urgency_level, q.member_chapter,
       list(t.topic_key order by t.topic_key) filter (where t.topic_key is not null) as topics
from review_queue as q
left join fct_feedback_topics as t on t.item_id = q.item_id
where q.item_id = $item_id
  and ($scope_chapter is null or q.member_chapter = $scope_chapter)
group by all
"""

# Topic sentiment for the question box, by week and every segment column; the chosen segment
# is summed in pandas by a whitelisted column name.
QUESTION_SQL = """
select
    cast(date_trunc($grain, created_date) as date) as period_start,
    channel, member_tier, member_chapter,
    count(*) as item_count,
    count(*) filter (where topic_sentiment = 'positive') as positive_count,
    count(*) filter (where topic_sentiment = 'negative') as negative_count
from fct_feedback_topics
where created_date between $start and $end
  and ($topics is null or list_contains($topics, topic_key))
  and list_contains($channels, channel)
  and ($tiers is null or list_contains($tiers, member_tier))
  and ($chapters is null or list_contains($chapters, member_chapter))
  and ($scope_chapter is null or member_chapter = $scope_chapter)
group by all
order by 1
"""

# Board report: topic figures for the period and the one before it, with the latest item ids
# per sentiment as citations.
REPORT_TOPICS_SQL = """
with scoped as (
    select *, created_date >= $start as is_current
    from fct_feedback_topics
    where created_date between $prev_start and $end
      and list_contains($channels, channel)
      and ($tiers is null or list_contains($tiers, member_tier))
      and ($chapters is null or list_contains($chapters, member_chapter))
      and ($topics is null or list_contains($topics, topic_key))
      and ($scope_chapter is null or member_chapter = $scope_chapter)
)
select
    topic_key,
    any_value(topic_label) as topic_label,
    count(*) filter (where is_current) as items,
    count(*) filter (where is_current and topic_sentiment = 'positive') as positive,
    count(*) filter (where is_current and topic_sentiment = 'negative') as negative,
    count(*) filter (where not is_current) as prev_items,
    count(*) filter (where not is_current and topic_sentiment = 'positive') as prev_positive,
    count(*) filter (where not is_current and topic_sentiment = 'negative') as prev_negative,
    list_slice(list(item_id order by created_date desc, item_id)
        filter (where is_current and topic_sentiment = 'positive'), 1, 3) as positive_ids,
    list_slice(list(item_id order by created_date desc, item_id)
        filter (where is_current and topic_sentiment = 'negative'), 1, 3) as negative_ids
from scoped
group by topic_key
order by items desc, topic_key
"""

REPORT_SEGMENT_CONCERNS_SQL = """
select
    case when grouping(member_tier) = 0 then 'Member tier' else 'Chapter' end as dimension,
    coalesce(member_tier, member_chapter, 'Unknown') as segment,
    topic_key,
    any_value(topic_label) as topic_label,
    count(*) as negative_count,
    list_slice(list(item_id order by created_date desc, item_id), 1, 3) as item_ids
from fct_feedback_topics
where topic_sentiment = 'negative'
  and created_date between $start and $end
  and list_contains($channels, channel)
  and ($tiers is null or list_contains($tiers, member_tier))
  and ($chapters is null or list_contains($chapters, member_chapter))
  and ($topics is null or list_contains($topics, topic_key))
  and ($scope_chapter is null or member_chapter = $scope_chapter)
group by grouping sets ((member_tier, topic_key), (member_chapter, topic_key))
order by dimension, segment, negative_count desc, topic_key
"""

REPORT_EVIDENCE_SQL = """
select t.item_id, t.topic_key, t.evidence, f.redacted_text
from fct_feedback_topics as t
join fct_feedback as f on f.item_id = t.item_id
where list_contains($ids, t.item_id)
  and ($scope_chapter is null or t.member_chapter = $scope_chapter)
"""

# Statements that read no member rows (so carry no chapter predicate), and those that return
# item-level data (texts, summaries, evidence) which aggregate-only scopes may not read.
_UNSCOPED_SQL = frozenset({TOPICS_SQL})
_ITEM_LEVEL_SQL = frozenset(
    {
        HIGH_URGENCY_ITEMS_SQL,
        TOPIC_VERBATIMS_SQL,
        ITEMS_BY_ID_SQL,
        REVIEW_QUEUE_SQL,
        QUEUE_ITEM_SQL,
        REPORT_TOPICS_SQL,
        REPORT_SEGMENT_CONCERNS_SQL,
        REPORT_EVIDENCE_SQL,
    }
)
_PARAM = re.compile(r"\$([a-z_]+)")


class MartsUnavailable(RuntimeError):
    """The published marts file is missing, unreadable or lacks an expected table."""


@dataclass(frozen=True)
class Slice:
    """The filters a query applies. Empty tuples mean "no filter" (channels: every channel)."""

    start: date
    end: date
    channels: tuple[str, ...] = CHANNELS
    tiers: tuple[str, ...] = ()
    chapters: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()

    def params(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "channels": list(self.channels or CHANNELS),
            "tiers": list(self.tiers) or None,
            "chapters": list(self.chapters) or None,
            "topics": list(self.topics) or None,
        }


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


def app_state_path() -> Path:
    """The app's own state store: `$PULSE_HOME/app_state.sqlite`."""
    return paths().app_state


def marts_version(path: Path) -> int:
    """A value that changes whenever the publish step replaces the file (used in cache keys)."""
    return path.stat().st_mtime_ns


def _read(path: str, sql: str, scope: Scope, params: Mapping[str, object]) -> pd.DataFrame:
    """Run one constant statement under `scope`; the only way the app reads the marts."""
    if not isinstance(scope, Scope):
        raise AccessDenied("every query needs the signed-in user's scope")
    if "$scope_chapter" not in sql and sql not in _UNSCOPED_SQL:
        raise AccessDenied("statement without the chapter scope predicate refused")
    if sql in _ITEM_LEVEL_SQL and not scope.item_level:
        raise AccessDenied(f"{scope.username}'s role sees aggregates only, not individual items")
    bound = {**params, "scope_chapter": scope.chapter}
    used = set(_PARAM.findall(sql))
    missing = used - set(bound)
    if missing:
        raise ValueError(f"missing query parameters: {sorted(missing)}")
    try:
        with duckdb.connect(path, read_only=True, config=_CONNECTION_CONFIG) as con:
            return con.execute(sql, {k: v for k, v in bound.items() if k in used}).df()
    except duckdb.Error as exc:
        raise MartsUnavailable(f"Could not read the published marts at {path}: {exc}") from exc


# ------------------------------------------------------------------------------------------
# Cached loaders: (path, version, scope, ...) are the cache key; never read widgets in here.


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_date_bounds(path: str, version: int, scope: Scope) -> tuple[date, date] | None:
    """First and last day with data, or None when the marts hold no item (for this scope)."""
    frame = _read(path, DATE_BOUNDS_SQL, scope, {})
    first, last = frame.iloc[0]["first_date"], frame.iloc[0]["last_date"]
    if pd.isna(first) or pd.isna(last):
        return None
    return pd.Timestamp(first).date(), pd.Timestamp(last).date()


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_filter_options(path: str, version: int, scope: Scope) -> dict[str, list[str]]:
    frame = _read(path, FILTER_OPTIONS_SQL, scope, {})
    options: dict[str, list[str]] = {"tier": [], "chapter": []}
    for kind, value in frame.itertuples(index=False):
        if value is not None:
            options[kind].append(str(value))
    return options


@st.cache_data(ttl=300, show_spinner=False, max_entries=16)
def load_topics(path: str, version: int, scope: Scope) -> pd.DataFrame:
    return _read(path, TOPICS_SQL, scope, {})


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_kpis(path: str, version: int, scope: Scope, slice_: Slice) -> Kpis:
    row = _read(path, KPI_SQL, scope, slice_.params()).iloc[0]
    return Kpis(**{name: int(row[name]) for name in Kpis.__dataclass_fields__})


@st.cache_data(ttl=60, show_spinner="Loading sentiment…", max_entries=64)
def load_sentiment_over_time(
    path: str, version: int, scope: Scope, slice_: Slice, grain: str
) -> pd.DataFrame:
    part = GRAINS.get(grain, "day")
    return _read(path, SENTIMENT_OVER_TIME_SQL, scope, {**slice_.params(), "grain": part})


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_high_urgency_items(
    path: str, version: int, scope: Scope, slice_: Slice, limit: int = 50
) -> pd.DataFrame:
    return _read(path, HIGH_URGENCY_ITEMS_SQL, scope, {**slice_.params(), "limit": int(limit)})


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_movers(path: str, version: int, scope: Scope, slice_: Slice) -> pd.DataFrame:
    """Topics in the last 7 days of the slice vs. their weekly average in the 4 weeks before."""
    frame = _read(path, MOVERS_SQL, scope, slice_.params())
    frame["nss_change"] = frame["nss_this_week"] - frame["nss_before"]
    frame["volume_change"] = frame["items_this_week"] - frame["items_weekly_before"]
    frame["movement"] = frame["nss_change"].abs().fillna(0) + frame["volume_change"].abs()
    return frame.sort_values(["movement", "topic_key"], ascending=[False, True]).drop(
        columns="movement"
    )


@st.cache_data(ttl=60, show_spinner="Loading topics…", max_entries=64)
def load_topic_weekly(path: str, version: int, scope: Scope, slice_: Slice) -> pd.DataFrame:
    return _read(path, TOPIC_WEEKLY_SQL, scope, slice_.params())


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_topic_verbatims(
    path: str,
    version: int,
    scope: Scope,
    slice_: Slice,
    topic: str,
    sentiment: str | None = None,
    limit: int = 100,
) -> pd.DataFrame:
    params = {
        **slice_.params(),
        "topic": topic,
        "sentiment": sentiment if sentiment in SENTIMENTS else None,
        "limit": int(limit),
    }
    return _read(path, TOPIC_VERBATIMS_SQL, scope, params)


@st.cache_data(ttl=60, show_spinner="Loading segments…", max_entries=64)
def load_segments(path: str, version: int, scope: Scope, slice_: Slice) -> pd.DataFrame:
    return _read(path, SEGMENTS_SQL, scope, slice_.params())


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_emerging(path: str, version: int, scope: Scope, slice_: Slice) -> pd.DataFrame:
    frame = _read(path, EMERGING_SQL, scope, slice_.params())
    frame["series_key"] = (
        frame["topic_key"] + "|" + frame["segment_type"] + "|" + frame["segment_value"]
    )
    return frame


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_emerging_series(
    path: str, version: int, scope: Scope, series: tuple[str, ...], end: date
) -> pd.DataFrame:
    return _read(path, EMERGING_SERIES_SQL, scope, {"series": list(series), "end": end})


@st.cache_data(ttl=60, show_spinner=False, max_entries=64)
def load_items(path: str, version: int, scope: Scope, item_ids: tuple[str, ...]) -> pd.DataFrame:
    return _read(path, ITEMS_BY_ID_SQL, scope, {"ids": list(item_ids)})


@st.cache_data(ttl=30, show_spinner="Loading the queue…", max_entries=64)
def load_review_queue(
    path: str,
    version: int,
    scope: Scope,
    slice_: Slice,
    reasons: tuple[str, ...] = (),
    limit: int = 500,
) -> pd.DataFrame:
    params = {
        **slice_.params(),
        "reasons": [r for r in reasons if r in QUEUE_REASONS] or None,
        "limit": int(limit),
    }
    return _read(path, REVIEW_QUEUE_SQL, scope, params)


@st.cache_data(ttl=60, show_spinner="Answering…", max_entries=64)
def load_question_frame(
    path: str, version: int, scope: Scope, slice_: Slice, grain: str
) -> pd.DataFrame:
    part = GRAINS.get(grain, "week")
    return _read(path, QUESTION_SQL, scope, {**slice_.params(), "grain": part})


@st.cache_data(ttl=60, show_spinner="Writing the report…", max_entries=32)
def load_report_frames(
    path: str, version: int, scope: Scope, slice_: Slice
) -> dict[str, pd.DataFrame]:
    """Everything the board report needs for `slice_` and the equally long period before it."""
    length = (slice_.end - slice_.start).days + 1
    prev_start = slice_.start - timedelta(days=length)
    params = {**slice_.params(), "prev_start": prev_start}
    topics = _read(path, REPORT_TOPICS_SQL, scope, params)
    concerns = _read(path, REPORT_SEGMENT_CONCERNS_SQL, scope, slice_.params())
    cited: set[str] = set()
    for column in ("positive_ids", "negative_ids"):
        for ids in topics[column]:
            cited.update(_as_list(ids))
    for ids in concerns["item_ids"]:
        cited.update(_as_list(ids))
    evidence = _read(path, REPORT_EVIDENCE_SQL, scope, {"ids": sorted(cited)})
    previous = Slice(
        prev_start,
        slice_.start - timedelta(days=1),
        slice_.channels,
        slice_.tiers,
        slice_.chapters,
        slice_.topics,
    )
    kpis = _read(path, KPI_SQL, scope, slice_.params())
    prev_kpis = _read(path, KPI_SQL, scope, previous.params())
    return {
        "topics": topics,
        "concerns": concerns,
        "evidence": evidence,
        "kpis": kpis,
        "prev_kpis": prev_kpis,
    }


def _as_list(value: Any) -> list[str]:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return []
    return [str(v) for v in list(value)]


# ------------------------------------------------------------------------------------------
# Review decisions (the app's own SQLite store; app/state is never written to the marts).


class DecisionRejected(ValueError):
    """A decision that is not valid for the item (the message says why)."""


@dataclass(frozen=True)
class DecisionInput:
    item_id: str
    sentiment_label: str | None = None
    urgency_level: str | None = None
    topics: tuple[str, ...] | None = None
    case_action: str | None = None
    note: str | None = None
    known_topics: frozenset[str] = field(default_factory=frozenset)


def record_decision(
    path: str,
    scope: Scope,
    state: AppState,
    decision: DecisionInput,
    redact: Callable[[str], str],
) -> str:
    """Validate and store one review decision for `scope`'s user; returns the decision id.

    Only reviewers may decide, only on queue items their scope can see; a case may be approved
    or rejected only for items that are (or are corrected to) negative and high urgency; the
    note is redacted by `redact` before it is stored.
    """
    if not scope.can_review:
        raise AccessDenied(f"{scope.username} may not record review decisions")
    item = _read(path, QUEUE_ITEM_SQL, scope, {"item_id": decision.item_id})
    if item.empty:
        raise AccessDenied("this item is not in your review queue")
    row = item.iloc[0]
    if decision.sentiment_label not in (None, *SENTIMENTS):
        raise DecisionRejected(f"unknown sentiment {decision.sentiment_label!r}")
    if decision.urgency_level not in (None, *URGENCIES):
        raise DecisionRejected(f"unknown urgency {decision.urgency_level!r}")
    if decision.case_action not in (None, "approve", "reject"):
        raise DecisionRejected(f"unknown case action {decision.case_action!r}")
    topics = None
    if decision.topics is not None:
        unknown = [t for t in decision.topics if t not in decision.known_topics]
        if unknown:
            raise DecisionRejected(f"unknown topics: {', '.join(unknown)}")
        topics = tuple(dict.fromkeys(decision.topics))
    sentiment = decision.sentiment_label or row["sentiment_label"]
    urgency = decision.urgency_level or row["urgency_level"]
    if decision.case_action and not (sentiment == "negative" and urgency == "high"):
        raise DecisionRejected(
            "a follow-up case is only approved or rejected for negative, high-urgency items"
        )
    note = (decision.note or "").strip()
    stored_note = redact(note) if note else None
    if not any(
        (
            decision.sentiment_label,
            decision.urgency_level,
            topics is not None,
            decision.case_action,
            stored_note,
        )
    ):
        raise DecisionRejected("nothing to record: confirm, correct, or decide the case")
    return state.record(
        Decision(
            item_id=decision.item_id,
            decided_by=scope.username,
            sentiment_label=decision.sentiment_label,
            urgency_level=decision.urgency_level,
            topics=topics,
            case_action=decision.case_action,  # type: ignore[arg-type]
            note=stored_note,
        )
    )


def current_topics(path: str, scope: Scope, item_id: str) -> list[str]:
    """The topic keys the marts hold for a queue item (uncached: the form needs them fresh)."""
    frame = _read(path, QUEUE_ITEM_SQL, scope, {"item_id": item_id})
    if frame.empty:
        return []
    return _as_list(frame.iloc[0]["topics"])


# ------------------------------------------------------------------------------------------
# Query timing for bench/: each page's statements, run uncached against a marts file.


def page_queries(slice_: Slice, topic: str | None = None) -> dict[str, list[tuple[str, dict]]]:
    """The statements each page runs for `slice_` (what bench/app/page_queries.py times)."""
    p = slice_.params()
    week_part = {**p, "grain": "week"}
    prev_start = slice_.start - timedelta(days=(slice_.end - slice_.start).days + 1)
    return {
        "overview": [
            (KPI_SQL, p),
            (SENTIMENT_OVER_TIME_SQL, {**p, "grain": "day"}),
            (MOVERS_SQL, p),
            (HIGH_URGENCY_ITEMS_SQL, {**p, "limit": 50}),
        ],
        "topics": [
            (TOPIC_WEEKLY_SQL, p),
            (
                TOPIC_VERBATIMS_SQL,
                {**p, "topic": topic or "", "sentiment": None, "limit": 100},
            ),
        ],
        "segments": [(SEGMENTS_SQL, p)],
        "emerging": [(EMERGING_SQL, p)],
        "review_queue": [(REVIEW_QUEUE_SQL, {**p, "reasons": None, "limit": 500})],
        "board_report": [
            (REPORT_TOPICS_SQL, {**p, "prev_start": prev_start}),
            (REPORT_SEGMENT_CONCERNS_SQL, p),
        ],
        "ask": [(QUESTION_SQL, week_part)],
    }


def time_page_queries(
    path: str | Path,
    scope: Scope,
    slice_: Slice,
    *,
    repeats: int = 20,
    topic: str | None = None,
    pages: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Median and p95 wall time (ms) of each page's statements run in sequence, uncached.

    Each repeat opens a fresh read-only connection per statement, as the app does.
    """
    plan = page_queries(slice_, topic)
    rows = []
    for page in pages or plan:
        samples = []
        for _ in range(repeats):
            began = time.perf_counter()
            for sql, params in plan[page]:
                _read(str(path), sql, scope, params)
            samples.append((time.perf_counter() - began) * 1000)
        samples.sort()
        p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
        rows.append(
            {
                "page": page,
                "statements": len(plan[page]),
                "median_ms": round(statistics.median(samples), 1),
                "p95_ms": round(p95, 1),
                "repeats": repeats,
            }
        )
    return pd.DataFrame(rows)


def decided_since_publish(state: AppState, item_ids: Sequence[str]) -> dict[str, dict]:
    """The latest app-side decision per item (made since the last pipeline run or earlier)."""
    return state.latest_decisions(item_ids)
