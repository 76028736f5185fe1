{#- The live service's domestic recommendations in the v1 API's columns, typed and cleaned: the
    texts the document writes, else the labels of the improvement's number in the service's code
    tables (improvement_summary, improvement_description) for the document's schema version. -#}

with

source as (

    select * from {{ ref('base_mhclg__domestic_recommendations') }}

),

labels as (

    select * from {{ ref('stg_mhclg__code_labels') }}

),

renamed as (

    select
        -- keys
        source.certificate_id,
        source.source_system,
        source.lmk_key,
        {{ to_int('source.improvement_item') }} as improvement_item,

        -- dates
        source.lodgement_date,

        -- descriptions
        {{ clean_text('coalesce(source.improvement_summary_text, summary_label.label)') }}
            as improvement_summary_text,
        {{ clean_text('coalesce(source.improvement_descr_text, description_label.label)') }}
            as improvement_descr_text,
        {{ to_int('source.improvement_id') }} as improvement_id,
        cast(null as {{ dbt.type_string() }}) as improvement_id_text,
        {{ clean_text('source.indicative_cost') }} as indicative_cost,

        -- load
        source.extracted_at,
        source.load_id

    from source
    left join labels as summary_label
        on
            summary_label.code = 'improvement_summary'
            and source.improvement_id = summary_label.key
            and source.schema_type = summary_label.schema_version
            and source.assessment_type = summary_label.assessment_type
    left join labels as description_label
        on
            description_label.code = 'improvement_description'
            and source.improvement_id = description_label.key
            and source.schema_type = description_label.schema_version
            and source.assessment_type = description_label.assessment_type

)

select * from renamed
