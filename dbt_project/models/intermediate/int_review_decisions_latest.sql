-- One row per item with at least one review decision: for each corrected field, the value of
-- the LATEST decision that set it (decided_at, then decision_id, breaks ties). Decisions are
-- append-only, so a correction of a correction is a later row and wins; a decision that only
-- approves a case does not erase an earlier sentiment correction.

with

decisions as (

    select * from {{ ref('stg_app__review_decisions') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by item_id
            order by decided_at desc, decision_id desc
        ) as recency_rank,
        row_number() over (
            partition by item_id, case when sentiment_label is null then 0 else 1 end
            order by decided_at desc, decision_id desc
        ) as sentiment_rank,
        row_number() over (
            partition by item_id, case when urgency_level is null then 0 else 1 end
            order by decided_at desc, decision_id desc
        ) as urgency_rank,
        row_number() over (
            partition by item_id, case when topics_json is null then 0 else 1 end
            order by decided_at desc, decision_id desc
        ) as topics_rank,
        row_number() over (
            partition by item_id, case when case_action is null then 0 else 1 end
            order by decided_at desc, decision_id desc
        ) as case_action_rank
    from decisions

),

latest as (

    select

        ---------- ids
        item_id,
        max(case when recency_rank = 1 then decision_id end) as latest_decision_id,
        max(case when recency_rank = 1 then decided_by end) as latest_decided_by,

        ---------- strings
        max(case when sentiment_label is not null and sentiment_rank = 1
            then sentiment_label end) as sentiment_label,
        max(case when urgency_level is not null and urgency_rank = 1
            then urgency_level end) as urgency_level,
        max(case when topics_json is not null and topics_rank = 1
            then topics_json end) as topics_json,
        max(case when case_action is not null and case_action_rank = 1
            then case_action end) as case_action,

        ---------- numerics
        cast(count(*) as {{ dbt.type_bigint() }}) as decision_count,

        ---------- booleans
        max(case when topics_json is not null then 1 else 0 end) = 1 as has_topic_correction,

        ---------- timestamps
        max(decided_at) as latest_decision_at

    from ranked
    group by item_id

)

select * from latest
