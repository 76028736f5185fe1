{{
    config(
        unique_key='lmk_key',
        partition_by=(
            {'field': 'lodgement_date', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=['property_key', 'lmk_key'],
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
            partition by lmk_key
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
        {{ property_key('uprn', 'postcode', ['address1', 'address2', 'address3'], 'lmk_key') }}
            as property_key
    from latest_load

)

select * from final
