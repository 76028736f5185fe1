{#- A raw table, or an empty relation of the same columns when the extractor has not created it
    yet: a warehouse fed only by the live service has no v1 tables, and the other way round, and
    `dbt build` must still work. The columns and their types come from the source's definition
    (the raw-table contract, whose types are dlt's: text, date, json, timestamp). Set the var
    `epc_check_sources: false` to skip the look-up (the offline BigQuery compile in CI has no
    connection to look with). -#}
{% macro epc_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {#- in a unit test, source() is the fixture CTE (no schema): use it -#}
    {%- if execute and var('epc_check_sources', true) and relation.schema is not none
          and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        (select {{ epc_empty_columns(source_name, table_name) }} limit 0)
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- The columns of a source table as typed NULLs. -#}
{% macro epc_empty_columns(source_name, table_name) -%}
    {%- set node = graph.sources.values() | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name) | first -%}
    {%- for column in node.columns.values() %}
    {{ epc_null_of(column.data_type) }} as {{ column.name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- A typed NULL of a contract type. -#}
{% macro epc_null_of(data_type) -%}
    {%- if data_type == 'json' -%}
        {{ epc_null_json() }}
    {%- elif data_type == 'timestamp' -%}
        {{ epc_null_loaded_at() }}
    {%- elif data_type == 'date' -%}
        cast(null as date)
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{% macro epc_null_json() -%}
    {{ return(adapter.dispatch('epc_null_json', 'dame_epc')()) }}
{%- endmacro %}

{% macro default__epc_null_json() -%}
    cast(null as json)
{%- endmacro %}

{% macro bigquery__epc_null_json() -%}
    parse_json('null')
{%- endmacro %}

{#- dlt lands `extracted_at` as a zoned timestamp: TIMESTAMPTZ on DuckDB, TIMESTAMP on BigQuery. -#}
{% macro epc_null_loaded_at() -%}
    {{ return(adapter.dispatch('epc_null_loaded_at', 'dame_epc')()) }}
{%- endmacro %}

{% macro default__epc_null_loaded_at() -%}
    cast(null as timestamptz)
{%- endmacro %}

{% macro bigquery__epc_null_loaded_at() -%}
    cast(null as timestamp)
{%- endmacro %}
