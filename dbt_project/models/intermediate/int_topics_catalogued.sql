-- Every topic key the marts can mention: the taxonomy's topics, the new topics the model
-- proposed ('proposed:<slug>'), and keys seen in labels that the current taxonomy no longer has
-- (a retired topic), so every topic in fct_feedback_topics resolves to one row.

with

taxonomy as (

    select * from {{ ref('stg_app__taxonomy_topics') }}

),

item_topics as (

    select * from {{ ref('stg_enrichment__item_topics') }}

),

item_labels as (

    select * from {{ ref('stg_enrichment__item_labels') }}

),

seen_outside_taxonomy as (

    select
        item_topics.topic_key,
        max(item_topics.proposed_label) as proposed_label,
        max(item_labels.taxonomy_version) as taxonomy_version,
        min(item_topics.created_date) as first_seen_date
    from item_topics
    left join item_labels
        on item_topics.item_id = item_labels.item_id
    left join taxonomy
        on item_topics.topic_key = taxonomy.topic_key
    where taxonomy.topic_key is null
    group by item_topics.topic_key

),

first_seen as (

    select topic_key, min(created_date) as first_seen_date
    from item_topics
    group by topic_key

),

unioned as (

    select
        taxonomy.topic_key,
        taxonomy.topic_label,
        taxonomy.description,
        false as is_proposed,
        true as is_in_taxonomy,
        taxonomy.taxonomy_version,
        first_seen.first_seen_date
    from taxonomy
    left join first_seen
        on taxonomy.topic_key = first_seen.topic_key

    union all

    select
        topic_key,
        coalesce(
            proposed_label,
            {{ dbt.replace(dbt.replace('topic_key', "'proposed:'", "''"), "'_'", "' '") }}
        ) as topic_label,
        case
            when topic_key like 'proposed:%'
                then 'New topic proposed by the model; not in the taxonomy yet.'
            else 'Topic no longer in the current taxonomy (retired).'
        end as description,
        case when topic_key like 'proposed:%' then true else false end as is_proposed,
        false as is_in_taxonomy,
        coalesce(taxonomy_version, 'unknown') as taxonomy_version,
        first_seen_date
    from seen_outside_taxonomy

)

select * from unioned
