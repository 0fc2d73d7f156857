"""The dashboard's queries against the published marts, the access rules they enforce, and the
pure helpers around them.

The app never touches the working warehouse: it reads `marts.duckdb`, which the publish step
replaces atomically after each dbt build (DESIGN.md rule 3). Queries run inside
`st.cache_data(ttl=60)` loaders on one short-lived read-only connection per page render
(`one_connection_per_render`, opened at the first uncached statement), so the app never holds
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
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar, copy_context
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from app.access import AccessDenied, Scope
from app.report import prev_window
from orchestration.lib.app_state import AppState, Decision
from orchestration.lib.config import Settings, paths
from orchestration.lib.enrichment.proposals import Candidate, Proposal, cluster_proposals
from orchestration.lib.taxonomy import Taxonomy, TaxonomyError, is_topic_key

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
# SQL. Each statement's filters: the slice ($start, $end, optional $channels, $tiers,
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

SEGMENT_NAMES_SQL = """
select segment_type, segment_code, segment_label from dim_segments
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
  and ($channels is null or list_contains($channels, channel))
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
  and ($channels is null or list_contains($channels, channel))
  and ($tiers is null or list_contains($tiers, member_tier))
  and ($chapters is null or list_contains($chapters, member_chapter))
  and ($topics is null or list_contains($topics, primary_topic))
  and ($scope_chapter is null or member_chapter = $scope_chapter)
group by 1, 2
order by 1, 2
"""

# Open = not decided in the marts yet (decisions made since the last run are removed by the
# caller from the app's own state store). Newest first, in two steps as every "latest items"
# list here: the newest $limit ids from narrow columns, then their texts joined on (item_id,
# created_date), so the second scan reads only the days those ids fall on (the join's date
# range prunes it). The first step ranks only items from `since`: the latest day from which
# the daily aggregate counts $limit more high-urgency items than the period has decided ones,
# so at least $limit open items lie there (created_date is monotonic in created_at).
HIGH_URGENCY_ITEMS_SQL = """
with decided as (
    select item_id from review_queue
    where is_decided and created_date between $start and $end
),
since as (
    select coalesce(
        max(created_date) filter (where high_since >= $limit + (select count(*) from decided)),
        cast($start as date)
    ) as day
    from (
        select created_date, sum(high) over (order by created_date desc) as high_since
        from (
            select created_date, sum(high_urgency_count) as high
            from agg_sentiment_daily
            where created_date between $start and $end
              and ($channels is null or list_contains($channels, channel))
              and ($tiers is null or list_contains($tiers, member_tier))
              and ($chapters is null or list_contains($chapters, member_chapter))
              and ($topics is null or list_contains($topics, primary_topic))
              and ($scope_chapter is null or member_chapter = $scope_chapter)
            group by created_date
        )
    )
),
open_items as (
    select f.item_id, f.created_date, f.created_at
    from fct_feedback as f
    left join decided as d on d.item_id = f.item_id
    where f.urgency_level = 'high'
      and d.item_id is null
      and f.created_date between $start and $end
      and f.created_date >= (select day from since)
      and ($channels is null or list_contains($channels, f.channel))
      and ($tiers is null or list_contains($tiers, f.member_tier))
      and ($chapters is null or list_contains($chapters, f.member_chapter))
      and ($topics is null or list_contains($topics, f.primary_topic))
      and ($scope_chapter is null or f.member_chapter = $scope_chapter)
    order by f.created_at desc, f.item_id
    limit $limit
)
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
from open_items as o
join fct_feedback as f on f.item_id = o.item_id and f.created_date = o.created_date
where f.created_date between $start and $end
order by f.created_at desc, f.item_id
"""

# The week's movers: topics in the 7 days ending on $end against their weekly average over the
# 28 days before (topic-level sentiment, so an item counts once per topic it mentions).
MOVERS_SQL = """
with weeks as (
    select
        topic_key,
        any_value(topic_label) as topic_label,
        cast(coalesce(sum(mention_count) filter (where this_week), 0) as bigint) as items,
        cast(coalesce(sum(positive_count) filter (where this_week), 0) as bigint) as positive,
        cast(coalesce(sum(negative_count) filter (where this_week), 0) as bigint) as negative,
        cast(coalesce(sum(mention_count) filter (where not this_week), 0) as bigint)
            as prev_items,
        cast(coalesce(sum(positive_count) filter (where not this_week), 0) as bigint)
            as prev_positive,
        cast(coalesce(sum(negative_count) filter (where not this_week), 0) as bigint)
            as prev_negative
    from (
        select *, created_date > cast($end as date) - 7 as this_week
        from agg_topic_sentiment_daily
        where created_date between cast($end as date) - 34 and $end
          and ($channels is null or list_contains($channels, channel))
          and ($tiers is null or list_contains($tiers, member_tier))
          and ($chapters is null or list_contains($chapters, member_chapter))
          and ($topics is null or list_contains($topics, topic_key))
          and ($scope_chapter is null or member_chapter = $scope_chapter)
    )
    group by topic_key
)
select
    topic_key,
    topic_label,
    items as items_this_week,
    round(prev_items / 4.0, 1) as items_weekly_before,
    round(100.0 * (positive - negative) / nullif(items, 0), 1) as nss_this_week,
    round(100.0 * (prev_positive - prev_negative) / nullif(prev_items, 0), 1) as nss_before
