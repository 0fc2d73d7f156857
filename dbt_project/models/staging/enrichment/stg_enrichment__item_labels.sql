with

source as (

    select * from {{ source('enrichment', 'item_labels') }}

),

renamed as (

    select

        ---------- ids
        item_id,
        text_hash,
        model_id,
        prompt_version,
        taxonomy_version,

        ---------- strings
        status as enrichment_status,
        failure_reason,
        lower(sentiment_label) as sentiment_label,
        lower(urgency_level) as urgency_level,
        -- JSON lists kept portable as text (e.g. '["renewal deadline"]').
        cast(urgency_reasons as {{ dbt.type_string() }}) as urgency_reasons,
        cast(urgency_signals as {{ dbt.type_string() }}) as urgency_signals,
        primary_topic,
        language,
        summary,

        ---------- numerics
        sentiment_score,
        sentiment_confidence,
        attempts,
        latency_ms,
        tokens_in,
        tokens_out,
        cost_usd,

        ---------- booleans
        praises_staff as is_staff_praise,
        suggestion as has_suggestion,
        inappropriate as is_inappropriate,

        ---------- dates
        created_date,

        ---------- timestamps
        enriched_at

    from source

)

select * from renamed
