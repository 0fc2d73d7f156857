-- One row per week x topic x segment (segment_type 'all' | 'tier' | 'chapter'), for every week
-- of data and every (topic, segment) series seen: weeks with no mention are kept as zeros, so
-- a quiet series' baseline is honest. A spike is a rise in negative mentions that is both
-- unusual for the series and not explained by its volume; it is tested over two windows ending
-- with the week: the week alone, and the `spike_sustained_weeks` weeks up to it (an issue that
-- lasts gathers evidence a single week of a small series cannot show). Each window of L weeks
-- is compared with the K (<= `spike_baseline_weeks`) weeks before it, never overlapping it:
--
--   robust_z = (window negatives - L * median(baseline weekly negatives))
--              / max(1.4826 * MAD * sqrt(L), sqrt(max(L * median, 1)))
--
-- MAD = median absolute deviation; 1.4826 * MAD estimates a standard deviation robustly (an
-- earlier spike in the baseline barely moves it). It says how far the count is from usual, but
-- it treats the baseline median as known: a cold or sparse baseline (median 0, MAD 0) makes any
-- 5 negatives a z of 5, and over a few hundred series a week such counts happen by chance. So
-- the count must also pass a calibrated two-sample Poisson test (Anscombe's square root, which
-- stabilises the variance of a count, and the baseline rate's own uncertainty over K weeks):
--
--   count_z = 2 * (sqrt(negatives + 3/8) - sqrt(L/K * (baseline negatives + 3/8)))
--             / sqrt(1 + L/K)
--
-- A count spike alone also fires when a topic's whole volume rises (renewal season, the weeks
-- around the conference) with the usual share of complaints, so the window's negative SHARE must
-- also stand above the baseline's: a pooled two-proportion z-score with continuity correction,
--
--   share_z = ((negatives - 0.5) / labelled - p0)
--             / sqrt(p * (1 - p) * (1 / labelled + 1 / (baseline labelled + 3))),
--   p0 = (baseline negatives + 1) / (baseline labelled + 3),
--   p  = (negatives + baseline negatives + 1) / (labelled + baseline labelled + 3)
--
-- (p0 is pulled towards one in three, so a baseline with few or no mentions neither divides by
-- zero nor makes a single negative look significant; the 1 / baseline term is the baseline
-- share's own error, so a share measured on a small baseline counts for less). On the
-- sandbox's data both z-scores track the exact tests (conditional binomial, Fisher) within
-- about 0.1; see bench/RESULTS.md.
-- A window passes when baseline weeks >= spike_min_baseline_weeks, robust_z and count_z >=
-- spike_z_threshold, share_z >= spike_min_share_z, negatives >= spike_min_negative_items and
-- NSS - baseline NSS (0 when the baseline has no labelled mention) <= -spike_min_nss_drop.
-- is_spike = the one-week window passes, or the sustained window passes and the week itself
-- still carries excess negatives (its own one-week share_z >= spike_min_week_share_z: an issue
-- that ended last week does not flag this one).
-- robust_z, count_z, share_z, nss_change and the baseline columns describe the week alone (the
-- one-week window); sustained_* the longer window; spike_window_weeks says which one fired.
-- Weeks start on the engine's week start (Monday on DuckDB, Postgres and Snowflake's default).

{%- set baseline_weeks = var('spike_baseline_weeks') | int %}
{%- set sustained_weeks = var('spike_sustained_weeks') | int %}

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

windows as (

    -- The test windows, in weeks: the week alone, and the sustained window when it is longer.
    select 1 as window_weeks
    {%- if sustained_weeks > 1 %}
    union all
    select {{ sustained_weeks }} as window_weeks
    {%- endif %}

),

windowed as (

    -- Counts over each window: the window_weeks weeks ending with week_start.
    select
        current_week.week_start,
        current_week.topic_key,
        current_week.segment_type,
        current_week.segment_value,
        windows.window_weeks,
        sum(window_week.positive_count) as positive_count,
        sum(window_week.negative_count) as negative_count,
        sum(window_week.labelled_count) as labelled_count
    from filled as current_week
    cross join windows
    inner join filled as window_week
        on current_week.topic_key = window_week.topic_key
        and current_week.segment_type = window_week.segment_type
        and current_week.segment_value = window_week.segment_value
        and window_week.week_start <= current_week.week_start
        and window_week.week_start
            > {{ dbt.dateadd('day', '-7 * windows.window_weeks', 'current_week.week_start') }}
    group by
        current_week.week_start,
        current_week.topic_key,
        current_week.segment_type,
        current_week.segment_value,
        windows.window_weeks

),

