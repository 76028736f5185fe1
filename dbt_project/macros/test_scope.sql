{#- Which rows a data test reads. dbt wraps the model of every generic test in get_where_subquery;
    this override adds one condition to the test's own `where` config: in the daily build (the
    job sets EPC_TESTS_SINCE to the start of the last run whose build succeeded, as a load id) a
    test of a model that has a `load_id` column reads only the rows loaded since, so its cost
    follows the days' loads, not the history. Without it (a plain `dbt build`, the job's weekly
    full suite) and under `--full-refresh`, every test reads every row. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set since = epc_tests_since() -%}
    {%- if since and epc_has_load_id(relation) -%}
        {%- do conditions.append("load_id >= '" ~ since ~ "'") -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#- The load id from which the daily build's tests read, or none: the full suite. The job sets it
    in the environment (EPC_TESTS_SINCE), read only when tests run, so that a new value each day
    does not make dbt parse the whole project again (a changed --vars does); the var
    `epc_tests_since` works too. `--vars '{epc_tests: all}'` and `--full-refresh` run the full
    suite whatever is set. -#}
{% macro epc_tests_since() -%}
    {%- if not execute or flags.FULL_REFRESH or var('epc_tests', 'daily') == 'all' -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set since = var('epc_tests_since', none) or env_var('EPC_TESTS_SINCE', '') -%}
    {%- do return((since | string) if since else none) -%}
{%- endmacro %}


{#- Whether `relation` is a model of this project documented with a `load_id` column (every model
    documents all its columns; sources and seeds are never narrowed). -#}
{% macro epc_has_load_id(relation) -%}
    {%- if not execute -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
              and (node.alias or node.name) | lower == relation.identifier | lower -%}
            {%- do return('load_id' in node.columns) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(false) -%}
{%- endmacro %}


{#- dbt's relationships test, with the parent read through a semi-join on the child's keys: the
    child is narrowed to the day's rows in the daily build (above), and dbt's own form would still
    hash the parent's every key (ten million certificates) to look up a few thousand. -#}
{% macro default__test_relationships(model, column_name, to, field) %}

with child as (
    select {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null
),

parent as (
    select {{ field }} as to_field
    from {{ to }}
    where {{ field }} in (select child.from_field from child)
)

select child.from_field
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null

{% endmacro %}
