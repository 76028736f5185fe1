{#- Non-domestic certificates with every payload key as a text column, parsed once. -#}
{%- set payload_keys = epc_payload_keys('non_domestic') -%}

with

source as (

    select * from {{ epc_source('epc', 'non_domestic_raw_json') }}

),

parsed as (

    select
        lmk_key,
        lodgement_date,
        postcode,
        uprn,
        extracted_at,
        _dlt_load_id,
        {{ epc_parse_payload('payload', payload_keys) }} as p
    from source

),

renamed as (

    select
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
        {{ epc_payload_columns('p', payload_keys) }}
    from parsed

)

select * from renamed
