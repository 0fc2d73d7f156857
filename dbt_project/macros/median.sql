{#-
    Median of `expression` as an aggregate (no dbt Hub packages, so no dbt_utils).
    Default: the SQL-standard ordered-set aggregate, which Postgres, Snowflake, DuckDB and
    Redshift share; BigQuery has no ordered-set aggregates and uses approx_quantiles (exact for
    the small per-series baselines this project takes medians of).
-#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro bigquery__median(expression) -%}
    approx_quantiles({{ expression }}, 2)[offset(1)]
{%- endmacro %}
