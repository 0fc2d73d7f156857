with

source as (

    select * from {{ source('app', 'taxonomy_topics') }}

),

renamed as (

    select

        ---------- ids
        topic_key,
        taxonomy_version,

        ---------- strings
        label as topic_label,
        description,
        -- JSON list of example phrases, kept portable as text.
        cast(examples as {{ dbt.type_string() }}) as examples

    from source

)

select * from renamed