from weeks
where items > 0
"""

TOPIC_WEEKLY_SQL = """
with weekly as (
    select
        cast(date_trunc('week', created_date) as date) as week_start,
        topic_key,
        any_value(topic_label) as topic_label,
        cast(sum(mention_count) as bigint) as item_count,
        cast(sum(positive_count) as bigint) as positive_count,
        cast(sum(negative_count) as bigint) as negative_count
    from agg_topic_sentiment_daily
    where created_date between $start and $end
      and ($channels is null or list_contains($channels, channel))
      and ($tiers is null or list_contains($tiers, member_tier))
      and ($chapters is null or list_contains($chapters, member_chapter))
      and ($topics is null or list_contains($topics, topic_key))
      and ($scope_chapter is null or member_chapter = $scope_chapter)
    group by 1, 2
)
select
    *,
    round(100.0 * (positive_count - negative_count) / item_count, 1) as net_sentiment_score
from weekly
order by week_start, topic_key
"""

# The newest mentions of a topic with their item's text. created_date is monotonic in
# created_at, so the newest $limit mentions by created_at all fall on or after the day of the
# $limit-th newest mention by day: only those days' items are joined (on item_id and
# created_date, which prunes the item scan to them).
TOPIC_VERBATIMS_SQL = """
with mentions as (
    select item_id, created_date, channel, member_tier, member_chapter, topic_sentiment, evidence
    from fct_feedback_topics
    where topic_key = $topic
      and created_date between $start and $end
      and ($channels is null or list_contains($channels, channel))
      and ($tiers is null or list_contains($tiers, member_tier))
      and ($chapters is null or list_contains($chapters, member_chapter))
      and ($sentiment is null or topic_sentiment = $sentiment)
      and ($scope_chapter is null or member_chapter = $scope_chapter)
),
latest as (
    select * from mentions
    where created_date >= (
        select min(created_date) from (
            select created_date from mentions order by created_date desc limit $limit
        )
    )
)
select
    t.item_id,
    f.created_at,
    t.channel,
    t.member_tier,
    t.member_chapter,
    t.topic_sentiment,
    t.evidence,
    f.redacted_text
