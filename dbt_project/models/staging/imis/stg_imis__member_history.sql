with

source as (

    select * from {{ source('imis', 'member_history') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat([
            "member_id", "'|'", "lower(trim(attribute))", "'|'",
            dbt.cast("changed_at", api.Column.translate_type("string"))
        ]) }} as member_change_id,
        member_id,

        ---------- strings
        -- tier | chapter | status (the connector maps iMIS property names onto these).
        lower(trim(attribute)) as attribute,
        old_value,
        new_value,

        ---------- timestamps
        changed_at

    from source

)

select * from renamed
