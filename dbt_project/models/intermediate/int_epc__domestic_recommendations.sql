{{
    config(
        unique_key=['certificate_id', 'improvement_item'],
        partition_by=(
            {'field': 'lodgement_date', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=['certificate_id'],
    )
}}

with

recommendations as (

    select * from {{ ref('stg_epc__domestic_recommendations') }}
    {{ new_loads_only(ref('stg_epc__domestic_recommendations')) }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by certificate_id, improvement_item
            order by load_id desc, extracted_at desc
        ) as load_rank
    from recommendations

),

final as (

    select {{ star_except(['load_rank']) }} from ranked
    where load_rank = 1

)

select * from final
