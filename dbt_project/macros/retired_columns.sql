{#-
    Pre-hook of an incremental mart that dropped a column: an existing table an earlier
    version built still has it, and an enforced contract lets dbt only append columns
    (on_schema_change 'append_new_columns'), so a retired NOT NULL column would reject every
    new row. Drops each of `columns` the existing table still has; nothing otherwise.
-#}
{% macro drop_retired_columns(columns) -%}
    {%- if is_incremental() -%}
        {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- for column in columns if column | lower in existing %}
    alter table {{ this }} drop column {{ adapter.quote(column) }};
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
