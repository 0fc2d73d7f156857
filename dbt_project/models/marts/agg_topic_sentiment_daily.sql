-- One row per created_date x topic_key x channel x member_tier x member_chapter: topic mentions
-- (fct_feedback_topics) counted by FINAL topic-level sentiment, an item counting once per topic
-- it mentions. The dashboard's topic trends, movers, question box and board report sum these
-- counts instead of scanning every mention. Rows are stored in day order so a period filter
-- skips the rest of the table (DuckDB zone maps).
-- Incremental by day (macros/refreshed_items.sql): a run rebuilds the days on which
-- fct_feedback_topics refreshed or lost rows since this mart's latest refresh.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='created_date',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_days_missing_from(ref('fct_feedback_topics')) }}"
    )
}}

with

mentions as (

    select * from {{ ref('fct_feedback_topics') }}
    {% if refreshes_changed_items() %}
    where created_date in ({{ days_to_refresh(ref('fct_feedback_topics'), 'mention_count') }})
    {% endif %}

),

counted as (

    select
        created_date,
        topic_key,
        channel,
        member_tier,
        member_chapter,
        -- One label per key in dim_topics; min() only makes the choice deterministic.
        min(topic_label) as topic_label,
        count(*) as mention_count,
        sum(case when topic_sentiment = 'positive' then 1 else 0 end) as positive_count,
        sum(case when topic_sentiment = 'neutral' then 1 else 0 end) as neutral_count,
        sum(case when topic_sentiment = 'negative' then 1 else 0 end) as negative_count

    from mentions
    group by 1, 2, 3, 4, 5

),

final as (

    select
        created_date,
        topic_key,
        channel,
        member_tier,
        member_chapter,
        topic_label,
        -- Sums are cast back to bigint, as in agg_sentiment_daily (DuckDB widens to hugeint).
        cast(mention_count as {{ dbt.type_bigint() }}) as mention_count,
        cast(positive_count as {{ dbt.type_bigint() }}) as positive_count,
        cast(neutral_count as {{ dbt.type_bigint() }}) as neutral_count,
        cast(negative_count as {{ dbt.type_bigint() }}) as negative_count,
        {{ dbt.current_timestamp() }} as refreshed_at

    from counted

)

select * from final
order by created_date, topic_key, channel, member_tier, member_chapter
