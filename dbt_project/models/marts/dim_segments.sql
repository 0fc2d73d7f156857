-- One row per member segment code the marts group by (tier and chapter codes as iMIS stores
-- them), with the name people know it by. fct_feedback and the aggregates keep the codes:
-- they are stable keys, and what a chapter manager's scope names; the dashboard and BI tools
-- show these names instead.

with

versions as (

    -- Every code a member has held, so segments of past feedback find their names too.
    select * from {{ ref('int_members_versioned') }}

),

members as (

    select * from {{ ref('stg_imis__members') }}

),

chapter_names as (

    select * from {{ ref('chapter_names') }}

),

codes as (

    select distinct 'tier' as segment_type, coalesce(tier, 'Unknown') as segment_code
    from versions
    union
    select distinct 'chapter', coalesce(chapter, 'Unknown')
    from versions
    union
    -- items without a member (or before any sync) are counted under 'Unknown'
    select 'tier', 'Unknown'
    union
    select 'chapter', 'Unknown'

),

tier_labels_ranked as (

    -- iMIS's description of a member type (CustomerTypeDescription), as the most recently
    -- updated member of that type carries it.
    select
        tier as segment_code,
        tier_label as segment_label,
        row_number() over (partition by tier order by updated_at desc, member_id) as pick
    from members
    where tier is not null and tier_label is not null

),

labels as (

    select 'tier' as segment_type, segment_code, segment_label, 'imis' as label_source
    from tier_labels_ranked
    where pick = 1
    union all
    select 'chapter', chapter_code, chapter_name, 'chapter_names'
    from chapter_names

),

final as (

    select

        ---------- ids
        codes.segment_type,
        codes.segment_code,

        ---------- strings
        coalesce(labels.segment_label, codes.segment_code) as segment_label,
        coalesce(labels.label_source, 'code') as label_source

    from codes
    left join labels
        on codes.segment_type = labels.segment_type
        and codes.segment_code = labels.segment_code

)

select * from final
