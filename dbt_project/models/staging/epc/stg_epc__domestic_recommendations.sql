{%- set payload_keys = [
    'improvement-item', 'improvement-summary-text', 'improvement-descr-text', 'improvement-id',
    'improvement-id-text', 'indicative-cost',
] -%}

with

source as (

    select * from {{ epc_source('epc', 'domestic_recommendations_raw_json') }}

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

),

live_service as (

    -- the live service keeps a domestic certificate's recommendations inside its document
    select
        -- keys
        certificates.certificate_number as certificate_id,
        'mhclg' as source_system,
        cast(null as {{ dbt.type_string() }}) as lmk_key,
        {{ to_int(mhclg_value('element', '$.sequence')) }} as improvement_item,

        -- dates
        certificates.lodgement_date,

        -- descriptions
        cast(null as {{ dbt.type_string() }}) as improvement_summary_text,
        {{ clean_text(mhclg_value('element', '$.improvement_description')) }} as improvement_descr_text,
        {{ to_int(mhclg_value('element', '$.improvement_details.improvement_number')) }} as improvement_id,
        cast(null as {{ dbt.type_string() }}) as improvement_id_text,
        {{ clean_text(mhclg_value('element', '$.indicative_cost')) }} as indicative_cost,

        -- load
        certificates.extracted_at,
        certificates._dlt_load_id as load_id

    from {{ epc_source('mhclg', 'mhclg_domestic_raw_json') }} as certificates
    {{ json_array_elements('certificates.payload', '$.suggested_improvements') }}

),

unioned as (

    select * from renamed
    union all
    select * from live_service

)

select * from unioned
