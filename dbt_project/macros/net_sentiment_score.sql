{#-
    Net sentiment score of a slice: 100 * (positive - negative) / labelled items, in -100..100,
    rounded to 2 decimals; null when the slice has no labelled item (never a division by zero).
    Arguments are SQL expressions (column names or aggregates). Portable: cast to the adapter's
    numeric type before dividing, so integer division cannot truncate and `round(numeric, int)`
    exists on Postgres, Snowflake, BigQuery and DuckDB alike.
-#}
{% macro net_sentiment_score(pos, neg, total) -%}
    round(
        cast(100 * (({{ pos }}) - ({{ neg }})) as {{ dbt.type_numeric() }})
            / nullif({{ total }}, 0),
        2
    )
{%- endmacro %}
