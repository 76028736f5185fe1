{{
    config(
        unique_key=['certificate_id', 'improvement_item'],
        partition_by=lodgement_month_partition(),
        cluster_by=['certificate_id'],
    )
}}

{{ unioned_latest_loads(
    [ref('stg_odc__domestic_recommendations'), ref('stg_mhclg__domestic_recommendations')],
    ['certificate_id', 'improvement_item'],
) }}
