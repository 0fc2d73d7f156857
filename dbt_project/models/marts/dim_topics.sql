-- One row per topic key the marts can mention: the association's taxonomy, the new topics the
-- model proposed ('proposed:<slug>'), and retired keys still present in past labels.

with

topics as (

    select * from {{ ref('int_topics_catalogued') }}

),

final as (

    select

        ---------- ids
        topic_key,
        taxonomy_version,

        ---------- strings
        topic_label,
        description,

        ---------- booleans
        is_proposed,
        is_in_taxonomy,

        ---------- dates
        first_seen_date

    from topics

)

select * from final
