-- One row per feedback item x topic (taxonomy key or 'proposed:<slug>'), with the evidence
-- quote and the item's channel, date and member segment for slicing.

with

item_topics as (

    select * from {{ ref('stg_enrichment__item_topics') }}

),

feedback as (

    select * from {{ ref('fct_feedback') }}

),

final as (

    select

        ---------- ids
        item_topics.item_topic_id,
        item_topics.item_id,
        item_topics.topic_key,

        ---------- strings
        item_topics.proposed_label,
        item_topics.topic_sentiment,
        item_topics.evidence,
        feedback.channel,
        feedback.member_tier,
        feedback.member_chapter,

        ---------- booleans
        item_topics.is_proposed,

        ---------- dates
        feedback.created_date

    from item_topics
    -- Inner join: topics are only reported for items the warehouse still holds (an erased
    -- member's items disappear from both), and only from a validated ('ok') label.
    inner join feedback
        on item_topics.item_id = feedback.item_id
    where feedback.enrichment_status = 'ok'

)

select * from final
