-- One row per feedback item (every item, whether its enrichment is ok, failed or pending).
-- sentiment_label / urgency_level / primary_topic are FINAL: the latest human correction from
-- the review queue wins over the model, whose labels stay in model_sentiment_label,
-- model_urgency_level and model_primary_topic. Member segments (tier, chapter, status, tenure
-- band, renewal window) are AT THE TIME of the item ('Unknown' when the item has no member, or
-- the member is not in raw.members).
--
-- Incremental (macros/refreshed_items.sql): a run rebuilds the items the per-day set rebuilt
-- since this mart's latest refresh, plus every item a reviewer decided on (a decision can
-- change any day's item; there are few of them), and drops items gone upstream.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='item_id',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_items_missing_from(ref('int_feedback_items_labelled')) }}"
    )
}}

with

items as (

    select * from {{ ref('int_feedback_items_labelled') }}
    {% if refreshes_changed_items() %}
    where built_at > {{ latest_refresh() }}
        or item_id in (select item_id from {{ ref('int_review_decisions_latest') }})
    {% endif %}

),

decisions as (

    select * from {{ ref('int_review_decisions_latest') }}

),

corrected_topics as (

    select * from {{ ref('int_feedback_topics_resolved') }}
    where is_corrected

),

corrected_primary_ranked as (

    -- After a topic correction the model's primary topic stays primary if the reviewer kept
    -- it; otherwise the first topic the reviewer listed leads.
    select
        corrected_topics.item_id,
        corrected_topics.topic_key,
        row_number() over (
            partition by corrected_topics.item_id
            order by
                case when corrected_topics.topic_key = items.primary_topic then 0 else 1 end,
                corrected_topics.correction_position,
                corrected_topics.topic_key
        ) as primary_rank
    from corrected_topics
    inner join items
        on corrected_topics.item_id = items.item_id

),

corrected_primary as (

    select item_id, topic_key
    from corrected_primary_ranked
    where primary_rank = 1

),

final as (

    select

        ---------- ids
        items.item_id,
        items.source_name,
        items.source_key,
        items.member_id,
        items.model_id,
        items.prompt_version,

        ---------- strings
        items.channel,
        items.member_tier,
        items.member_chapter,
        items.member_status,
        items.member_tenure_band,
        items.member_renewal_window,
        items.question,
        items.redacted_text,
        items.enrichment_status,
        items.failure_reason,
        coalesce(decisions.sentiment_label, items.sentiment_label) as sentiment_label,
        items.sentiment_label as model_sentiment_label,
        coalesce(decisions.urgency_level, items.urgency_level) as urgency_level,
        items.urgency_level as model_urgency_level,
        items.urgency_reasons,
        case
            when decisions.has_topic_correction then corrected_primary.topic_key
            else items.primary_topic
        end as primary_topic,
        items.primary_topic as model_primary_topic,
        items.language,
        items.summary,
        decisions.case_action,

        ---------- numerics
        items.sentiment_score,
        items.sentiment_confidence,
        items.text_length,
        coalesce(decisions.decision_count, 0) as decision_count,

        ---------- booleans
        case when coalesce(decisions.urgency_level, items.urgency_level) = 'high'
            then true else false end as is_high_urgency,
        case when decisions.sentiment_label is not null
            and decisions.sentiment_label <> coalesce(items.sentiment_label, '')
            then true else false end as is_sentiment_overridden,
        case when decisions.urgency_level is not null
            and decisions.urgency_level <> coalesce(items.urgency_level, '')
            then true else false end as is_urgency_overridden,
        case when decisions.has_topic_correction then true else false end as is_topics_corrected,
        case when decisions.item_id is not null then true else false end as is_decided,

        ---------- dates
        items.member_paid_through_date_then,
        items.created_date,

        ---------- timestamps
        items.created_at,
        items.enriched_at,
        decisions.latest_decision_at,
        {{ dbt.current_timestamp() }} as refreshed_at

    from items
    left join decisions
        on items.item_id = decisions.item_id
    left join corrected_primary
        on items.item_id = corrected_primary.item_id

)

-- Stored in day order: readers filter on a period, and DuckDB then skips the row groups
-- outside it (zone maps on created_date); the publish copy keeps the order.
select * from final
order by created_date, created_at