baseline_pairs as (

    -- The spike_baseline_weeks weeks before each window's first week.
    select
        current_week.week_start,
        current_week.topic_key,
        current_week.segment_type,
        current_week.segment_value,
        windows.window_weeks,
        baseline_week.item_count,
        baseline_week.positive_count,
        baseline_week.negative_count,
        baseline_week.labelled_count
    from filled as current_week
    cross join windows
    inner join filled as baseline_week
        on current_week.topic_key = baseline_week.topic_key
        and current_week.segment_type = baseline_week.segment_type
        and current_week.segment_value = baseline_week.segment_value
        and baseline_week.week_start
            <= {{ dbt.dateadd('day', '-7 * windows.window_weeks', 'current_week.week_start') }}
        and baseline_week.week_start > {{ dbt.dateadd(
            'day', '-7 * (windows.window_weeks + ' ~ baseline_weeks ~ ')', 'current_week.week_start'
        ) }}

),

baseline as (

    select
        week_start,
        topic_key,
        segment_type,
        segment_value,
        window_weeks,
        count(*) as baseline_weeks,
        {{ median('item_count') }} as baseline_item_count,
        {{ median('negative_count') }} as baseline_negative_median,
        sum(positive_count) as baseline_positive_count,
        sum(negative_count) as baseline_negative_count,
        sum(labelled_count) as baseline_labelled_count
    from baseline_pairs
    group by week_start, topic_key, segment_type, segment_value, window_weeks

),

baseline_deviation as (

    select
        baseline_pairs.week_start,
        baseline_pairs.topic_key,
        baseline_pairs.segment_type,
        baseline_pairs.segment_value,
        baseline_pairs.window_weeks,
        {{ median('abs(baseline_pairs.negative_count - baseline.baseline_negative_median)') }}
            as baseline_negative_mad
    from baseline_pairs
    inner join baseline
        on baseline_pairs.week_start = baseline.week_start
        and baseline_pairs.topic_key = baseline.topic_key
        and baseline_pairs.segment_type = baseline.segment_type
        and baseline_pairs.segment_value = baseline.segment_value
        and baseline_pairs.window_weeks = baseline.window_weeks
    group by
        baseline_pairs.week_start,
        baseline_pairs.topic_key,
        baseline_pairs.segment_type,
        baseline_pairs.segment_value,
        baseline_pairs.window_weeks

),

window_baseline as (

    select
        windowed.*,
        coalesce(baseline.baseline_weeks, 0) as baseline_weeks,
        baseline.baseline_item_count,
        baseline.baseline_negative_median,
        baseline_deviation.baseline_negative_mad,
        baseline.baseline_labelled_count,
        {{ net_sentiment_score(
            'windowed.positive_count', 'windowed.negative_count', 'windowed.labelled_count'
        ) }} as net_sentiment_score,
        {{ net_sentiment_score(
            'baseline.baseline_positive_count',
            'baseline.baseline_negative_count',
            'baseline.baseline_labelled_count'
        ) }} as baseline_nss,
        (windowed.negative_count - windowed.window_weeks * baseline.baseline_negative_median)
            / greatest(
                1.4826 * baseline_deviation.baseline_negative_mad * sqrt(windowed.window_weeks),
                sqrt(greatest(windowed.window_weeks * baseline.baseline_negative_median, 1.0))
            ) as raw_robust_z,
        baseline.baseline_negative_count,
        (baseline.baseline_negative_count + 1.0) / (baseline.baseline_labelled_count + 3.0)
            as baseline_negative_share,
        (windowed.negative_count + baseline.baseline_negative_count + 1.0)
            / (windowed.labelled_count + baseline.baseline_labelled_count + 3.0)
            as pooled_negative_share
    from windowed
    left join baseline
        on windowed.week_start = baseline.week_start
        and windowed.topic_key = baseline.topic_key
        and windowed.segment_type = baseline.segment_type
        and windowed.segment_value = baseline.segment_value
        and windowed.window_weeks = baseline.window_weeks
    left join baseline_deviation
        on windowed.week_start = baseline_deviation.week_start
        and windowed.topic_key = baseline_deviation.topic_key
        and windowed.segment_type = baseline_deviation.segment_type
        and windowed.segment_value = baseline_deviation.segment_value
        and windowed.window_weeks = baseline_deviation.window_weeks

),

window_scored as (

    select
        window_baseline.*,
        case when window_baseline.baseline_weeks > 0 then
            2 * (
                sqrt(window_baseline.negative_count + 0.375)
                - sqrt(window_baseline.window_weeks * 1.0 / window_baseline.baseline_weeks
                    * (window_baseline.baseline_negative_count + 0.375))
            ) / sqrt(1 + window_baseline.window_weeks * 1.0 / window_baseline.baseline_weeks)
        end as raw_count_z,
        case when window_baseline.labelled_count > 0 and window_baseline.baseline_weeks > 0 then
            ((window_baseline.negative_count - 0.5) / window_baseline.labelled_count
                - window_baseline.baseline_negative_share)
            / sqrt(
                window_baseline.pooled_negative_share * (1 - window_baseline.pooled_negative_share)
                * (1.0 / window_baseline.labelled_count
                    + 1.0 / (window_baseline.baseline_labelled_count + 3.0))
            )
        end as raw_share_z
    from window_baseline

),

