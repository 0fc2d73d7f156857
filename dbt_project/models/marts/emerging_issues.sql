-- One row per week x topic x segment (segment_type 'all' | 'tier' | 'chapter'), for every week
-- of data and every (topic, segment) series seen: weeks with no mention are kept as zeros, so
-- a quiet series' baseline is honest. Compares each week with its trailing baseline (the
-- `spike_baseline_weeks` weeks before it) and flags a spike when negative mentions jump and
-- sentiment drops:
--
--   robust_z = (negative_count - median(baseline negative counts))
--              / max(1.4826 * MAD(baseline negative counts), sqrt(max(median, 1)))
--
-- MAD = median absolute deviation; 1.4826 * MAD estimates a standard deviation robustly (an
-- earlier spike in the baseline barely moves it). The sqrt floor is the Poisson noise of a
-- count: sparse series (MAD 0) would otherwise flag every single extra item.
-- A count spike alone also fires when a topic's whole volume rises (renewal season, the weeks
-- around the conference) with the usual share of complaints, so the week's negative SHARE must
-- also stand above the baseline's, as a binomial z-score over the labelled mentions:
--
--   share_z = (negative_count - labelled_count * p0) / sqrt(labelled_count * p0 * (1 - p0)),
--   p0 = (baseline negatives + 1) / (baseline labelled mentions + 3)
--
-- (p0 is pulled towards one in three, so a baseline with few or no mentions neither divides by
-- zero nor makes a single negative look significant.)
-- is_spike = robust_z >= spike_z_threshold and share_z >= spike_min_share_z
--            and negative_count >= spike_min_negative_items
--            and NSS - baseline NSS (0 when the baseline has no labelled mention)
--            <= -spike_min_nss_drop and the baseline has at least spike_min_baseline_weeks weeks.
-- Weeks start on the engine's week start (Monday on DuckDB, Postgres and Snowflake's default).

{%- set baseline_weeks = var('spike_baseline_weeks') | int %}

with

topics as (

    select * from {{ ref('fct_feedback_topics') }}

),

feedback as (

    select * from {{ ref('fct_feedback') }}

),

topic_labels as (

    select topic_key, topic_label from {{ ref('dim_topics') }}

),

mentions as (

    select
        item_id,
        topic_key,
        topic_sentiment,
        urgency_level,
        member_tier,
        member_chapter,
        {{ dbt.cast(dbt.date_trunc('week', 'created_date'), api.Column.translate_type('date')) }}
            as week_start
    from topics

),

segmented as (

    select week_start, topic_key, 'all' as segment_type, 'all' as segment_value,
        item_id, topic_sentiment, urgency_level
    from mentions
    union all
    select week_start, topic_key, 'tier' as segment_type, member_tier as segment_value,
        item_id, topic_sentiment, urgency_level
    from mentions
    union all
    select week_start, topic_key, 'chapter' as segment_type, member_chapter as segment_value,
        item_id, topic_sentiment, urgency_level
    from mentions

),

weekly as (

    select
        week_start,
        topic_key,
        segment_type,
        segment_value,
        count(*) as item_count,
        sum(case when topic_sentiment = 'positive' then 1 else 0 end) as positive_count,
        sum(case when topic_sentiment = 'negative' then 1 else 0 end) as negative_count,
        sum(case when topic_sentiment in ('positive', 'neutral', 'negative')
            then 1 else 0 end) as labelled_count
    from segmented
    group by week_start, topic_key, segment_type, segment_value

),

weeks as (

    select distinct
        {{ dbt.cast(dbt.date_trunc('week', 'created_date'), api.Column.translate_type('date')) }}
            as week_start
    from feedback

),

series as (

    select distinct topic_key, segment_type, segment_value
    from weekly

),