from latest as t
join fct_feedback as f on f.item_id = t.item_id and f.created_date = t.created_date
where f.created_date between $start and $end
order by f.created_at desc, t.item_id
limit $limit
"""

# Every segment dimension in one scan: the period's items are counted per combination of the
# four segment columns (a few hundred rows), which the grouping sets then roll up; `dimension`
# names the grouped column.
SEGMENTS_SQL = """
with combinations as (
    select
        member_tier, member_chapter, member_tenure_band, member_renewal_window,
        count(*) as item_count,
        count(sentiment_label) as labelled_count,
        count(*) filter (where sentiment_label = 'positive') as positive_count,
        count(*) filter (where sentiment_label = 'negative') as negative_count,
        count(*) filter (where urgency_level = 'high') as high_urgency_count
    from fct_feedback
    where created_date between $start and $end
      and ($channels is null or list_contains($channels, channel))
      and ($tiers is null or list_contains($tiers, member_tier))
      and ($chapters is null or list_contains($chapters, member_chapter))
      and ($topics is null or list_contains($topics, primary_topic))
      and ($scope_chapter is null or member_chapter = $scope_chapter)
    group by all
),
rolled as (
    select
        case
            when grouping(member_tier) = 0 then 'member_tier'
            when grouping(member_chapter) = 0 then 'member_chapter'
            when grouping(member_tenure_band) = 0 then 'member_tenure_band'
            else 'member_renewal_window'
        end as dimension,
        coalesce(member_tier, member_chapter, member_tenure_band, member_renewal_window,
                 'Unknown') as segment,
        cast(sum(item_count) as bigint) as item_count,
        cast(sum(labelled_count) as bigint) as labelled_count,
        cast(sum(positive_count) as bigint) as positive_count,
        cast(sum(negative_count) as bigint) as negative_count,
        cast(sum(high_urgency_count) as bigint) as high_urgency_count
    from combinations
    group by grouping sets ((member_tier), (member_chapter), (member_tenure_band),
                            (member_renewal_window))
)
select
    *,
    round(100.0 * (positive_count - negative_count) / nullif(labelled_count, 0), 1)
        as net_sentiment_score
from rolled
order by dimension, segment
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

# The queue's first $limit items, in the queue's order (the review_queue mart stores its sort
# keys, not a rank every new item would shift): undecided first, then priority, confidence,
# newest. Sorted on narrow columns, then their texts joined on (item_id, created_date) so only
# the days they fall on are read (see HIGH_URGENCY_ITEMS_SQL). queue_rank is the place in
# this list.
REVIEW_QUEUE_SQL = """
with first_items as (
    select item_id, created_date,
        row_number() over (
            order by is_decided, queue_priority, queue_confidence, created_at desc, item_id
        ) as queue_rank
    from (
        select item_id, created_date, is_decided, queue_priority, queue_confidence, created_at
        from review_queue
        where created_date between $start and $end
          and ($channels is null or list_contains($channels, channel))
          and ($tiers is null or list_contains($tiers, member_tier))
          and ($chapters is null or list_contains($chapters, member_chapter))
          and ($topics is null or list_contains($topics, primary_topic))
          and ($reasons is null or list_contains($reasons, queue_reason))
          and ($scope_chapter is null or member_chapter = $scope_chapter)
        order by is_decided, queue_priority, queue_confidence, created_at desc, item_id
        limit $limit
    )
)
select
    r.queue_rank, q.queue_reason, q.item_id, q.created_at, q.channel, q.source_name,
    q.member_tier, q.member_chapter, q.sentiment_label, q.sentiment_confidence,
    q.urgency_level, q.urgency_reasons, q.primary_topic, q.summary, q.redacted_text,
    q.enrichment_status, q.failure_reason, q.is_decided, q.latest_decision_at, q.case_action
from first_items as r
join review_queue as q on q.item_id = r.item_id and q.created_date = r.created_date
where q.created_date between $start and $end
order by r.queue_rank
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
    cast(sum(mention_count) as bigint) as item_count,
    cast(sum(positive_count) as bigint) as positive_count,
    cast(sum(negative_count) as bigint) as negative_count
from agg_topic_sentiment_daily
where created_date between $start and $end
  and ($topics is null or list_contains($topics, topic_key))
  and ($channels is null or list_contains($channels, channel))
  and ($tiers is null or list_contains($tiers, member_tier))
  and ($chapters is null or list_contains($chapters, member_chapter))
  and ($scope_chapter is null or member_chapter = $scope_chapter)
group by all
order by 1
"""

