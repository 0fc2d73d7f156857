{{
    config(
        materialized='incremental',
        incremental_strategy='partition_window',
        partition_window_column='created_date',
        unique_key='item_id',
        on_schema_change='append_new_columns'
    )
}}

-- One row per feedback item with the MODEL's labels (when the enrichment step has produced
-- them) and the member's segment AT THE TIME the item was written: tier, chapter and status
-- from the type-2 member versions, tenure band from the join date, and renewal window from the
-- paid-through date as it stood then. Items without a label row yet are 'pending'; failed items
-- keep their row (they go to review), with null labels and the failure reason.
--
-- Incremental per day: a run rebuilds exactly the partition window Dagster passes in
-- (vars min_date / max_date, inclusive; strategy `partition_window` in
-- macros/partition_window.sql). Human overrides are applied downstream in fct_feedback, so a
-- review decision on an old item never needs that old day to be rebuilt. A member-history
-- change re-segments the items of a day already built only when that day is rebuilt
-- (docs/architecture.md, deviation 9).

with

feedback_items as (

    select * from {{ ref('stg_imis__feedback_items') }}
    {% if is_incremental() %}
    where {{ in_partition_window('created_date') }}
    {% endif %}

),

item_labels as (

    select * from {{ ref('stg_enrichment__item_labels') }}
    {% if is_incremental() %}
    where {{ in_partition_window('created_date') }}
    {% endif %}

),

member_versions as (

    select * from {{ ref('int_members_versioned') }}

),

joined as (

    select
        feedback_items.*,
        item_labels.enrichment_status as label_status,
        item_labels.model_id,
        item_labels.prompt_version,
        item_labels.taxonomy_version,
        item_labels.failure_reason,
        item_labels.sentiment_label as label_sentiment,
        item_labels.urgency_level as label_urgency,
        item_labels.urgency_reasons as label_urgency_reasons,
        item_labels.primary_topic as label_primary_topic,
        item_labels.sentiment_score as label_sentiment_score,
        item_labels.sentiment_confidence as label_sentiment_confidence,
        item_labels.language,
        item_labels.summary,
        item_labels.attempts,
        item_labels.cost_usd,
        item_labels.is_staff_praise,
        item_labels.has_suggestion,
        item_labels.is_inappropriate,
        item_labels.enriched_at,
        member_versions.member_id as versioned_member_id,
        member_versions.tier as member_tier_then,
        member_versions.chapter as member_chapter_then,
        member_versions.status as member_status_then,
        member_versions.join_date as member_join_date,
        member_versions.paid_through_date as member_paid_through_date,
        {{ dbt.datediff('member_versions.join_date', 'feedback_items.created_date', 'month') }}
            as tenure_months,
        {{ dbt.datediff('feedback_items.created_date', 'member_versions.paid_through_date', 'month') }}
            as months_to_paid_through

    from feedback_items
    left join item_labels
        on feedback_items.item_id = item_labels.item_id
    left join member_versions
        on feedback_items.member_id = member_versions.member_id
        and feedback_items.created_at >= member_versions.valid_from
        and (member_versions.valid_to is null or feedback_items.created_at < member_versions.valid_to)

),

paid_through_then as (

    -- The paid-through date as it stood when the item was written. Only the current value is
    -- synced, so it is reconstructed assuming yearly dues: a current date already before the
    -- item means the member had lapsed then; otherwise it is the first anniversary of the
    -- current date on or after the item (someone who wrote in November and renewed in
    -- December was due in December, not next year).
    select
        *,
        cast(floor(months_to_paid_through / 12.0) as {{ dbt.type_int() }}) as years_ahead
    from joined

),

paid_through_candidates as (

    select
        *,
        {{ dbt.dateadd('year', '-1 * years_ahead', 'member_paid_through_date') }}
            as anniversary_candidate
    from paid_through_then

),

paid_through_resolved as (

    select
        *,
        case
            when member_paid_through_date is null then null
            when member_paid_through_date < created_date then member_paid_through_date
            when anniversary_candidate >= created_date
                then {{ dbt.cast('anniversary_candidate', api.Column.translate_type('date')) }}
            else {{ dbt.cast(dbt.dateadd('year', '1', 'anniversary_candidate'),
                             api.Column.translate_type('date')) }}
        end as paid_through_date_then
    from paid_through_candidates

),

with_days_to_due as (

    select
        *,
        {{ dbt.datediff('created_date', 'paid_through_date_then', 'day') }} as days_to_renewal
    from paid_through_resolved

),

final as (

    select

        ---------- ids
        item_id,
        source_name,
        source_key,
        member_id,
        model_id,
        prompt_version,
        taxonomy_version,

        ---------- strings
        channel,
        question,
        redacted_text,
        coalesce(label_status, 'pending') as enrichment_status,
        failure_reason,
        -- Labels only count when the reply validated ('ok'); a failed row's partial fields
        -- must never leak into sentiment figures.
        case when label_status = 'ok' then label_sentiment end as sentiment_label,
        case when label_status = 'ok' then label_urgency end as urgency_level,
        case when label_status = 'ok' then label_urgency_reasons end as urgency_reasons,
        case when label_status = 'ok' then label_primary_topic end as primary_topic,
        language,
        summary,
        coalesce(member_tier_then, 'Unknown') as member_tier,
        coalesce(member_chapter_then, 'Unknown') as member_chapter,
        coalesce(member_status_then, 'Unknown') as member_status,
        {{ tenure_band('tenure_months') }} as member_tenure_band,
        {{ renewal_window('days_to_renewal') }} as member_renewal_window,

        ---------- numerics
        case when label_status = 'ok' then label_sentiment_score end as sentiment_score,
        case when label_status = 'ok' then label_sentiment_confidence end as sentiment_confidence,
        text_length,
        attempts as enrichment_attempts,
        cost_usd as enrichment_cost_usd,

        ---------- booleans
        is_staff_praise,
        has_suggestion,
        is_inappropriate,

        ---------- dates
        paid_through_date_then as member_paid_through_date_then,
        created_date,

        ---------- timestamps
        created_at,
        ingested_at,
        enriched_at,
        -- When this run rebuilt the row: fct_feedback refreshes the items built after its own
        -- last refresh, so a one-day run costs one day downstream too.
        {{ dbt.current_timestamp() }} as built_at

    from with_days_to_due

)

select * from final
