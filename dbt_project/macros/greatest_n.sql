{#-
    As an aggregate: the `n` values of `value` whose rows rank highest by `keys` (a list of SQL
    expressions compared in turn, each the higher the better), highest first, joined with
    `delimiter`; null over no rows. Ties on every key leave the order to the engine, so the last
    key should be unique within a group.
    DuckDB keeps a heap of n per group (max_by with a count): emerging_issues' evidence went from
    a window over every mention (2.8 s at 1,000,000 items) to 0.45 s. Elsewhere it is the ordered
    array_agg of each engine, cut to n.
-#}
{% macro greatest_n(value, keys, n, delimiter=',') -%}
    {{ return(adapter.dispatch('greatest_n')(value, keys, n, delimiter)) }}
{%- endmacro %}

{% macro default__greatest_n(value, keys, n, delimiter) -%}
    array_to_string(
        (array_agg({{ value }} order by {{ keys | join(' desc, ') }} desc))[1:{{ n }}],
        '{{ delimiter }}'
    )
{%- endmacro %}

{% macro duckdb__greatest_n(value, keys, n, delimiter) -%}
    array_to_string(
        max_by({{ value }}, struct_pack(
            {%- for key in keys %}k{{ loop.index }} := {{ key }}{{ ", " if not loop.last }}{% endfor -%}
        ), {{ n }}),
        '{{ delimiter }}'
    )
{%- endmacro %}

{% macro snowflake__greatest_n(value, keys, n, delimiter) -%}
    array_to_string(
        array_slice(array_agg({{ value }}) within group (
            order by {{ keys | join(' desc, ') }} desc
        ), 0, {{ n }}),
        '{{ delimiter }}'
    )
{%- endmacro %}

{% macro bigquery__greatest_n(value, keys, n, delimiter) -%}
    array_to_string(
        array_agg({{ value }} order by {{ keys | join(' desc, ') }} desc limit {{ n }}),
        '{{ delimiter }}'
    )
{%- endmacro %}
