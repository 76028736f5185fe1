{#- The v1 API's non-domestic recommendations, one row per recommendation, typed and cleaned. -#}
{%- set payload_keys = [
    'payback-type', 'recommendation-item', 'recommendation-code', 'recommendation', 'co2-impact',
] -%}

with

source as (

    select * from {{ epc_source('odc', 'non_domestic_recommendations_raw_json') }}

),

parsed as (

    select
        lmk_key,
        lodgement_date,
        extracted_at,
        _dlt_load_id,
        {{ epc_parse_payload('payload', payload_keys) }} as p
    from source

),

renamed as (

    select
        -- keys
        lmk_key as certificate_id,
        'odc' as source_system,
        lmk_key,
        {{ to_int(epc_payload_field('p', 'recommendation-item')) }} as recommendation_item,

        -- dates
        lodgement_date,

        -- descriptions
        lower({{ clean_text(epc_payload_field('p', 'payback-type')) }}) as payback_type,
        upper({{ clean_text(epc_payload_field('p', 'recommendation-code')) }}) as recommendation_code,
        {{ clean_text(epc_payload_field('p', 'recommendation')) }} as recommendation,
        upper({{ clean_text(epc_payload_field('p', 'co2-impact')) }}) as co2_impact,

        -- load
        extracted_at,
        _dlt_load_id as load_id

    from parsed

)

select * from renamed
