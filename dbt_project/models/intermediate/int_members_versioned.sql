-- Type-2 versions of each member's tier, chapter and status, built from the dated change log
-- (raw.member_history) and the current attributes (raw.members); not a dbt snapshot, which
-- would stamp a backfill of the past with today's values.
--
-- A member has one version per distinct change time, plus a first version that starts at
-- 1900-01-01 (the "since always" sentinel, so every item, however old, finds a version).
-- An attribute's value in a version is, in order: the new_value of its latest change at or
-- before the version start; else the old_value of its first later change (what it was before
-- the window the change log covers); else the member's current value.

with

members as (

    select * from {{ ref('stg_imis__members') }}

),

changes as (

    -- Only members the warehouse still holds: an erased member's history goes with them.
    select changes.*
    from {{ ref('stg_imis__member_history') }} as changes
    inner join members
        on changes.member_id = members.member_id

),

version_starts as (

    select member_id, changed_at as valid_from from changes
    union
    select member_id, {{ dbt.cast("'1900-01-01'", api.Column.translate_type('timestamp')) }}
    from members

),

versions as (

    select
        member_id,
        valid_from,
        lead(valid_from) over (partition by member_id order by valid_from) as valid_to
    from version_starts

),

changes_ranked as (

    select
        versions.member_id,
        versions.valid_from,
        changes.attribute,
        case
            when changes.changed_at <= versions.valid_from then changes.new_value
            else changes.old_value
        end as attribute_value,
        row_number() over (
            partition by versions.member_id, versions.valid_from, changes.attribute
            order by
                -- changes already applied first, the latest of them; else the next change
                case when changes.changed_at <= versions.valid_from then 0 else 1 end,
                case when changes.changed_at <= versions.valid_from
                    then changes.changed_at end desc,
                case when changes.changed_at > versions.valid_from
                    then changes.changed_at end asc
        ) as pick

    from versions
    inner join changes
        on versions.member_id = changes.member_id

),

attributes_pivoted as (

    select
        member_id,
        valid_from,
        max(case when attribute = 'tier' then 1 else 0 end) as has_tier_change,
        max(case when attribute = 'tier' then attribute_value end) as tier,
        max(case when attribute = 'chapter' then 1 else 0 end) as has_chapter_change,
        max(case when attribute = 'chapter' then attribute_value end) as chapter,
        max(case when attribute = 'status' then 1 else 0 end) as has_status_change,
        max(case when attribute = 'status' then attribute_value end) as status
    from changes_ranked
    where pick = 1
    group by member_id, valid_from

),

final as (

    select

        ---------- ids
        {{ dbt.concat([
            "versions.member_id", "'|'",
            dbt.cast("versions.valid_from", api.Column.translate_type('string'))
        ]) }} as member_version_id,
        versions.member_id,

        ---------- strings
        coalesce(
            case when attributes_pivoted.has_tier_change = 1
                then attributes_pivoted.tier else members.tier end,
            'Unknown'
        ) as tier,
        coalesce(
            case when attributes_pivoted.has_chapter_change = 1
                then attributes_pivoted.chapter else members.chapter end,
            'Unknown'
        ) as chapter,
        coalesce(
            case when attributes_pivoted.has_status_change = 1
                then attributes_pivoted.status else members.status end,
            'Unknown'
        ) as status,

        ---------- booleans
        case when versions.valid_to is null then true else false end as is_current,

        ---------- dates
        members.join_date,
        members.paid_through_date,

        ---------- timestamps
        versions.valid_from,
        versions.valid_to

    from versions
    inner join members
        on versions.member_id = members.member_id
    left join attributes_pivoted
        on versions.member_id = attributes_pivoted.member_id
        and versions.valid_from = attributes_pivoted.valid_from

)

select * from final
