{#- Rows whose date in `column_name` lies after `other` (a column or expression): an inspection
    after its lodgement; with `other` left out, after the day the test runs (a certificate lodged
    in the future). NULLs pass. -#}
{% test not_after(model, column_name, other=none) %}

select {{ column_name }} as implausible_date
from {{ model }}
where
    {{ column_name }} is not null
    and {{ column_name }} > {{ other if other is not none else run_date() }}

{% endtest %}
