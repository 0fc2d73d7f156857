-- One row per feedback item x topic as it finally stands: the model's topics of items labelled
-- 'ok', except for items whose topics a reviewer corrected, which carry exactly the corrected
-- list (topics_json of the latest decision that set it; '[]' removes every topic). A corrected
-- topic keeps the model's evidence and sentiment when the model had found it too.

with

model_topics as (

    select * from {{ ref('stg_enrichment__item_topics') }}

),

items as (

    select item_id, enrichment_status from {{ ref('int_feedback_items_labelled') }}

),

corrections as (

    select item_id, topics_json
    from {{ ref('int_review_decisions_latest') }}
    where has_topic_correction

),

topics as (

    select topic_key from {{ ref('int_topics_catalogued') }}

),

from_model as (

    select
        model_topics.item_id,
        model_topics.topic_key,
        model_topics.proposed_label,
        model_topics.topic_sentiment as model_topic_sentiment,
        model_topics.evidence,
        false as is_corrected,
        cast(null as {{ dbt.type_int() }}) as correction_position
    from model_topics
    inner join items
        on model_topics.item_id = items.item_id
    left join corrections
        on model_topics.item_id = corrections.item_id
    -- Only from a validated ('ok') label, and only where no reviewer replaced the topics.
    where items.enrichment_status = 'ok'
        and corrections.item_id is null

),

from_review as (

    -- topics_json is a JSON list of keys; matching each known key as a quoted string inside it
    -- is portable (no JSON functions, which differ across engines) and exact for slug keys.
    -- The match position keeps the reviewer's order (the first listed topic leads).
    select
        corrections.item_id,
        topics.topic_key,
        model_topics.proposed_label,
        model_topics.topic_sentiment as model_topic_sentiment,
        model_topics.evidence,
        true as is_corrected,
        {{ dbt.position(dbt.concat(["'\"'", "topics.topic_key", "'\"'"]), 'corrections.topics_json') }}
            as correction_position
    from corrections
    inner join items
        on corrections.item_id = items.item_id
    inner join topics
        on {{ dbt.position(dbt.concat(["'\"'", "topics.topic_key", "'\"'"]), 'corrections.topics_json') }} > 0
    left join model_topics
        on corrections.item_id = model_topics.item_id
        and topics.topic_key = model_topics.topic_key

),

unioned as (

    select * from from_model
    union all
    select * from from_review

),

final as (

    select

        ---------- ids
        {{ dbt.concat(["item_id", "'|'", "topic_key"]) }} as item_topic_id,
        item_id,
        topic_key,

        ---------- strings
        proposed_label,
        model_topic_sentiment,
        evidence,

        ---------- numerics
        correction_position,

        ---------- booleans
        case when topic_key like 'proposed:%' then true else false end as is_proposed,
        is_corrected

    from unioned

)

select * from final
