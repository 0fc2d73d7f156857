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
    True when this run refreshes only what changed (items, or days for the daily aggregates):
    the mart exists (is_incremental()) and has refreshed_at. A mart an earlier version built
    without it is rebuilt whole, once.
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


{#-
    The daily aggregates over those marts (agg_sentiment_daily, agg_topic_sentiment_daily) are
    incremental by day the same way: a run rebuilds the days that hold a row the item mart
    refreshed since the aggregate's own latest refresh, and the days whose count no longer
    matches the item mart's (an item deleted, with nothing new that day); a post-hook drops the
    days the item mart no longer has at all.
-#}

{#- The created_date values an aggregate of `items` must rebuild; `count_column` is the aggregate's count of `items` rows per group. -#}
{% macro days_to_refresh(items, count_column) -%}
    select created_date
    from {{ items }}
    where refreshed_at > {{ latest_refresh() }}
    union
    select coalesce(upstream.created_date, built.created_date) as created_date
    from (
        select created_date, count(*) as row_count from {{ items }} group by created_date
    ) as upstream
    full outer join (
        select created_date, sum({{ count_column }}) as row_count
        from {{ this }}
        group by created_date
    ) as built
        on upstream.created_date = built.created_date
    where upstream.row_count is null
        or built.row_count is null
        or upstream.row_count <> built.row_count
{%- endmacro %}


{#- Post-hook: delete the days that `upstream` (a relation with created_date) no longer holds. -#}
{% macro delete_days_missing_from(upstream) -%}
    delete from {{ this }}
    where created_date not in (select created_date from {{ upstream }})
{%- endmacro %}


{#-
    Post-hook of a mart that holds some of `upstream`'s items, each row stamped with upstream's
    own refreshed_at (review_queue over fct_feedback): delete the rows whose item `upstream`
    has refreshed since, or no longer holds. The run has just re-inserted the refreshed items
    that still belong, at the new stamp, so what goes is what no longer belongs.
-#}
{% macro delete_rows_refreshed_away_in(upstream) -%}
    delete from {{ this }} as kept
    where not exists (
        select 1
        from {{ upstream }} as fresh
        where fresh.item_id = kept.item_id and fresh.refreshed_at = kept.refreshed_at
    )
{%- endmacro %}
