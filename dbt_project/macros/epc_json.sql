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


{#- The select list of a v1 base model: the landing columns under the names both sources share,
    then every payload key of the kind as a text column (from the parsed payload `parsed`). The
    live service's base models emit the same columns in the same order (mhclg_base_columns). -#}
{% macro odc_base_columns(parsed, keys) -%}
        lmk_key as certificate_id,
        'odc' as source_system,
        lmk_key,
        cast(null as {{ dbt.type_string() }}) as certificate_number,
        cast(null as {{ dbt.type_string() }}) as schema_type,
        lodgement_date,
        postcode,
        uprn,
        extracted_at,
        _dlt_load_id as load_id,
        {{- epc_payload_columns(parsed, keys) }}
{%- endmacro %}
