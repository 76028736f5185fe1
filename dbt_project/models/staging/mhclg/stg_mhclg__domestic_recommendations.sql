{#- The live service's domestic recommendations, typed and cleaned: it keeps them inside the
    certificate document, one element of `suggested_improvements` each, so this model reads the
    certificates' raw table (beside base_mhclg__domestic_certificates: a documented exception to
    one model per source table). -#}

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

    from source as certificates
    {{ json_array_elements('certificates.payload', '$.suggested_improvements') }}

)

select * from renamed