window_tested as (

    select
        window_scored.*,
        case
            when window_scored.baseline_weeks >= {{ var('spike_min_baseline_weeks') }}
                and window_scored.raw_robust_z >= {{ var('spike_z_threshold') }}
                and window_scored.raw_count_z >= {{ var('spike_z_threshold') }}
                and window_scored.raw_share_z >= {{ var('spike_min_share_z') }}
                and window_scored.negative_count >= {{ var('spike_min_negative_items') }}
                -- A baseline without labelled mentions counts as neutral (NSS 0), so a topic
                -- that appears out of nowhere with negative mentions can still be flagged.
                and window_scored.net_sentiment_score - coalesce(window_scored.baseline_nss, 0)
                    <= -1 * {{ var('spike_min_nss_drop') }}
                then 1
            else 0
        end as passes
    from window_scored

),

evidence as (

    -- The most representative items of a week x topic x segment: negative first, then high
    -- urgency, then medium, then the newest item id (a stable tie-break).
    select
        week_start,
        topic_key,
        segment_type,
        segment_value,
        {{ greatest_n('item_id', [
            "case when topic_sentiment = 'negative' then 1 else 0 end",
            "case urgency_level when 'high' then 2 when 'medium' then 1 else 0 end",
            'item_id'
        ], 5) }} as evidence_item_ids
    from segmented
    group by week_start, topic_key, segment_type, segment_value

),

scored as (

    select
        filled.*,
        week_window.baseline_weeks,
        week_window.baseline_item_count,
        week_window.baseline_negative_median,
        week_window.net_sentiment_score,
        week_window.baseline_nss,
        week_window.raw_robust_z,
        week_window.raw_count_z,
        week_window.raw_share_z,
        week_window.passes as week_passes,
        sustained_window.negative_count as sustained_negative_count,
        sustained_window.raw_robust_z as sustained_raw_robust_z,
        sustained_window.raw_count_z as sustained_raw_count_z,
        sustained_window.raw_share_z as sustained_raw_share_z,
        -- The sustained window counts only while the week itself is still elevated against
        -- its own baseline: an issue that ended last week does not flag this one.
        case
            when sustained_window.passes = 1
                and week_window.raw_share_z >= {{ var('spike_min_week_share_z') }}
                then 1
            else 0
        end as sustained_passes,
        evidence.evidence_item_ids
    from filled
    inner join window_tested as week_window
        on filled.week_start = week_window.week_start
        and filled.topic_key = week_window.topic_key
        and filled.segment_type = week_window.segment_type
        and filled.segment_value = week_window.segment_value
        and week_window.window_weeks = 1
    left join window_tested as sustained_window
        on filled.week_start = sustained_window.week_start
        and filled.topic_key = sustained_window.topic_key
        and filled.segment_type = sustained_window.segment_type
        and filled.segment_value = sustained_window.segment_value
        and sustained_window.window_weeks = {{ sustained_weeks }}
        and sustained_window.window_weeks > 1
    left join evidence
        on filled.week_start = evidence.week_start
        and filled.topic_key = evidence.topic_key
        and filled.segment_type = evidence.segment_type
        and filled.segment_value = evidence.segment_value

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
        cast(round(cast(scored.raw_count_z as {{ dbt.type_numeric() }}), 4)
            as {{ type_double() }}) as count_z,
        cast(round(cast(scored.raw_share_z as {{ dbt.type_numeric() }}), 4)
            as {{ type_double() }}) as share_z,
        cast(scored.sustained_negative_count as {{ dbt.type_bigint() }})
            as sustained_negative_count,
        cast(round(cast(scored.sustained_raw_robust_z as {{ dbt.type_numeric() }}), 4)
            as {{ type_double() }}) as sustained_robust_z,
        cast(round(cast(scored.sustained_raw_count_z as {{ dbt.type_numeric() }}), 4)
            as {{ type_double() }}) as sustained_count_z,
        cast(round(cast(scored.sustained_raw_share_z as {{ dbt.type_numeric() }}), 4)
            as {{ type_double() }}) as sustained_share_z,
        cast(case
            when scored.week_passes = 1 then 1
            when scored.sustained_passes = 1 then {{ sustained_weeks }}
        end as {{ dbt.type_bigint() }}) as spike_window_weeks,

        ---------- booleans
        case
            when scored.week_passes = 1 or scored.sustained_passes = 1 then true
            else false
        end as is_spike

    from scored
    left join topic_labels
        on scored.topic_key = topic_labels.topic_key

)

select * from final
