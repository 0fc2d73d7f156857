-- One row per feedback item x topic as it finally stands (int_feedback_topics_resolved: the
-- model's topics, or the reviewer's corrected list), with the item's date, channel, urgency and
-- at-the-time member segment, so topic figures slice like fct_feedback.
--
-- Incremental (macros/refreshed_items.sql): a run replaces the topics of the items fct_feedback
-- refreshed since this mart's latest refresh, and of every item when a topic's label changed
-- in the taxonomy; items gone from fct_feedback lose their topics.

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='item_id',
        on_schema_change='append_new_columns',
        post_hook="{{ delete_items_missing_from(ref('fct_feedback')) }}"
    )
}}

with

feedback as (

    select * from {{ ref('fct_feedback') }}
    {% if refreshes_changed_items() %}
    where refreshed_at > {{ latest_refresh() }}
        or exists (
            -- a renamed (or removed) topic: every item takes the new label
            select 1
            from {{ this }} as built
            left join {{ ref('int_topics_catalogued') }} as catalogue
                on built.topic_key = catalogue.topic_key
            where built.topic_label
                <> coalesce(catalogue.topic_label, built.proposed_label, built.topic_key)
        )
    {% endif %}

),

resolved as (

    select * from {{ ref('int_feedback_topics_resolved') }}

),

topics as (

    select topic_key, topic_label from {{ ref('int_topics_catalogued') }}

),

final as (

    select

        ---------- ids
        resolved.item_topic_id,
        resolved.item_id,
        resolved.topic_key,

        ---------- strings
        coalesce(topics.topic_label, resolved.proposed_label, resolved.topic_key) as topic_label,
        resolved.proposed_label,
        -- A reviewer's sentiment correction speaks for the whole item, so for its topics too;
        -- a reviewer-added topic the model never saw takes the item's final sentiment.
        case
            when feedback.is_sentiment_overridden then feedback.sentiment_label
            else coalesce(resolved.model_topic_sentiment, feedback.sentiment_label)
        end as topic_sentiment,
        resolved.model_topic_sentiment,
        resolved.evidence,
        feedback.channel,
        feedback.member_tier,
        feedback.member_chapter,
        feedback.urgency_level,

        ---------- booleans
        resolved.is_proposed,
        resolved.is_corrected,

        ---------- dates
        feedback.created_date,

        ---------- timestamps
        -- This mart's own refresh, not the item's in fct_feedback: a renamed topic rebuilds
        -- rows whose item did not change, and what reads the mart incrementally (the publish
        -- step, agg_topic_sentiment_daily) finds changed rows by this stamp.
        {{ dbt.current_timestamp() }} as refreshed_at

    from resolved
    inner join feedback
        on resolved.item_id = feedback.item_id
    left join topics
        on resolved.topic_key = topics.topic_key

)

-- Stored in day order, like fct_feedback, so a period filter skips the rest of the table.
select * from final
order by created_date, item_id
