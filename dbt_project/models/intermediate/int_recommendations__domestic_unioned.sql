{{
    config(
        unique_key=['certificate_id', 'improvement_item'],
        partition_by=lodgement_month_partition(),
        cluster_by=['certificate_id'],
    )
}}
{%- set staging_models = [
    ref('stg_odc__domestic_recommendations'),
    ref('stg_mhclg__domestic_recommendations'),
] -%}

with

recommendations as (

    -- both sources' recommendations in one set of columns; on a daily run only the new loads
    {{ new_loads_of(staging_models) }}

),

final as (

    {{ latest_load('recommendations', ['certificate_id', 'improvement_item']) }}

)

select * from final