# Board report: topic figures for the period and the one before it (from the daily topic
# aggregate), with the latest three item ids per topic and sentiment as citations: newest first,
# ties by item id (`min_by(..., 3)` on (days before 9999-12-31, item id)). Only mentions from
# the day each topic and sentiment's latest three can begin on are ranked, not every mention of
# the period: the third-latest day with such mentions (a day holds at least one, so the three
# never begin earlier; the latest three are the same whichever such bound is used).
REPORT_TOPICS_SQL = """
with daily as (
    select
        created_date,
        topic_key,
        any_value(topic_label) as topic_label,
        sum(mention_count) as mentions,
        sum(positive_count) as positive,
        sum(negative_count) as negative
    from agg_topic_sentiment_daily
    where created_date between $prev_start and $end
      and ($channels is null or list_contains($channels, channel))
      and ($tiers is null or list_contains($tiers, member_tier))
      and ($chapters is null or list_contains($chapters, member_chapter))
      and ($topics is null or list_contains($topics, topic_key))
      and ($scope_chapter is null or member_chapter = $scope_chapter)
    group by created_date, topic_key
),
counts as (
    select
        topic_key,
        any_value(topic_label) as topic_label,
        cast(coalesce(sum(mentions) filter (where created_date >= $start), 0) as bigint)
            as items,
        cast(coalesce(sum(positive) filter (where created_date >= $start), 0) as bigint)
            as positive,
        cast(coalesce(sum(negative) filter (where created_date >= $start), 0) as bigint)
            as negative,
        cast(coalesce(sum(mentions) filter (where created_date < $start), 0) as bigint)
            as prev_items,
        cast(coalesce(sum(positive) filter (where created_date < $start), 0) as bigint)
            as prev_positive,
        cast(coalesce(sum(negative) filter (where created_date < $start), 0) as bigint)
            as prev_negative
    from daily
    group by topic_key
),
since as (
    select topic_key, 'positive' as topic_sentiment,
        list_min(max(created_date, 3) filter (where positive > 0)) as day
    from daily
    where created_date >= $start
    group by topic_key
    union all
    select topic_key, 'negative', list_min(max(created_date, 3) filter (where negative > 0))
    from daily
    where created_date >= $start
    group by topic_key
),
cited as (
    select
        t.topic_key,
        min_by(t.item_id, (date '9999-12-31' - t.created_date, t.item_id), 3)
            filter (where t.topic_sentiment = 'positive') as positive_ids,
        min_by(t.item_id, (date '9999-12-31' - t.created_date, t.item_id), 3)
            filter (where t.topic_sentiment = 'negative') as negative_ids,
        list_distinct(list_concat(
            coalesce(min_by(t.created_date, (date '9999-12-31' - t.created_date, t.item_id), 3)
                filter (where t.topic_sentiment = 'positive'), []),
            coalesce(min_by(t.created_date, (date '9999-12-31' - t.created_date, t.item_id), 3)
                filter (where t.topic_sentiment = 'negative'), [])
        )) as cited_days
    from fct_feedback_topics as t
    join since on since.topic_key = t.topic_key and since.topic_sentiment = t.topic_sentiment
    where t.created_date >= since.day
      -- the earliest of those days as a constant too, so the scan skips the days before it
      and t.created_date >= (select min(day) from since)
      and t.created_date between $start and $end
      and ($channels is null or list_contains($channels, t.channel))
      and ($tiers is null or list_contains($tiers, t.member_tier))
      and ($chapters is null or list_contains($chapters, t.member_chapter))
      and ($topics is null or list_contains($topics, t.topic_key))
      and ($scope_chapter is null or t.member_chapter = $scope_chapter)
    group by t.topic_key
)
select counts.*, cited.positive_ids, cited.negative_ids, cited.cited_days
from counts
left join cited on cited.topic_key = counts.topic_key
order by items desc, topic_key
"""

