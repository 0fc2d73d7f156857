with

source as (

    select * from {{ source('imis', 'feedback_items') }}

),

renamed as (

    select

        ---------- ids
        item_id,
        source_name,
        source_key,
        member_id,
        text_hash,

        ---------- strings
        lower(trim(channel)) as channel,
        question,
        redacted_text,
        -- JSON kept portable as text: {"PERSON": 2, ...} holds counts only, never values.
        cast(pii_entity_counts as {{ dbt.type_string() }}) as pii_entity_counts,

        ---------- numerics
        text_length,
        original_length,

        ---------- dates
        created_date,

        ---------- timestamps
        created_at,
        updated_at,
        ingested_at

    from source

)

select * from renamed
