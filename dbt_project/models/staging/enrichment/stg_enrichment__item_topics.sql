with

source as (

    select * from {{ source('enrichment', 'item_topics') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat(["item_id", "'|'", "topic_key"]) }} as item_topic_id,
        item_id,
        topic_key,

        ---------- strings
        proposed_label,
        lower(topic_sentiment) as topic_sentiment,
        evidence,

        ---------- booleans
        -- New topics the model proposes outside the taxonomy are keyed 'proposed:<slug>'.
        case when topic_key like 'proposed:%' then true else false end as is_proposed,

        ---------- dates
        created_date

    from source

)

select * from renamed