# Negative mentions per (tier, topic) and (chapter, topic), counted from the daily topic
# aggregate (first summed over channels), with the latest three item ids of each (newest first,
# ties by item id, as above; ranked only from the earliest day on which some group's latest three
# can begin: its third-latest day with negative mentions, each row holding at least one).
REPORT_SEGMENT_CONCERNS_SQL = """
with daily as (
    select
        member_tier, member_chapter, topic_key, created_date,
        any_value(topic_label) as topic_label,
        sum(negative_count) as negative
    from agg_topic_sentiment_daily
    where negative_count > 0
      and created_date between $start and $end
      and ($channels is null or list_contains($channels, channel))
      and ($tiers is null or list_contains($tiers, member_tier))
      and ($chapters is null or list_contains($chapters, member_chapter))
      and ($topics is null or list_contains($topics, topic_key))
      and ($scope_chapter is null or member_chapter = $scope_chapter)
    group by all
),
counts as (
    select
        case when grouping(member_tier) = 0 then 'Member tier' else 'Chapter' end as dimension,
        coalesce(member_tier, member_chapter, 'Unknown') as segment,
        topic_key,
        any_value(topic_label) as topic_label,
        cast(sum(negative) as bigint) as negative_count,
        list_min(max(created_date, 3)) as since
    from daily
    group by grouping sets ((member_tier, topic_key), (member_chapter, topic_key))
),
cited as (
    select
        case when grouping(member_tier) = 0 then 'Member tier' else 'Chapter' end as dimension,
        coalesce(member_tier, member_chapter, 'Unknown') as segment,
        topic_key,
        min_by(item_id, (date '9999-12-31' - created_date, item_id), 3) as item_ids,
        list_distinct(min_by(created_date, (date '9999-12-31' - created_date, item_id), 3))
            as cited_days
    from fct_feedback_topics
    where topic_sentiment = 'negative'
      and created_date between $start and $end
      and created_date >= (select min(since) from counts)
      and ($channels is null or list_contains($channels, channel))
      and ($tiers is null or list_contains($tiers, member_tier))
      and ($chapters is null or list_contains($chapters, member_chapter))
      and ($topics is null or list_contains($topics, topic_key))
      and ($scope_chapter is null or member_chapter = $scope_chapter)
    group by grouping sets ((member_tier, topic_key), (member_chapter, topic_key))
)
select
    counts.dimension, counts.segment, counts.topic_key, counts.topic_label,
    counts.negative_count, cited.item_ids, cited.cited_days
from counts
left join cited
    on cited.dimension = counts.dimension
    and cited.segment = counts.segment
    and cited.topic_key = counts.topic_key
order by dimension, segment, negative_count desc, topic_key
"""

# The cited items' evidence and texts. The days the citations fall on (the statements above
# return them as cited_days) come as two ranges split at their longest gap, so with the join on
# (item_id, created_date) both scans read only those days' row groups: one topic's citations can
# lie months before all the others'.
REPORT_EVIDENCE_SQL = """
with cited as (
    select t.item_id, t.topic_key, t.evidence, t.created_date
    from fct_feedback_topics as t
    join (select unnest($ids) as item_id) as ids on ids.item_id = t.item_id
    where (t.created_date between $first_start and $first_end
           or t.created_date between $second_start and $second_end)
      and ($scope_chapter is null or t.member_chapter = $scope_chapter)
)
select c.item_id, c.topic_key, c.evidence, f.redacted_text
from cited as c
join fct_feedback as f on f.item_id = c.item_id and f.created_date = c.created_date
where (f.created_date between $first_start and $first_end
       or f.created_date between $second_start and $second_end)
"""

# The model's proposed topics in the period: per proposal, its name, items and newest evidence.
PROPOSALS_SQL = """
select
    topic_key,
    max(proposed_label) as label,
    count(distinct item_id) as item_count,
    list(evidence order by created_date desc, item_id)[1:3] as evidence
from fct_feedback_topics
where is_proposed
  and created_date between $start and $end
  and ($channels is null or list_contains($channels, channel))
  and ($tiers is null or list_contains($tiers, member_tier))
  and ($chapters is null or list_contains($chapters, member_chapter))
  and ($scope_chapter is null or member_chapter = $scope_chapter)
group by topic_key
order by item_count desc, topic_key
"""

# Statements that read no member rows (so carry no chapter predicate), and those that return
# item-level data (texts, summaries, evidence) which aggregate-only scopes may not read.
_UNSCOPED_SQL = frozenset({TOPICS_SQL, SEGMENT_NAMES_SQL})
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
        PROPOSALS_SQL,
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
            # Every channel is no filter at all (the marts accept no other channel): the
            # statements then skip a per-row channel test, 10-20 ms a scan at 1M items.
            "channels": None
            if set(CHANNELS) <= set(self.channels or CHANNELS)
            else list(self.channels),
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


# The overview's NSS line per day is a ROLLING_DAYS-day rolling NSS once the period is longer
# than ROLLING_AFTER_DAYS days (a few items a day per channel make a daily score noise).
ROLLING_DAYS = 7
ROLLING_AFTER_DAYS = 14


