-- One row per day x channel x primary topic ('none' when unlabelled) x member tier x chapter.
-- Labels are FINAL (a reviewer's correction wins over the model) and segments are the member's
-- AT THE TIME of the item. NSS is over labelled items only (positive + neutral + negative);
-- failed and pending items without a human label count in item_count but not in the score.
-- Incremental by day (macros/refreshed_items.sql): a run rebuilds the days on which
-- fct_feedback refreshed or lost rows since this mart's latest refresh.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='created_date',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_days_missing_from(ref('fct_feedback')) }}"
    )
}}

with

feedback as (

    select * from {{ ref('fct_feedback') }}
    {% if refreshes_changed_items() %}
    where created_date in ({{ days_to_refresh(ref('fct_feedback'), 'item_count') }})
    {% endif %}

),

counted as (

    select
        created_date,
        channel,
        coalesce(primary_topic, 'none') as primary_topic,
        member_tier,
        member_chapter,

        count(*) as item_count,
        sum(case when sentiment_label = 'positive' then 1 else 0 end) as positive_count,
        sum(case when sentiment_label = 'neutral' then 1 else 0 end) as neutral_count,
        sum(case when sentiment_label = 'negative' then 1 else 0 end) as negative_count,
        sum(case when enrichment_status = 'failed' and sentiment_label is null
            then 1 else 0 end) as failed_count,
        sum(case when enrichment_status = 'pending' and sentiment_label is null
            then 1 else 0 end) as pending_count,
        sum(case when is_sentiment_overridden then 1 else 0 end) as overridden_count,
        sum(case when urgency_level = 'high' then 1 else 0 end) as high_urgency_count,
        avg(sentiment_confidence) as avg_sentiment_confidence

    from feedback
    group by 1, 2, 3, 4, 5

),

final as (

    select
        created_date,
        channel,
        primary_topic,
        member_tier,
        member_chapter,
        -- Sums are cast back to bigint: some engines widen them (DuckDB: hugeint), which BI
        -- drivers and pandas handle poorly.
        cast(item_count as {{ dbt.type_bigint() }}) as item_count,
        cast(positive_count as {{ dbt.type_bigint() }}) as positive_count,
        cast(neutral_count as {{ dbt.type_bigint() }}) as neutral_count,
        cast(negative_count as {{ dbt.type_bigint() }}) as negative_count,
        cast(positive_count + neutral_count + negative_count as {{ dbt.type_bigint() }})
            as labelled_count,
        cast(failed_count as {{ dbt.type_bigint() }}) as failed_count,
        cast(pending_count as {{ dbt.type_bigint() }}) as pending_count,
        {{ net_sentiment_score(
            'positive_count',
            'negative_count',
            'positive_count + neutral_count + negative_count'
        ) }} as net_sentiment_score,
        -- Rounded to 4 places so the figure is stable across engines and float summation order.
        cast(round(cast(avg_sentiment_confidence as {{ dbt.type_numeric() }}), 4)
            as {{ type_double() }}) as avg_confidence,
        cast(high_urgency_count as {{ dbt.type_bigint() }}) as high_urgency_count,
        cast(overridden_count as {{ dbt.type_bigint() }}) as overridden_count,
        {{ dbt.current_timestamp() }} as refreshed_at

    from counted

)

-- Stored in day order, like fct_feedback, so a period filter skips the rest of the table.
select * from final
order by created_date
