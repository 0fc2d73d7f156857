-- Type-2 member dimension: one row per member x version of (tier, chapter, status), valid from
-- valid_from (inclusive) to valid_to (exclusive; null for the current version). Join an event
-- at time t with `valid_from <= t and (valid_to is null or t < valid_to)`.

with

versions as (

    select * from {{ ref('int_members_versioned') }}

),

final as (

    select

        ---------- ids
        member_version_id,
        member_id,

        ---------- strings
        tier,
        chapter,
        status,

        ---------- booleans
        is_current,

        ---------- timestamps
        valid_from,
        valid_to

    from versions

)

select * from final
