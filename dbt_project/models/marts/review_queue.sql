-- One row per feedback item that needs a human, with why (queue_reason) and its place in the
-- queue (queue_rank, 1 = first). Reasons, in priority order (an item gets the first that holds):
--   1. high_urgency_negative  negative AND high urgency, by the model or after a correction
--                             (a follow-up case may be needed): newest first
--   2. low_confidence         model confidence below `review_low_confidence_threshold`:
--                             least confident first, then newest
--   3. model_failure          the model's reply failed validation (no labels): newest first
-- Decided items stay in the queue (is_decided, with the latest decision's time and case action)
-- so the dashboard can show what was done; labels shown are FINAL (a correction wins).

with

feedback as (

    select * from {{ ref('fct_feedback') }}

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

ranked as (

    select
        *,
        row_number() over (
            order by
                case queue_reason
                    when 'high_urgency_negative' then 1
                    when 'low_confidence' then 2
                    else 3
                end,
                -- Only low_confidence rows carry a value here; within the other reasons every
                -- row has the same constant, so null ordering differences cannot matter.
                case when queue_reason = 'low_confidence' then sentiment_confidence else 0 end,
                created_at desc,
                item_id
        ) as queue_rank
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
        cast(queue_rank as {{ dbt.type_bigint() }}) as queue_rank,
        sentiment_confidence,

        ---------- booleans
        is_decided,

        ---------- dates
        created_date,

        ---------- timestamps
        created_at,
        latest_decision_at

    from ranked

)

-- Stored in day order, like fct_feedback, so a period filter skips the rest of the table.
select * from final
order by created_date
