{#- The v1 API's domestic recommendations, one row per recommendation, typed and cleaned. -#}
{%- set payload_keys = [
    'improvement-item', 'improvement-summary-text', 'improvement-descr-text', 'improvement-id',
    'improvement-id-text', 'indicative-cost',
] -%}

with

source as (

    select * from {{ epc_source('odc', 'domestic_recommendations_raw_json') }}

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
        {{ to_int(epc_payload_field('p', 'improvement-item')) }} as improvement_item,

        -- dates
        lodgement_date,

        -- descriptions
        {{ clean_text(epc_payload_field('p', 'improvement-summary-text')) }} as improvement_summary_text,
        {{ clean_text(epc_payload_field('p', 'improvement-descr-text')) }} as improvement_descr_text,
        {{ to_int(epc_payload_field('p', 'improvement-id')) }} as improvement_id,
        {{ clean_text(epc_payload_field('p', 'improvement-id-text')) }} as improvement_id_text,
        {{ clean_text(epc_payload_field('p', 'indicative-cost')) }} as indicative_cost,

        -- load
        extracted_at,
        _dlt_load_id as load_id

    from parsed

)

select * from renamed
