{#- Local replacement for dbt_utils.expression_is_true (no dbt Hub packages). -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
