{#- The bodies of the models every kind has alike, with the kind (or its inputs) as argument: one
    definition each, so the kinds cannot drift apart. -#}

{#- A v1 base model: every payload key of the kind as a text column, the payload parsed once. -#}
{% macro odc_base_certificates(kind) -%}
{%- set payload_keys = epc_payload_keys(kind) -%}

with

source as (

    select * from {{ epc_source('odc', kind ~ '_raw_json') }}

),

parsed as (

    select
        *,
        {{ epc_parse_payload('payload', payload_keys) }} as p
    from source

),

renamed as (

    select {{ odc_base_columns('p', payload_keys) }}
    from parsed

)

select * from renamed
{%- endmacro %}


{#- A live-service base model: the certificate document read into the v1 API's column names (text),
    each document parsed once (mhclg_parse_once). -#}
{% macro mhclg_base_certificates(kind) -%}
{%- set mapping = mhclg_parse_once(mhclg_base_columns(kind, 'payload'), 'payload') -%}

with

source as (

    select * from {{ epc_source('mhclg', 'mhclg_' ~ kind ~ '_raw_json') }}

),

parsed as (

    select
        *,
        {{ mapping.parse }} as parsed_payload
    from source

),

renamed as (

    select
        {{ mapping.columns }}
    from parsed

)

select * from renamed
{%- endmacro %}


{#- A staging model of certificates: a base model's text columns typed and cleaned by the kind's
    column definitions (certificate_columns). -#}
{% macro typed_certificates(kind, base_model) -%}
with

source as (

    select * from {{ base_model }}

),

renamed as (

    select {{ typed_certificate_columns(kind) }}
    from source

)

select * from renamed
{%- endmacro %}


{#- An intermediate model of records: the new loads of each source's staging model in one set of
    columns, the latest load of each `keys` kept, with `extra` columns computed on it. -#}
{% macro unioned_latest_loads(staging_models, keys, extra=none) -%}
with

unioned as (

    -- every source's records in one set of columns; on a daily run only the new loads
    {{ new_loads_of(staging_models) }}

),

latest as (

    {{ latest_load('unioned', keys) }}

),

final as (

    select
        *{{ ',' if extra }}
        {{ extra or '' }}
    from latest

)

select * from final
{%- endmacro %}


{#- The intermediate model of a kind's certificates: one row per certificate across sources (its
    latest load), with the key of the property it describes. -#}
{% macro unioned_certificates(staging_models) -%}
    {%- set key = property_key('uprn', 'postcode', ['address1', 'address2', 'address3'], 'certificate_id') -%}
    {{ return(unioned_latest_loads(staging_models, ['certificate_id'], key ~ ' as property_key')) }}
{%- endmacro %}
