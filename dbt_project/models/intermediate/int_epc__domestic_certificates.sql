{{
    config(
        unique_key='certificate_id',
        partition_by=(
            {'field': 'lodgement_date', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=['property_key', 'certificate_id'],
    )
}}

with

certificates as (

    select * from {{ ref('stg_epc__domestic_certificates') }}
    {{ new_loads_only(ref('stg_epc__domestic_certificates')) }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by certificate_id
            order by load_id desc, extracted_at desc
        ) as load_rank
    from certificates

),

latest_load as (

    select {{ star_except(['load_rank']) }} from ranked
    where load_rank = 1

),

final as (

    select
        *,
        {{ property_key('uprn', 'postcode', ['address1', 'address2', 'address3'], 'certificate_id') }}
            as property_key
    from latest_load

)

select * from final
