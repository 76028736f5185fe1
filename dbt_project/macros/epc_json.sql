{#- Reading fields out of the raw `payload` JSON, once per row.

    DuckDB parses the document once into a STRUCT of strings (json_transform) and then reads
    struct fields, nine times faster than one json_extract per field. BigQuery's JSON type is
    already parsed, so its "parse" is the column itself and each field is a JSON_VALUE. -#}

{% macro epc_parse_payload(column, keys) -%}
    {{ return(adapter.dispatch('epc_parse_payload', 'dame_epc')(column, keys)) }}
{%- endmacro %}

{% macro default__epc_parse_payload(column, keys) -%}
    json_transform({{ column }}, '{ {%- for key in keys -%} "{{ key }}": "VARCHAR"{{ ", " if not loop.last }}{%- endfor -%} }')
{%- endmacro %}

{% macro bigquery__epc_parse_payload(column, keys) -%}
    {{ column }}
{%- endmacro %}


{% macro epc_payload_field(parsed, key) -%}
    {{ return(adapter.dispatch('epc_payload_field', 'dame_epc')(parsed, key)) }}
{%- endmacro %}

{% macro default__epc_payload_field(parsed, key) -%}
    {{ parsed }}."{{ key }}"
{%- endmacro %}

{% macro bigquery__epc_payload_field(parsed, key) -%}
    json_value({{ parsed }}, '$."{{ key }}"')
{%- endmacro %}


{#- Every key of `keys` as a text column named like the key with `-` as `_`. -#}
{% macro epc_payload_columns(parsed, keys) -%}
    {%- for key in keys %}
        {{ epc_payload_field(parsed, key) }} as {{ key | replace('-', '_') }}{{ "," if not loop.last }}
    {%- endfor %}
{%- endmacro %}
