{#-
    The two item-grained marts (fct_feedback, fct_feedback_topics) hold every item of the
    history, so rebuilding them whole made a one-day run cost the whole history. They are
    incremental instead: a run refreshes only the items whose upstream rows changed since the
    mart's own latest refresh (its `refreshed_at`, the run's start), replacing each such item's
    rows (delete+insert on item_id), and a post-hook drops the rows of items that no longer
    exist upstream (an erased member's, an item deleted in iMIS). What changed is read from
    the data, not from the run's partition window, so a run of these models alone, a crashed
    run re-run, or a run for other days all leave exactly what a full build would.
-#}

{#-
    True when this run refreshes changed items only: the mart exists (is_incremental()) and
    has refreshed_at. A mart an earlier version built without it is rebuilt whole, once.
-#}
{% macro refreshes_changed_items() -%}
    {%- if not is_incremental() -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') -%}
    {%- do return('refreshed_at' in columns | list) -%}
{%- endmacro %}


{#- The mart's latest refresh; the epoch when it has no rows yet (then every item is new). -#}
{% macro latest_refresh() -%}
    coalesce(
        (select max(refreshed_at) from {{ this }}),
        {{ dbt.cast(dbt.string_literal('1900-01-01'), api.Column.translate_type('timestamp')) }}
    )
{%- endmacro %}


{#- Post-hook: delete the rows of items that `upstream` (a relation keyed on item_id) no longer holds. -#}
{% macro delete_items_missing_from(upstream) -%}
    delete from {{ this }}
    where item_id not in (select item_id from {{ upstream }})
{%- endmacro %}
