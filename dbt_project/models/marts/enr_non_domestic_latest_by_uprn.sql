{#- enforce_table_contracts: false only for the BigQuery emulator, which cannot parse the
    CREATE TABLE (columns) AS SELECT an enforced contract generates (its DDL is asserted instead) -#}
{{
    config(
        materialized='incremental',
        unique_key='property_key',
        on_schema_change='append_new_columns',
        partition_by=(
            {'field': 'lodgement_date', 'data_type': 'date', 'granularity': 'month'}
            if target.type == 'bigquery' else none
        ),
        cluster_by=['property_key'],
        contract={'enforced': var('enforce_table_contracts', true)},
    )
}}

{#- int_epc__non_domestic_certificates is read where needed rather than through one shared CTE, which
    DuckDB would materialise whole, every column of every certificate. -#}

with

{% if is_incremental() %}
new_certificates as (

    -- loaded since the last run; only their properties can get a new latest certificate
    select * from {{ ref('int_epc__non_domestic_certificates') }}
    {{ new_loads_only(ref('int_epc__non_domestic_certificates')) }}

),

touched_properties as (

    select distinct property_key from new_certificates

),

candidates as (

    -- the new certificates against the current latest of each property they touch
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
        load_id
    from new_certificates
    union all
    select
        current_latest.property_key,
        current_latest.lmk_key,
        current_latest.uprn,
        current_latest.uprn_source,
        current_latest.building_reference_number,
        current_latest.address1,
        current_latest.address2,
        current_latest.address3,
        current_latest.address,
        current_latest.postcode,
        current_latest.posttown,
        current_latest.county,
        current_latest.local_authority,
        current_latest.local_authority_label,
        current_latest.constituency,
        current_latest.constituency_label,
        current_latest.lodgement_date,
        current_latest.lodgement_datetime,
        current_latest.inspection_date,
        current_latest.asset_rating,
        current_latest.asset_rating_band,
        current_latest.new_build_benchmark,
        current_latest.existing_stock_benchmark,
        current_latest.floor_area,
        current_latest.standard_emissions,
        current_latest.target_emissions,
        current_latest.typical_emissions,
        current_latest.building_emissions,
        current_latest.primary_energy_value,
        current_latest.aircon_kw_rating,
        current_latest.estimated_aircon_kw_rating,
        current_latest.building_level,
        current_latest.aircon_present,
        current_latest.property_type,
        current_latest.transaction_type,
        current_latest.main_heating_fuel,
        current_latest.other_fuel_desc,
        current_latest.special_energy_uses,
        current_latest.renewable_sources,
        current_latest.ac_inspection_commissioned,
        current_latest.building_environment,
        current_latest.report_type,
        current_latest.extracted_at,
        current_latest.load_id
    from {{ this }} as current_latest
    inner join touched_properties
        on current_latest.property_key = touched_properties.property_key

),

property_sizes as (

    select
        certificates.property_key,
        count(*) as certificates_for_property
    from {{ ref('int_epc__non_domestic_certificates') }} as certificates
    inner join touched_properties
        on certificates.property_key = touched_properties.property_key
    group by certificates.property_key

),
{% else %}
candidates as (

    select * from {{ ref('int_epc__non_domestic_certificates') }}

),

property_sizes as (

    select
        property_key,
        count(*) as certificates_for_property
    from {{ ref('int_epc__non_domestic_certificates') }}
    group by property_key

),
{% endif %}

ranked as (

    select
        *,
        row_number() over (
            partition by property_key
            order by
                lodgement_date desc nulls last,
                lodgement_datetime desc nulls last,
                lmk_key desc,
                load_id desc
        ) as rank_in_property
    from candidates

),

final as (

    select
        ranked.property_key,
        ranked.lmk_key,
        ranked.uprn,
        ranked.uprn_source,
        ranked.building_reference_number,
        ranked.address1,
        ranked.address2,
        ranked.address3,
        ranked.address,
        ranked.postcode,
        ranked.posttown,
        ranked.county,
        ranked.local_authority,
        ranked.local_authority_label,
        ranked.constituency,
        ranked.constituency_label,
        ranked.lodgement_date,
        ranked.lodgement_datetime,
        ranked.inspection_date,
        ranked.asset_rating,
        ranked.asset_rating_band,
        ranked.new_build_benchmark,
        ranked.existing_stock_benchmark,
        ranked.floor_area,
        ranked.standard_emissions,
        ranked.target_emissions,
        ranked.typical_emissions,
        ranked.building_emissions,
        ranked.primary_energy_value,
        ranked.aircon_kw_rating,
        ranked.estimated_aircon_kw_rating,
        ranked.building_level,
        ranked.aircon_present,
        ranked.property_type,
        ranked.transaction_type,
        ranked.main_heating_fuel,
        ranked.other_fuel_desc,
        ranked.special_energy_uses,
        ranked.renewable_sources,
        ranked.ac_inspection_commissioned,
        ranked.building_environment,
        ranked.report_type,
        ranked.extracted_at,
        ranked.load_id,
        cast(property_sizes.certificates_for_property as {{ dbt.type_int() }}) as certificates_for_property
    from ranked
    inner join property_sizes
        on ranked.property_key = property_sizes.property_key
    where ranked.rank_in_property = 1

)

select * from final
