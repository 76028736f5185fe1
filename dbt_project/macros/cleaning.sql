{#- Cleaning and typing of the API's strings. Every staging column goes through these. -#}

{#- The one place where sentinel values become NULL (epc-api.md section 2.6): placeholders the
    register writes for "no value" (NO DATA!, INVALID!, N/A, Not Defined, Unknown, Not applicable,
    not recorded, the Welsh "Dim" = none, "Not defined - …" tenures) and empty strings. -#}
{% macro clean_text(expression) -%}
    {#- a CASE rather than IN (…): DuckDB plans a long IN list as a join, one per column -#}
    case upper(trim({{ expression }}))
        {%- for sentinel in ['', 'NO DATA!', 'NODATA!', 'INVALID!', 'N/A', 'NOT DEFINED', 'UNKNOWN',
                             'NOT APPLICABLE', 'NOT RECORDED', 'DIM', 'NONE|DIM', '%%MAINHEATCONTROL%%'] %}
        when '{{ sentinel }}' then null
        {%- endfor %}
        else case when upper(trim({{ expression }})) not like 'NOT DEFINED%' then trim({{ expression }}) end
    end
{%- endmacro %}

{% macro to_int(expression) -%}
    {#- via a float: the API writes counts such as "5.0" -#}
    {{ epc_safe_cast(epc_safe_cast(clean_text(expression), epc_double()), dbt.type_int()) }}
{%- endmacro %}

{% macro to_float(expression) -%}
    {{ epc_safe_cast(clean_text(expression), epc_double()) }}
{%- endmacro %}

{% macro to_rating(expression) -%}
    upper({{ clean_text(expression) }})
{%- endmacro %}

{% macro to_flag(expression) -%}
    case upper({{ clean_text(expression) }}) when 'Y' then true when 'N' then false end
{%- endmacro %}

{#- Digits only, without leading zeros: `001234567889` and `1234567889` are the same property. -#}
{% macro to_uprn(expression) -%}
    case
        when {{ regexp_contains_digits_only(clean_text(expression)) }}
            then nullif(ltrim({{ clean_text(expression) }}, '0'), '')
    end
{%- endmacro %}

{% macro to_date(expression) -%}
    {{ return(adapter.dispatch('to_date', 'dame_epc')(expression)) }}
{%- endmacro %}

{% macro default__to_date(expression) -%}
    cast(try_strptime({{ clean_text(expression) }}, '%Y-%m-%d') as date)
{%- endmacro %}

{% macro bigquery__to_date(expression) -%}
    safe.parse_date('%Y-%m-%d', {{ clean_text(expression) }})
{%- endmacro %}

{% macro to_timestamp(expression) -%}
    {{ return(adapter.dispatch('to_timestamp', 'dame_epc')(expression)) }}
{%- endmacro %}

{% macro default__to_timestamp(expression) -%}
    try_strptime({{ clean_text(expression) }}, '%Y-%m-%d %H:%M:%S')
{%- endmacro %}

{% macro bigquery__to_timestamp(expression) -%}
    safe.parse_timestamp('%Y-%m-%d %H:%M:%S', {{ clean_text(expression) }})
{%- endmacro %}

{#- dbt.safe_cast falls back to a plain cast on DuckDB, which fails on bad data. -#}
{% macro epc_safe_cast(expression, type) -%}
    {{ return(adapter.dispatch('epc_safe_cast', 'dame_epc')(expression, type)) }}
{%- endmacro %}

{% macro default__epc_safe_cast(expression, type) -%}
    try_cast({{ expression }} as {{ type }})
{%- endmacro %}

{% macro bigquery__epc_safe_cast(expression, type) -%}
    safe_cast({{ expression }} as {{ type }})
{%- endmacro %}

{#- 64-bit floating point, whose name differs between the engines. -#}
{% macro epc_double() -%}
    {{ return(adapter.dispatch('epc_double', 'dame_epc')()) }}
{%- endmacro %}

{% macro default__epc_double() -%} double {%- endmacro %}

{% macro bigquery__epc_double() -%} float64 {%- endmacro %}

{% macro regexp_contains_digits_only(expression) -%}
    {{ return(adapter.dispatch('regexp_contains_digits_only', 'dame_epc')(expression)) }}
{%- endmacro %}

{% macro default__regexp_contains_digits_only(expression) -%}
    regexp_full_match({{ expression }}, '[0-9]+')
{%- endmacro %}

{% macro bigquery__regexp_contains_digits_only(expression) -%}
    regexp_contains({{ expression }}, r'^[0-9]+$')
{%- endmacro %}

{#- Every match replaced (DuckDB replaces only the first without the 'g' flag). -#}
{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'dame_epc')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro bigquery__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, r'{{ pattern }}', '{{ replacement }}')
{%- endmacro %}

{#- `*` without some columns: DuckDB says EXCLUDE, BigQuery EXCEPT. -#}
{% macro star_except(columns) -%}
    {{ return(adapter.dispatch('star_except', 'dame_epc')(columns)) }}
{%- endmacro %}

{% macro default__star_except(columns) -%}
    * exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro bigquery__star_except(columns) -%}
    * except ({{ columns | join(', ') }})
{%- endmacro %}
