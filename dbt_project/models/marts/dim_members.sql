-- One row per member with current segment attributes (no names or contact details exist here).

with

members as (

    select * from {{ ref('stg_imis__members') }}

),

tenure as (

    select
        *,
        {{ dbt.datediff('join_date', dbt.current_timestamp(), 'month') }} as tenure_months
    from members

),

final as (

    select

        ---------- ids
        member_id,

        ---------- strings
        coalesce(tier, 'Unknown') as tier,
        coalesce(chapter, 'Unknown') as chapter,
        coalesce(status, 'Unknown') as status,
        {{ tenure_band('tenure_months') }} as tenure_band,

        ---------- numerics
        tenure_months,

        ---------- dates
        join_date,
        paid_through_date,

        ---------- timestamps
        updated_at,
        synced_at

    from tenure

)

select * from final
