{#-
    The partition window a run processes (both dates inclusive). Dagster passes it in the
    environment, PULSE_DBT_MIN_DATE / PULSE_DBT_MAX_DATE: new `--vars` on every run would make
    dbt re-parse the whole project each time (vars are part of its partial-parsing key, the
    environment a macro reads at run time is not). Vars min_date / max_date, e.g.
    `--vars '{"min_date": "2026-03-01", "max_date": "2026-03-07"}'`, take precedence (a unit
    test's overrides, a one-off CLI run). Without either the window is everything
    (1900-01-01 .. 9999-12-31), so a plain `dbt build` rebuilds every day and stays correct.
-#}
{% macro partition_window_bounds() -%}
    {%- set min_date = var('min_date', none) or env_var('PULSE_DBT_MIN_DATE', '')
        or '1900-01-01' -%}
    {%- set max_date = var('max_date', none) or env_var('PULSE_DBT_MAX_DATE', '')
        or '9999-12-31' -%}
    {%- do return((min_date | string, max_date | string)) -%}
{%- endmacro %}


{#- A portable predicate: `column` lies in the run's partition window. -#}
{% macro in_partition_window(column) -%}
    {%- set bounds = partition_window_bounds() -%}
    {{ column }} >= {{ dbt.cast(dbt.string_literal(bounds[0]), api.Column.translate_type('date')) }}
    and {{ column }} <= {{ dbt.cast(dbt.string_literal(bounds[1]), api.Column.translate_type('date')) }}
{%- endmacro %}


{#-
    Custom incremental strategy `partition_window`: replace exactly the run's window.
    Deletes every target row whose `partition_window_column` (config, default created_date)
    lies in the window, then inserts the freshly built rows, in the materialization's one
    transaction. Unlike delete+insert on a unique key, rows that disappeared from the source
    in that window (an erased member's items) disappear from the target too (DESIGN rule 2);
    with a `unique_key`, a row whose key comes in again from another day (an item whose date
    was edited) is deleted from its old day as well.
    Plain DELETE + INSERT: portable to every adapter that runs the default materialization.
-#}
{% macro get_incremental_partition_window_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set column = config.get('partition_window_column', 'created_date') -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}

    delete from {{ target }}
    where {{ in_partition_window(column) }}
    {%- if config.get('unique_key') %}
        -- an item whose date was edited at the source moves here from its old day
        or {{ config.get('unique_key') }} in (select {{ config.get('unique_key') }} from {{ source }})
    {%- endif %};

    insert into {{ target }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ source }}
    )
{%- endmacro %}


{#-
    Data tests on an incremental model read the rows the run rebuilt, through a placeholder in
    their `where` config: `__partition_window__(created_date)` (a per-day model: the run's
    window, every row without one, so a one-day run tests the day it rebuilt and a full
    `dbt build` every row) or `__latest_refresh__(refreshed_at)` (macros/refreshed_items.sql:
    the rows of the model's latest refresh; every row after a full build). A `where` cannot call
    a project macro (dbt renders it when it parses the project), so this override of dbt's
    get_where_subquery (dbt's documented workaround) replaces the placeholders when the test
    runs. Any other `where` behaves as in dbt.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- set window_columns = modules.re.findall('__partition_window__\\(\\s*(\\w+)\\s*\\)', where) -%}
    {%- set refresh_columns = modules.re.findall('__latest_refresh__\\(\\s*(\\w+)\\s*\\)', where) -%}
    {%- if not (window_columns or refresh_columns) -%}
        {%- do return(dbt.get_where_subquery(relation)) -%}
    {%- endif -%}
    {%- set has_window = partition_window_bounds() != ('1900-01-01', '9999-12-31') -%}
    {%- set filter = namespace(where=where) -%}
    {%- for column in window_columns -%}
        {%- set predicate = in_partition_window(column) if has_window else '1 = 1' -%}
        {%- set filter.where = modules.re.sub(
            '__partition_window__\\(\\s*' ~ column ~ '\\s*\\)', '(' ~ predicate ~ ')', filter.where
        ) -%}
    {%- endfor -%}
    {%- for column in refresh_columns -%}
        {%- set predicate = column ~ ' = (select max(' ~ column ~ ') from ' ~ relation ~ ')' -%}
        {%- set filter.where = modules.re.sub(
            '__latest_refresh__\\(\\s*' ~ column ~ '\\s*\\)', '(' ~ predicate ~ ')', filter.where
        ) -%}
    {%- endfor -%}
    {%- do return('(select * from ' ~ relation ~ ' where ' ~ filter.where ~ ') dbt_subquery') -%}
{%- endmacro %}
