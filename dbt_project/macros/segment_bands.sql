{#-
    Segment bands shared by dim_members (tenure today) and int_feedback_items_labelled (tenure
    and renewal window at the time of an item), so a band means the same everywhere. The labels
    are the ones the dashboard shows (app/data.py SEGMENTS, tests/app/marts_fixture.py).
-#}

{#- Tenure band of a whole number of months since joining; 'Unknown' when null. -#}
{% macro tenure_band(months) -%}
    case
        when {{ months }} is null then 'Unknown'
        when {{ months }} < 12 then '< 1 year'
        when {{ months }} < 36 then '1-2 years'
        when {{ months }} < 72 then '3-5 years'
        when {{ months }} < 132 then '6-10 years'
        else '11+ years'
    end
{%- endmacro %}


{#- Renewal window of a number of days until dues are next due (negative: overdue). -#}
{% macro renewal_window(days_to_due) -%}
    case
        when {{ days_to_due }} is null then 'Unknown'
        when {{ days_to_due }} < 0 then 'lapsed'
        when {{ days_to_due }} <= 30 then '0-30 days'
        when {{ days_to_due }} <= 90 then '31-90 days'
        else '91+ days'
    end
{%- endmacro %}
