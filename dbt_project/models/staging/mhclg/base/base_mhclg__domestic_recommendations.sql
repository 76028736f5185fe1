{#- The live service's domestic recommendations as text: it keeps them inside the certificate
    document, one element of `suggested_improvements` each, so this model reads the certificates'
    raw table (beside base_mhclg__domestic_certificates: a documented exception to one model per
    source table). Older schemas write the texts; newer ones only the improvement's number, which
    stg_mhclg__domestic_recommendations decodes. -#}

with

source as (

    select * from {{ epc_source('mhclg', 'mhclg_domestic_raw_json') }}

),

renamed as (

    select
        -- keys
        certificates.certificate_number as certificate_id,
        'mhclg' as source_system,
        cast(null as {{ dbt.type_string() }}) as lmk_key,
        {{ mhclg_value('element', '$.sequence') }} as improvement_item,
        certificates.schema_type,
        {{ mhclg_value('certificates.payload', '$.assessment_type') }} as assessment_type,

        -- dates
        certificates.lodgement_date,

        -- descriptions
        {{ mhclg_value('element', [
            '$.improvement_summary', '$.improvement_details.improvement_texts.improvement_summary',
        ]) }} as improvement_summary_text,
        {{ mhclg_value('element', [
            '$.improvement_description', '$.improvement_details.improvement_texts.improvement_description',
        ]) }} as improvement_descr_text,
        {{ mhclg_value('element', '$.improvement_details.improvement_number') }} as improvement_id,
        {{ mhclg_value('element', '$.indicative_cost') }} as indicative_cost,

        -- load
        certificates.extracted_at,
        certificates._dlt_load_id as load_id

    from source as certificates
    {{ json_array_elements('certificates.payload', '$.suggested_improvements') }}

)

select * from renamed
