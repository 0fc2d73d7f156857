-- One row per feedback item that needs a human, with why (queue_reason) and its priority
-- (queue_priority, 1 = first). Reasons, in priority order (an item gets the first that holds):
--   1. high_urgency_negative  negative AND high urgency, by the model or after a correction
--                             (a follow-up case may be needed): newest first
--   2. low_confidence         model confidence below `review_low_confidence_threshold`:
--                             least confident first, then newest
--   3. model_failure          the model's reply failed validation (no labels): newest first
-- The queue's order is `order by queue_priority, queue_confidence, created_at desc, item_id`
-- (queue_confidence is set for low_confidence rows only). It is stored as those columns, not as
-- a rank: a rank over the whole queue changes with every new item, so storing it meant
-- rewriting every queued row (a third of all items) each day. Readers rank what they show.
-- Decided items stay in the queue (is_decided, with the latest decision's time and case action)
-- so the dashboard can show what was done; labels shown are FINAL (a correction wins).
--
-- Incremental like fct_feedback (macros/refreshed_items.sql): a run takes the items
-- fct_feedback refreshed since the queue's latest refresh, and each row keeps fct_feedback's
-- refreshed_at, so a post-hook can drop every row whose item fct_feedback refreshed or dropped
-- without queueing it again (a correction that resolved it, an erased member).

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='item_id',
        on_schema_change='append_new_columns',
        pre_hook="{{ drop_retired_columns(['queue_rank']) }}",
        post_hook="{{ delete_rows_refreshed_away_in(ref('fct_feedback')) }}"
    )
}}

with

feedback as (

    select * from {{ ref('fct_feedback') }}
    {% if refreshes_changed_items() %}
    where refreshed_at > {{ latest_refresh() }}
    {% endif %}

),

reasoned as (

    select
        *,
        case
            when (model_sentiment_label = 'negative' and model_urgency_level = 'high')
                or (sentiment_label = 'negative' and urgency_level = 'high')
                then 'high_urgency_negative'
            when enrichment_status = 'ok'
                and sentiment_confidence < {{ var('review_low_confidence_threshold') }}
                then 'low_confidence'
            when enrichment_status = 'failed' then 'model_failure'
        end as queue_reason
    from feedback

),

queued as (

    select
        *,
        case queue_reason
            when 'high_urgency_negative' then 1
            when 'low_confidence' then 2
            else 3
        end as queue_priority,
        case when queue_reason = 'low_confidence' then sentiment_confidence end
            as queue_confidence
    from reasoned
    where queue_reason is not null

),

final as (

    select

        ---------- ids
        item_id,
        source_name,
        member_id,

        ---------- strings
        queue_reason,
        channel,
        member_tier,
        member_chapter,
        sentiment_label,
        model_sentiment_label,
        urgency_level,
        model_urgency_level,
        urgency_reasons,
        primary_topic,
        summary,
        redacted_text,
        enrichment_status,
        failure_reason,
        case_action,

        ---------- numerics
        cast(queue_priority as {{ dbt.type_int() }}) as queue_priority,
        queue_confidence,
        sentiment_confidence,

        ---------- booleans
        is_decided,

        ---------- dates
        created_date,

        ---------- timestamps
        created_at,
        latest_decision_at,
        refreshed_at

    from queued

)

-- Stored in day order, like fct_feedback, so a period filter skips the rest of the table.
select * from final
order by created_date
