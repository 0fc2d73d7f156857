-- One row per feedback item (every item, whether its enrichment is ok, failed or pending),
-- with its labels and the member's CURRENT tier and chapter ('Unknown' when the item has no
-- member, or the member is not in raw.members).

with

items as (

    select * from {{ ref('int_feedback_items_labelled') }}

),

members as (

    select * from {{ ref('dim_members') }}

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
        coalesce(members.tier, 'Unknown') as member_tier,
        coalesce(members.chapter, 'Unknown') as member_chapter,
        items.question,
        items.redacted_text,
        items.enrichment_status,
        items.failure_reason,
        items.sentiment_label,
        items.urgency_level,
        items.urgency_reasons,
        items.primary_topic,
        items.language,
        items.summary,

        ---------- numerics
        items.sentiment_score,
        items.sentiment_confidence,
        items.text_length,

        ---------- booleans
        case when items.urgency_level = 'high' then true else false end as is_high_urgency,

        ---------- dates
        items.created_date,

        ---------- timestamps
        items.created_at,
        items.enriched_at

    from items
    left join members
        on items.member_id = members.member_id

)

select * from final
