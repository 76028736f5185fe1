{#- The service's code tables as landed (replaced whole on each refresh): one row per code, key,
    schema version and assessment type. The service lists a few keys twice with two labels; the
    first label in order is kept, so the choice is deterministic. -#}

with

source as (

    select * from {{ epc_source('mhclg', 'mhclg_codes_raw_json') }}

),

ranked as (

    select
        code,
        key,
        schema_version,
        assessment_type,
        value,
        extracted_at,
        _dlt_load_id as load_id,
        row_number() over (
            partition by code, key, schema_version, assessment_type
            order by value
        ) as rank_in_key
    from source

),

renamed as (

    select
        -- keys
        code,
        key,
        schema_version,
        assessment_type,

        -- descriptions
        value,

        -- load
        extracted_at,
        load_id

    from ranked
    where rank_in_key = 1

)

select * from renamed
