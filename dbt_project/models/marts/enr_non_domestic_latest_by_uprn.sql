{{
    config(
        materialized='incremental',
        unique_key='property_key',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        partition_by=(
            {'field': 'lodgement_date', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=['property_key'],
    )
}}

with

certificates as (

    select * from {{ ref('int_epc__non_domestic_certificates') }}
    {% if is_incremental() %}
    -- only the properties that new certificates touched are ranked again, with all their certificates
    where property_key in (
        select property_key from {{ ref('int_epc__non_domestic_certificates') }}
        where load_id > (select max(load_id) from {{ this }})
    )
    {% endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by property_key
            order by
                lodgement_date desc nulls last,
                lodgement_datetime desc nulls last,
                lmk_key desc
        ) as rank_in_property,
        cast(count(*) over (partition by property_key) as {{ dbt.type_int() }}) as certificates_for_property
    from certificates

),

final as (

    select
        property_key,
        lmk_key,
        uprn,
        uprn_source,
        building_reference_number,
        address1,
        address2,
        address3,
        address,
        postcode,
        posttown,
        county,
        local_authority,
        local_authority_label,
        constituency,
        constituency_label,
        lodgement_date,
        lodgement_datetime,
        inspection_date,
        asset_rating,
        asset_rating_band,
        new_build_benchmark,
        existing_stock_benchmark,
        floor_area,
        standard_emissions,
        target_emissions,
        typical_emissions,
        building_emissions,
        primary_energy_value,
        aircon_kw_rating,
        estimated_aircon_kw_rating,
        building_level,
        aircon_present,
        property_type,
        transaction_type,
        main_heating_fuel,
        other_fuel_desc,
        special_energy_uses,
        renewable_sources,
        ac_inspection_commissioned,
        building_environment,
        report_type,
        extracted_at,
        load_id,
        certificates_for_property
    from ranked
    where rank_in_property = 1

)

select * from final