filled as (

    select
        weeks.week_start,
        series.topic_key,
        series.segment_type,
        series.segment_value,
        coalesce(weekly.item_count, 0) as item_count,
        coalesce(weekly.positive_count, 0) as positive_count,
        coalesce(weekly.negative_count, 0) as negative_count,
        coalesce(weekly.labelled_count, 0) as labelled_count
    from weeks
    cross join series
    left join weekly
        on weeks.week_start = weekly.week_start
        and series.topic_key = weekly.topic_key
        and series.segment_type = weekly.segment_type
        and series.segment_value = weekly.segment_value

),

baseline_pairs as (

    select
        current_week.week_start,
        current_week.topic_key,
        current_week.segment_type,
        current_week.segment_value,
        baseline_week.item_count,
        baseline_week.positive_count,
        baseline_week.negative_count,
        baseline_week.labelled_count
    from filled as current_week
    inner join filled as baseline_week
        on current_week.topic_key = baseline_week.topic_key
        and current_week.segment_type = baseline_week.segment_type
        and current_week.segment_value = baseline_week.segment_value
        and baseline_week.week_start < current_week.week_start
        and baseline_week.week_start >= {{ dbt.dateadd('day', -7 * baseline_weeks, 'current_week.week_start') }}

),

baseline as (

    select
        week_start,
        topic_key,
        segment_type,
        segment_value,
        count(*) as baseline_weeks,
        {{ median('item_count') }} as baseline_item_count,
        {{ median('negative_count') }} as baseline_negative_median,
        sum(positive_count) as baseline_positive_count,
        sum(negative_count) as baseline_negative_count,
        sum(labelled_count) as baseline_labelled_count
    from baseline_pairs
    group by week_start, topic_key, segment_type, segment_value

),

baseline_deviation as (

    select
        baseline_pairs.week_start,
        baseline_pairs.topic_key,
        baseline_pairs.segment_type,
        baseline_pairs.segment_value,
        {{ median('abs(baseline_pairs.negative_count - baseline.baseline_negative_median)') }}
            as baseline_negative_mad
    from baseline_pairs
    inner join baseline
        on baseline_pairs.week_start = baseline.week_start
        and baseline_pairs.topic_key = baseline.topic_key
        and baseline_pairs.segment_type = baseline.segment_type
        and baseline_pairs.segment_value = baseline.segment_value
    group by
        baseline_pairs.week_start,
        baseline_pairs.topic_key,
        baseline_pairs.segment_type,
        baseline_pairs.segment_value

),

evidence_ranked as (

    -- The most representative items of a week x topic x segment: negative first, then high
    -- urgency, then medium, then the newest item id (a stable tie-break).
    select
        week_start,
        topic_key,
        segment_type,
        segment_value,
        item_id,
        row_number() over (
            partition by week_start, topic_key, segment_type, segment_value
            order by
                case when topic_sentiment = 'negative' then 0 else 1 end,
                case urgency_level when 'high' then 0 when 'medium' then 1 else 2 end,
                item_id desc
        ) as evidence_rank
    from segmented

),

evidence as (

    select
        week_start,
        topic_key,
        segment_type,
        segment_value,
        {{ dbt.listagg('item_id', "','", 'order by evidence_rank') }} as evidence_item_ids
    from evidence_ranked
    where evidence_rank <= 5
    group by week_start, topic_key, segment_type, segment_value

),

