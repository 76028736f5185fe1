{#- Non-domestic certificates of the v1 API with every payload key as a text column, the payload parsed
    once. Typing and cleaning happen in stg_odc__non_domestic_certificates. -#}
{%- set payload_keys = epc_payload_keys('non_domestic') -%}

with

source as (

    select * from {{ epc_source('odc', 'non_domestic_raw_json') }}

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
