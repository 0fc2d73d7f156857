-- One row per feedback item, with its labels when the enrichment step has produced them.
-- Items without a label row yet are kept as 'pending'; failed items keep their row (they go
-- to review), with null labels and the failure reason.

with

feedback_items as (

    select * from {{ ref('stg_imis__feedback_items') }}

),

item_labels as (

    select * from {{ ref('stg_enrichment__item_labels') }}

),

joined as (

    select

        ---------- ids
        feedback_items.item_id,
        feedback_items.source_name,
        feedback_items.source_key,
        feedback_items.member_id,
        item_labels.model_id,
        item_labels.prompt_version,
        item_labels.taxonomy_version,

        ---------- strings
        feedback_items.channel,
        feedback_items.question,
        feedback_items.redacted_text,
        coalesce(item_labels.enrichment_status, 'pending') as enrichment_status,
        item_labels.failure_reason,
        -- Labels only count when the reply validated ('ok'); a failed row's partial fields
        -- must never leak into sentiment figures.
        case when item_labels.enrichment_status = 'ok'
            then item_labels.sentiment_label end as sentiment_label,
        case when item_labels.enrichment_status = 'ok'
            then item_labels.urgency_level end as urgency_level,
        case when item_labels.enrichment_status = 'ok'
            then item_labels.urgency_reasons end as urgency_reasons,
        case when item_labels.enrichment_status = 'ok'
            then item_labels.primary_topic end as primary_topic,
        item_labels.language,
        item_labels.summary,

        ---------- numerics
        case when item_labels.enrichment_status = 'ok'
            then item_labels.sentiment_score end as sentiment_score,
        case when item_labels.enrichment_status = 'ok'
            then item_labels.sentiment_confidence end as sentiment_confidence,
        feedback_items.text_length,
        item_labels.attempts as enrichment_attempts,
        item_labels.cost_usd as enrichment_cost_usd,

        ---------- booleans
        item_labels.is_staff_praise,
        item_labels.has_suggestion,
        item_labels.is_inappropriate,

        ---------- dates
        feedback_items.created_date,

        ---------- timestamps
        feedback_items.created_at,
        feedback_items.ingested_at,
        item_labels.enriched_at

    from feedback_items
    left join item_labels
        on feedback_items.item_id = item_labels.item_id

)

select * from joined