scored as (

    select
        filled.*,
        coalesce(baseline.baseline_weeks, 0) as baseline_weeks,
        baseline.baseline_item_count,
        baseline.baseline_negative_median,
        baseline_deviation.baseline_negative_mad,
        {{ net_sentiment_score('filled.positive_count', 'filled.negative_count', 'filled.labelled_count') }}
            as net_sentiment_score,
        {{ net_sentiment_score(
            'baseline.baseline_positive_count',
            'baseline.baseline_negative_count',
            'baseline.baseline_labelled_count'
        ) }} as baseline_nss,
        (filled.negative_count - baseline.baseline_negative_median)
            / greatest(
                1.4826 * baseline_deviation.baseline_negative_mad,
                sqrt(greatest(baseline.baseline_negative_median, 1.0))
            ) as raw_robust_z,
        (baseline.baseline_negative_count + 1.0) / (baseline.baseline_labelled_count + 3.0)
            as baseline_negative_share,
        evidence.evidence_item_ids
    from filled
    left join baseline
        on filled.week_start = baseline.week_start
        and filled.topic_key = baseline.topic_key
        and filled.segment_type = baseline.segment_type
        and filled.segment_value = baseline.segment_value
    left join baseline_deviation
        on filled.week_start = baseline_deviation.week_start
        and filled.topic_key = baseline_deviation.topic_key
        and filled.segment_type = baseline_deviation.segment_type
        and filled.segment_value = baseline_deviation.segment_value
    left join evidence
        on filled.week_start = evidence.week_start
        and filled.topic_key = evidence.topic_key
        and filled.segment_type = evidence.segment_type
        and filled.segment_value = evidence.segment_value

),

share_scored as (

    select
        scored.*,
        case when scored.labelled_count > 0 then
            (scored.negative_count - scored.labelled_count * scored.baseline_negative_share)
            / sqrt(scored.labelled_count * scored.baseline_negative_share
                * (1 - scored.baseline_negative_share))
        end as raw_share_z
    from scored

),

final as (

    select

        ---------- ids
        scored.week_start,
        scored.topic_key,

        ---------- strings
        coalesce(topic_labels.topic_label, scored.topic_key) as topic_label,
        scored.segment_type,
        scored.segment_value,
        scored.evidence_item_ids,

        ---------- numerics
        cast(scored.item_count as {{ dbt.type_bigint() }}) as item_count,
        cast(scored.negative_count as {{ dbt.type_bigint() }}) as negative_count,
        cast(round(cast(scored.negative_count as {{ dbt.type_numeric() }})
            / nullif(scored.labelled_count, 0), 4) as {{ type_double() }}) as negative_share,
        scored.net_sentiment_score,
        cast(scored.baseline_weeks as {{ dbt.type_bigint() }}) as baseline_weeks,
        cast(round(cast(scored.baseline_item_count as {{ dbt.type_numeric() }}), 2)
            as {{ type_double() }}) as baseline_item_count,
        cast(round(cast(scored.baseline_negative_median as {{ dbt.type_numeric() }}), 2)
            as {{ type_double() }}) as baseline_negative_count,
        scored.baseline_nss,
        scored.net_sentiment_score - scored.baseline_nss as nss_change,
        cast(round(cast(scored.item_count as {{ dbt.type_numeric() }})
            / nullif(scored.baseline_item_count, 0), 4) as {{ type_double() }})
            as volume_change_ratio,
        cast(round(cast(scored.raw_robust_z as {{ dbt.type_numeric() }}), 4)
            as {{ type_double() }}) as robust_z,
        cast(round(cast(scored.raw_share_z as {{ dbt.type_numeric() }}), 4)
            as {{ type_double() }}) as share_z,

        ---------- booleans
        case
            when scored.baseline_weeks >= {{ var('spike_min_baseline_weeks') }}
                and scored.raw_robust_z >= {{ var('spike_z_threshold') }}
                and scored.raw_share_z >= {{ var('spike_min_share_z') }}
                and scored.negative_count >= {{ var('spike_min_negative_items') }}
                -- A baseline without labelled mentions counts as neutral (NSS 0), so a topic
                -- that appears out of nowhere with negative mentions can still be flagged.
                and scored.net_sentiment_score - coalesce(scored.baseline_nss, 0)
                    <= -1 * {{ var('spike_min_nss_drop') }}
                then true
            else false
        end as is_spike

    from share_scored as scored
    left join topic_labels
        on scored.topic_key = topic_labels.topic_key

)

select * from final