def rolling_nss(
    daily: pd.DataFrame, start: date, end: date, days: int = ROLLING_DAYS
) -> pd.DataFrame:
    """Per channel and day from `start` to `end`, the NSS of the `days` days ending that day.

    `daily` holds SENTIMENT_OVER_TIME_SQL rows per day, from `days - 1` days before `start`.
    Scores are recomputed from the window's summed counts, never averaged from daily scores;
    days without items count zero, and a window without labelled items has no score.
    """
    counts = ["item_count", "labelled_count", "positive_count", "negative_count"]
    calendar = pd.date_range(pd.Timestamp(start) - pd.Timedelta(days=days - 1), end, freq="D")
    frames = []
    for channel, rows in daily.groupby("channel", sort=True):
        per_day = (
            rows.assign(period_start=pd.to_datetime(rows["period_start"]))
            .groupby("period_start")[counts]
            .sum()
            .reindex(calendar, fill_value=0)
        )
        window = per_day.rolling(days, min_periods=1).sum().loc[pd.Timestamp(start) :]
        window = window.astype("int64").rename_axis("period_start").reset_index()
        window.insert(1, "channel", channel)
        labelled = window["labelled_count"].where(window["labelled_count"] > 0)
        window["net_sentiment_score"] = (
            100.0 * (window["positive_count"] - window["negative_count"]) / labelled
        ).round(1)
        frames.append(window)
    if not frames:
        return daily.iloc[0:0]
    return pd.concat(frames, ignore_index=True)


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
        with _connection(path) as con:
            return con.execute(sql, {k: v for k, v in bound.items() if k in used}).df()
    except duckdb.Error as exc:
        raise MartsUnavailable(f"Could not read the published marts at {path}: {exc}") from exc


# The read-only connections of the page render in progress, by marts path; None outside one.
_RENDER_CONNECTIONS: ContextVar[dict[str, duckdb.DuckDBPyConnection] | None] = ContextVar(
    "pulse_render_connections", default=None
)


@contextmanager
def one_connection_per_render() -> Iterator[None]:
    """Statements read inside this block share one read-only connection per marts file.

    Opening a connection (a new DuckDB instance reading the file's catalog) costs more than most
    of the dashboard's statements, so the entry point wraps each page render in this block. The
    connection opens at the first uncached statement and closes when the render ends: the app
    still never holds the file between reruns, and one render reads one version of the marts
    even when a publish swaps the file mid-render.
    """
    if _RENDER_CONNECTIONS.get() is not None:  # inside one already: share its connections
        yield
        return
    opened: dict[str, duckdb.DuckDBPyConnection] = {}
    token = _RENDER_CONNECTIONS.set(opened)
    try:
        yield
    finally:
        _RENDER_CONNECTIONS.reset(token)
        for con in opened.values():
            con.close()


# Guards the first opening of a render's connection: its statements may start on several
# threads at once.
_OPENING = threading.Lock()


