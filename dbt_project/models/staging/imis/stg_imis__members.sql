with

source as (

    select * from {{ source('imis', 'members') }}

),

renamed as (

    select

        ---------- ids
        member_id,

        ---------- strings
        tier,
        tier_label,
        chapter,
        status,

        ---------- dates
        join_date,
        paid_through as paid_through_date,

        ---------- timestamps
        updated_at,
        synced_at

    from source

)

select * from renamed
