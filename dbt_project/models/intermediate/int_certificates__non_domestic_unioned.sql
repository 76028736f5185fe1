{{
    config(
        unique_key='certificate_id',
        partition_by=lodgement_month_partition(),
        cluster_by=['property_key', 'certificate_id'],
    )
}}
{%- set staging_models = [
    ref('stg_odc__non_domestic_certificates'),
    ref('stg_mhclg__non_domestic_certificates'),
] -%}

with

certificates as (

    -- both sources' certificates in one set of columns; on a daily run only the new loads
    {{ new_loads_of(staging_models) }}

),

latest_load as (

    {{ latest_load('certificates', ['certificate_id']) }}

),

final as (

    select
        *,
        {{ property_key('uprn', 'postcode', ['address1', 'address2', 'address3'], 'certificate_id') }}
            as property_key
    from latest_load

)

select * from final
