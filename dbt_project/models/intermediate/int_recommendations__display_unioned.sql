{{
    config(
        unique_key=['certificate_id', 'recommendation_item'],
        partition_by=lodgement_month_partition(),
        cluster_by=['certificate_id'],
    )
}}

{{ unioned_latest_loads(
    [ref('stg_odc__display_recommendations'), ref('stg_mhclg__display_recommendations')],
    ['certificate_id', 'recommendation_item'],
) }}