@contextmanager
def _connection(path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """The render's connection to `path`; outside a render (a widget callback, a script) one
    connection for this statement alone."""
    opened = _RENDER_CONNECTIONS.get()
    if opened is None:
        with duckdb.connect(path, read_only=True, config=_CONNECTION_CONFIG) as con:
            yield con
        return
    with _OPENING:
        if path not in opened:
            opened[path] = duckdb.connect(path, read_only=True, config=_CONNECTION_CONFIG)
        con = opened[path]
    # A cursor per statement: a render's statements may run on several threads at once (the
    # board report), and one DuckDB connection object must not be shared between threads.
    cursor = con.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


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
def load_segment_names(path: str, version: int, scope: Scope) -> dict[str, dict[str, str]]:
    """{'tier' | 'chapter': {code: name}} from dim_segments."""
    names: dict[str, dict[str, str]] = {"tier": {}, "chapter": {}}
    for kind, code, label in _read(path, SEGMENT_NAMES_SQL, scope, {}).itertuples(index=False):
        names.setdefault(kind, {})[code] = label
    return names


# Columns of the marts that hold a segment code, and the kind of code.
SEGMENT_CODE_COLUMNS = {"member_tier": "tier", "member_chapter": "chapter"}


def name_segments(frame: pd.DataFrame, names: Mapping[str, Mapping[str, str]]) -> pd.DataFrame:
    """`frame` for display, with tier and chapter codes replaced by their names.

    Handles the three shapes the pages show: code columns (member_tier, member_chapter),
    segments by dimension (dimension + segment), and emerging issues (segment_type +
    segment_value). Codes stay the keys everywhere else (filters, scopes, the marts)."""
    frame = frame.copy()
    for column, kind in SEGMENT_CODE_COLUMNS.items():
        if column in frame:
            frame[column] = frame[column].map(lambda c, k=kind: names.get(k, {}).get(c, c))
    # a dimension is named by its column (member_tier), its label ('Member tier') or its kind
    kind_of = {**SEGMENT_CODE_COLUMNS, **{SEGMENTS[c]: k for c, k in SEGMENT_CODE_COLUMNS.items()}}
    for kind_column, value_column in (("dimension", "segment"), ("segment_type", "segment_value")):
        if kind_column in frame and value_column in frame:
            kinds = frame[kind_column].map(lambda d: kind_of.get(d, d))
            frame[value_column] = [
                names.get(k, {}).get(v, v) for k, v in zip(kinds, frame[value_column], strict=True)
            ]
    return frame


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
    return report_frames(path, scope, slice_)


def report_frames(path: str, scope: Scope, slice_: Slice) -> dict[str, pd.DataFrame]:
    """Everything the board report needs for `slice_` and the equally long period before it
    (uncached: its statements depend on each other, so bench/app times the page with this).

    The four statements that need nothing from another run at once, on cursors of one
    connection: each alone leaves a core idle for part of its run (small final aggregations,
    turning results into frames), so together they take about 35 ms (an eighth) less for a
    12-month report at 1M items. The evidence lookup then needs their citations."""
    prev_start, prev_end = prev_window(slice_.start, slice_.end)
    previous = replace(slice_, start=prev_start, end=prev_end)
    independent = {
        "topics": (REPORT_TOPICS_SQL, {**slice_.params(), "prev_start": prev_start}),
        "concerns": (REPORT_SEGMENT_CONCERNS_SQL, slice_.params()),
        "kpis": (KPI_SQL, slice_.params()),
        "prev_kpis": (KPI_SQL, previous.params()),
    }
    with one_connection_per_render():
        with ThreadPoolExecutor(len(independent)) as pool:
            # Each task runs in a copy of this context, so it reads on the render's connection.
            running = {
                name: pool.submit(copy_context().run, _read, path, sql, scope, params)
                for name, (sql, params) in independent.items()
            }
            frames = {name: task.result() for name, task in running.items()}
        cited: set[str] = set()
        days: set[date] = set()
        for frame, columns in (
            (frames["topics"], ("positive_ids", "negative_ids")),
            (frames["concerns"], ("item_ids",)),
        ):
            for column in columns:
                for ids in frame[column]:
                    cited.update(_as_list(ids))
            for cited_days in frame["cited_days"]:
                days.update(pd.Timestamp(d).date() for d in _as_list_raw(cited_days))
        (first_start, first_end), (second_start, second_end) = _two_ranges(
            sorted(days) or [slice_.start]
        )
        frames["evidence"] = _read(
            path,
            REPORT_EVIDENCE_SQL,
            scope,
            {
                "ids": sorted(cited),
                "first_start": first_start,
                "first_end": first_end,
                "second_start": second_start,
                "second_end": second_end,
            },
        )
    return frames


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in _as_list_raw(value)]


def _as_list_raw(value: Any) -> list[Any]:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return []
    return list(value)


def _two_ranges(days: Sequence[date]) -> tuple[tuple[date, date], tuple[date, date]]:
    """Sorted `days` as two ranges of days covering them all, split at the longest gap between
    two of them (both the same range when there is no gap)."""
    if len(days) < 2:
        return (days[0], days[-1]), (days[0], days[-1])
    split = max(range(1, len(days)), key=lambda i: days[i] - days[i - 1])
    return (days[0], days[split - 1]), (days[split], days[-1])


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


