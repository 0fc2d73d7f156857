-- One row per feedback item x topic as it finally stands (int_feedback_topics_resolved: the
-- model's topics, or the reviewer's corrected list), with the item's date, channel, urgency and
-- at-the-time member segment, so topic figures slice like fct_feedback.

with

resolved as (

    select * from {{ ref('int_feedback_topics_resolved') }}

),

feedback as (

    select * from {{ ref('fct_feedback') }}

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
        feedback.created_date

    from resolved
    inner join feedback
        on resolved.item_id = feedback.item_id
    left join topics
        on resolved.topic_key = topics.topic_key

)

-- Stored in day order, like fct_feedback, so a period filter skips the rest of the table.
select * from final
order by created_date, item_id
