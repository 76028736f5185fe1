{#- A raw table, or an empty relation of the same columns when the extractor has not created it
    yet: a warehouse fed only by the live service has no v1 tables, and the other way round, and
    `dbt build` must still work. Set the var `epc_check_sources: false` to skip the look-up (the
    offline BigQuery compile in CI has no connection to look with). -#}
{% macro epc_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {#- in a unit test, source() is the fixture CTE (no schema): use it -#}
    {%- if execute and var('epc_check_sources', true) and relation.schema is not none
          and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
        (select {{ epc_empty_columns(table_name) }} limit 0)
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- The landing columns of each raw table, typed, as NULLs. -#}
{% macro epc_empty_columns(table_name) -%}
    {%- set key = 'certificate_number' if table_name.startswith('mhclg_') else 'lmk_key' -%}
    cast(null as {{ dbt.type_string() }}) as {{ key }},
    cast(null as date) as lodgement_date,
    cast(null as {{ dbt.type_string() }}) as postcode,
    cast(null as {{ dbt.type_string() }}) as uprn,
    {{ epc_null_json() }} as payload,
    {%- if table_name == 'mhclg_deltas_raw_json' %}
    cast(null as {{ dbt.type_string() }}) as event_type,
    cast(null as {{ dbt.type_string() }}) as event_timestamp,
    {%- elif table_name.startswith('mhclg_') %}
    cast(null as {{ dbt.type_string() }}) as schema_type,
    cast(null as {{ dbt.type_string() }}) as related_certificate_number,
    {%- endif %}
    {{ epc_null_loaded_at() }} as extracted_at,
    cast(null as {{ dbt.type_string() }}) as _dlt_load_id
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
