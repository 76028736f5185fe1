with

source as (

    select * from {{ epc_source('mhclg', 'mhclg_deltas_raw_json') }}

),

renamed as (

    select
        -- keys
        certificate_number as certificate_id,
        lower(event_type) as event_type,

        -- dates
        lodgement_date as event_date,
        {{ to_timestamp("replace(substr(event_timestamp, 1, 19), 'T', ' ')") }} as event_at,
        event_timestamp,

        -- load
        extracted_at,
        _dlt_load_id as load_id

    from source

)

select * from renamed
