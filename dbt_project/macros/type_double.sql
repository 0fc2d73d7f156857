{#-
    An 8-byte floating-point type for ratios and scores the marts publish. dbt's own
    `type_float()` renders `float`, which is a 4-byte REAL on DuckDB; BI tools and pandas expect
    doubles, not decimals or reals. `double precision` is standard SQL (DuckDB, Postgres,
    Snowflake, Redshift); BigQuery calls it FLOAT64.
-#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}
