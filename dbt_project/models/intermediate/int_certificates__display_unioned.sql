{{
    config(
        unique_key='certificate_id',
        partition_by=lodgement_month_partition(),
        cluster_by=['property_key', 'certificate_id'],
    )
}}

{{ unioned_certificates([
    ref('stg_odc__display_certificates'),
    ref('stg_mhclg__display_certificates'),
]) }}
