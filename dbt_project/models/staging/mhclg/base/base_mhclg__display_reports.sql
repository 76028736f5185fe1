{#- The live service's DEC-RR recommendation reports as landed: the report document, and the
    certificate it names (DEC-RR reports may name none). -#}

with

source as (

    select * from {{ epc_source('mhclg', 'mhclg_display_reports_raw_json') }}

),

renamed as (

    select
        -- keys
        certificate_number,
        related_certificate_number,

        -- dates
        lodgement_date,

        -- the report document
        payload,

        -- load
        extracted_at,
        _dlt_load_id as load_id

    from source

)

select * from renamed
