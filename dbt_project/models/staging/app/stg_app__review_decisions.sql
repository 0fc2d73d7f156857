with

source as (

    select * from {{ source('app', 'review_decisions') }}

),

renamed as (

    select

        ---------- ids
        decision_id,
        item_id,
        decided_by,

        ---------- strings
        lower(sentiment_label) as sentiment_label,
        lower(urgency_level) as urgency_level,
        -- JSON list of topic keys ('["billing", "website_login"]'), kept portable as text;
        -- null means "topics not corrected", '[]' means "no topic applies".
        cast(topics_json as {{ dbt.type_string() }}) as topics_json,
        lower(case_action) as case_action,
        note,

        ---------- timestamps
        decided_at

    from source

)

select * from renamed