@st.cache_data(ttl=60, show_spinner=False, max_entries=32)
def load_topic_candidates(
    path: str, version: int, scope: Scope, slice_: Slice, taxonomy_version: str
) -> list[Candidate]:
    """The period's proposed topics grouped into candidates, those already promoted left out.

    `taxonomy_version` is part of the cache key: a promotion changes it, so the list refreshes.
    """
    frame = _read(path, PROPOSALS_SQL, scope, slice_.params())
    promoted = AppState(app_state_path()).promoted_proposals()
    proposals = [
        Proposal(
            row.topic_key,
            row.label or row.topic_key,
            int(row.item_count),
            tuple(_as_list(row.evidence)),
        )
        for row in frame.itertuples(index=False)
        if row.topic_key not in promoted
    ]
    return cluster_proposals(proposals, current_taxonomy())


def current_taxonomy() -> Taxonomy:
    """The taxonomy labelling runs use now: the configured file plus promoted topics."""
    promoted = AppState(app_state_path()).promoted_topics()
    return Taxonomy.load(Settings.from_env().taxonomy_file).with_topics(promoted)


@dataclass(frozen=True)
class Promotion:
    key: str
    label: str
    description: str
    examples: tuple[str, ...]
    proposals: tuple[str, ...]


def promote_topic(
    scope: Scope, state: AppState, promotion: Promotion, redact: Callable[[str], str]
) -> Taxonomy:
    """Add a candidate to the taxonomy for every later labelling run; returns the new taxonomy.

    Only leadership may change the taxonomy. The label, description and examples are redacted
    like any text staff type (they become part of every model prompt), and the result must
    validate as a taxonomy (a snake_case key not in use, 1-20 examples) before it is stored.
    """
    if not scope.can_edit_taxonomy:
        raise AccessDenied(f"{scope.username} may not change the taxonomy")
    if not is_topic_key(promotion.key):
        raise DecisionRejected(
            f"{promotion.key!r} is not a topic key: lowercase words joined by underscores"
        )
    entry = {
        "key": promotion.key,
        "label": redact(promotion.label.strip()),
        "description": redact(promotion.description.strip()),
        "examples": [redact(e.strip()) for e in promotion.examples if e.strip()],
    }
    try:
        taxonomy = current_taxonomy().with_topics([entry], source="the promoted topic")
    except TaxonomyError as exc:
        raise DecisionRejected(str(exc)) from None
    state.promote_topic(
        key=entry["key"],
        label=entry["label"],
        description=entry["description"],
        examples=entry["examples"],
        proposals=promotion.proposals,
        promoted_by=scope.username,
    )
    return taxonomy


def current_topics(path: str, scope: Scope, item_id: str) -> list[str]:
    """The topic keys the marts hold for a queue item (uncached: the form needs them fresh)."""
    frame = _read(path, QUEUE_ITEM_SQL, scope, {"item_id": item_id})
    if frame.empty:
        return []
    return _as_list(frame.iloc[0]["topics"])


# ------------------------------------------------------------------------------------------
# Query timing for bench/: each page's statements, run uncached against a marts file.


def page_queries(slice_: Slice, topic: str | None = None) -> dict[str, list[tuple[str, dict]]]:
    """The statements each page runs for `slice_` (what bench/app/page_queries.py times); the
    board report's depend on each other's results, so it is timed through `report_frames`."""
    p = slice_.params()
    week_part = {**p, "grain": "week"}
    days = (slice_.end - slice_.start).days + 1
    # the overview's daily chart reads ROLLING_DAYS - 1 days more for a rolling line
    lead_in = ROLLING_DAYS - 1 if days > ROLLING_AFTER_DAYS else 0
    return {
        "overview": [
            (KPI_SQL, p),
            (
                SENTIMENT_OVER_TIME_SQL,
                {**p, "start": slice_.start - timedelta(days=lead_in), "grain": "day"},
            ),
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
        "ask": [(QUESTION_SQL, week_part)],
    }


def decided_since_publish(state: AppState, item_ids: Sequence[str]) -> dict[str, dict]:
    """The latest app-side decision per item (made since the last pipeline run or earlier)."""
    return state.latest_decisions(item_ids)
