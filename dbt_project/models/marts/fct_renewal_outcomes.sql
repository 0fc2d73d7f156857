-- One row per member whose latest renewal window has closed (member_id): whether they renewed,
-- and the sentiment they expressed in the `renewal_lookback_days` days up to the due date.
--
-- Only the current paid-through date is synced, so the due date is reconstructed assuming
-- yearly dues, as of the member's own sync (synced_at, when that date was observed):
--   * paid-through date + `renewal_grace_days` already before the sync: the member did not
--     renew by then; due date = paid-through date, outcome 'lapsed';
--   * else, one year before the paid-through date (a due date the member has paid past), when
--     its grace period too has ended before the sync and the member had joined before it (the
--     first dues are not a renewal): outcome 'renewed';
--   * otherwise the window is still open (or there is no paid-through date): no row.
-- Labels are FINAL (a reviewer's correction wins); tier and chapter are the member's on the
-- due date (type-2 versions).

{%- set grace_days = var('renewal_grace_days') | int %}
{%- set lookback_days = var('renewal_lookback_days') | int %}

with

members as (

    select
        member_id,
        join_date,
        paid_through_date,
        {{ dbt.cast('synced_at', api.Column.translate_type('date')) }} as observed_on,
        {{ dbt.cast(dbt.dateadd('year', '-1', 'paid_through_date'), api.Column.translate_type('date')) }}
            as previous_due_date
    from {{ ref('stg_imis__members') }}
    where paid_through_date is not null

),

member_versions as (

    select * from {{ ref('int_members_versioned') }}

),

feedback as (

    select * from {{ ref('fct_feedback') }}

),

due as (

    select
        member_id,
        observed_on,
        paid_through_date,
        case
            when {{ dbt.dateadd('day', grace_days, 'paid_through_date') }} < observed_on
                then paid_through_date
            when {{ dbt.dateadd('day', grace_days, 'previous_due_date') }} < observed_on
                and (join_date is null or join_date < previous_due_date)
                then previous_due_date
        end as renewal_due_date,
        case
            when {{ dbt.dateadd('day', grace_days, 'paid_through_date') }} < observed_on
                then false
            else true
        end as is_renewed
    from members

),

closed as (

    select
        *,
        {{ dbt.cast(dbt.dateadd('day', -1 * lookback_days, 'renewal_due_date'), api.Column.translate_type('date')) }}
            as window_start_date,
        {{ dbt.cast(dbt.dateadd('day', grace_days, 'renewal_due_date'), api.Column.translate_type('date')) }}
            as window_closed_date
    from due
    where renewal_due_date is not null

),

window_feedback as (

    select
        closed.member_id,
        count(feedback.item_id) as item_count,
        count(feedback.sentiment_label) as labelled_count,
        sum(case when feedback.sentiment_label = 'positive' then 1 else 0 end) as positive_count,
        sum(case when feedback.sentiment_label = 'neutral' then 1 else 0 end) as neutral_count,
        sum(case when feedback.sentiment_label = 'negative' then 1 else 0 end) as negative_count,
        sum(case when feedback.urgency_level = 'high' then 1 else 0 end) as high_urgency_count,
        max(feedback.created_date) as last_item_date
    from closed
    left join feedback
        on closed.member_id = feedback.member_id
        and feedback.created_date >= closed.window_start_date
        and feedback.created_date <= closed.renewal_due_date
    group by closed.member_id

),

final as (

    select

        ---------- ids
        closed.member_id,

        ---------- strings
        case when closed.is_renewed then 'renewed' else 'lapsed' end as renewal_outcome,
        coalesce(member_versions.tier, 'Unknown') as member_tier,
        coalesce(member_versions.chapter, 'Unknown') as member_chapter,

        ---------- numerics
        cast(window_feedback.item_count as {{ dbt.type_bigint() }}) as item_count,
        cast(window_feedback.labelled_count as {{ dbt.type_bigint() }}) as labelled_count,
        cast(coalesce(window_feedback.positive_count, 0) as {{ dbt.type_bigint() }})
            as positive_count,
        cast(coalesce(window_feedback.neutral_count, 0) as {{ dbt.type_bigint() }})
            as neutral_count,
        cast(coalesce(window_feedback.negative_count, 0) as {{ dbt.type_bigint() }})
            as negative_count,
        cast(coalesce(window_feedback.high_urgency_count, 0) as {{ dbt.type_bigint() }})
            as high_urgency_count,
        {{ net_sentiment_score(
            'window_feedback.positive_count',
            'window_feedback.negative_count',
            'window_feedback.labelled_count'
        ) }} as net_sentiment_score,

        ---------- booleans
        closed.is_renewed,

        ---------- dates
        closed.renewal_due_date,
        closed.window_start_date,
        closed.window_closed_date,
        window_feedback.last_item_date,
        closed.paid_through_date,
        closed.observed_on

    from closed
    inner join window_feedback
        on closed.member_id = window_feedback.member_id
    left join member_versions
        on closed.member_id = member_versions.member_id
        and member_versions.valid_from
            <= {{ dbt.cast('closed.renewal_due_date', api.Column.translate_type('timestamp')) }}
        and (
            member_versions.valid_to is null
            or {{ dbt.cast('closed.renewal_due_date', api.Column.translate_type('timestamp')) }}
                < member_versions.valid_to
        )

)

select * from final
