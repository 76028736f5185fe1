{{
    config(
        unique_key=['certificate_id', 'recommendation_item'],
        partition_by=lodgement_month_partition(),
        cluster_by=['certificate_id'],
    )
}}

with

recommendations as (

    -- the v1 API's recommendations (the only source of them yet); on a daily run only the new loads
    {{ new_loads_of([ref('stg_odc__non_domestic_recommendations')]) }}

),

final as (

    {{ latest_load('recommendations', ['certificate_id', 'recommendation_item']) }}

)

select * from final
