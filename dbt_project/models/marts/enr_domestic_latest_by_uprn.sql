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

{#- int_epc__domestic_certificates is read where needed rather than through one shared CTE, which
    DuckDB would materialise whole, every column of every certificate. -#}

with

{% if is_incremental() %}
new_certificates as (

    -- loaded since the last run; only their properties can get a new latest certificate
    select * from {{ ref('int_epc__domestic_certificates') }}
    {{ new_loads_only(ref('int_epc__domestic_certificates')) }}

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
        current_energy_rating,
        potential_energy_rating,
        current_energy_efficiency,
        potential_energy_efficiency,
        environment_impact_current,
        environment_impact_potential,
        energy_consumption_current,
        energy_consumption_potential,
        co2_emissions_current,
        co2_emissions_current_per_floor_area,
        co2_emissions_potential,
        lighting_cost_current,
        lighting_cost_potential,
        heating_cost_current,
        heating_cost_potential,
        hot_water_cost_current,
        hot_water_cost_potential,
        total_floor_area,
        floor_height,
        multi_glaze_proportion,
        low_energy_lighting,
        extension_count,
        number_habitable_rooms,
        number_heated_rooms,
        number_open_fireplaces,
        flat_storey_count,
        wind_turbine_count,
        unheated_corridor_length,
        photo_supply,
        fixed_lighting_outlets_count,
        low_energy_fixed_light_count,
        mains_gas,
        flat_top_storey,
        solar_water_heating,
        property_type,
        built_form,
        transaction_type,
        energy_tariff,
        floor_level,
        main_heating_controls,
        glazed_type,
        glazed_area,
        hot_water_description,
        hot_water_energy_eff,
        hot_water_env_eff,
        floor_description,
        floor_energy_eff,
        floor_env_eff,
        windows_description,
        windows_energy_eff,
        windows_env_eff,
        walls_description,
        walls_energy_eff,
        walls_env_eff,
        secondary_heating_description,
        secondary_heating_energy_eff,
        secondary_heating_env_eff,
        roof_description,
        roof_energy_eff,
        roof_env_eff,
        main_heating_description,
        main_heating_energy_eff,
        main_heating_env_eff,
        main_heating_controls_description,
        main_heating_controls_energy_eff,
        main_heating_controls_env_eff,
        lighting_description,
        lighting_energy_eff,
        lighting_env_eff,
        main_fuel,
        heat_loss_corridor,
        mechanical_ventilation,
        construction_age_band,
        tenure,
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
        current_latest.current_energy_rating,
        current_latest.potential_energy_rating,
        current_latest.current_energy_efficiency,
        current_latest.potential_energy_efficiency,
        current_latest.environment_impact_current,
        current_latest.environment_impact_potential,
        current_latest.energy_consumption_current,
        current_latest.energy_consumption_potential,
        current_latest.co2_emissions_current,
        current_latest.co2_emissions_current_per_floor_area,
        current_latest.co2_emissions_potential,
        current_latest.lighting_cost_current,
        current_latest.lighting_cost_potential,
        current_latest.heating_cost_current,
        current_latest.heating_cost_potential,
        current_latest.hot_water_cost_current,
        current_latest.hot_water_cost_potential,
        current_latest.total_floor_area,
        current_latest.floor_height,
        current_latest.multi_glaze_proportion,
        current_latest.low_energy_lighting,
        current_latest.extension_count,
        current_latest.number_habitable_rooms,
        current_latest.number_heated_rooms,
        current_latest.number_open_fireplaces,
        current_latest.flat_storey_count,
        current_latest.wind_turbine_count,
        current_latest.unheated_corridor_length,
        current_latest.photo_supply,
        current_latest.fixed_lighting_outlets_count,
        current_latest.low_energy_fixed_light_count,
        current_latest.mains_gas,
        current_latest.flat_top_storey,
        current_latest.solar_water_heating,
        current_latest.property_type,
        current_latest.built_form,
        current_latest.transaction_type,
        current_latest.energy_tariff,
        current_latest.floor_level,
        current_latest.main_heating_controls,
        current_latest.glazed_type,
        current_latest.glazed_area,
        current_latest.hot_water_description,
        current_latest.hot_water_energy_eff,
        current_latest.hot_water_env_eff,
        current_latest.floor_description,
        current_latest.floor_energy_eff,
        current_latest.floor_env_eff,
        current_latest.windows_description,
        current_latest.windows_energy_eff,
        current_latest.windows_env_eff,
        current_latest.walls_description,
        current_latest.walls_energy_eff,
        current_latest.walls_env_eff,
        current_latest.secondary_heating_description,
        current_latest.secondary_heating_energy_eff,
        current_latest.secondary_heating_env_eff,
        current_latest.roof_description,
        current_latest.roof_energy_eff,
        current_latest.roof_env_eff,
        current_latest.main_heating_description,
        current_latest.main_heating_energy_eff,
        current_latest.main_heating_env_eff,
        current_latest.main_heating_controls_description,
        current_latest.main_heating_controls_energy_eff,
        current_latest.main_heating_controls_env_eff,
        current_latest.lighting_description,
        current_latest.lighting_energy_eff,
        current_latest.lighting_env_eff,
        current_latest.main_fuel,
        current_latest.heat_loss_corridor,
        current_latest.mechanical_ventilation,
        current_latest.construction_age_band,
        current_latest.tenure,
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
    from {{ ref('int_epc__domestic_certificates') }} as certificates
    inner join touched_properties
        on certificates.property_key = touched_properties.property_key
    group by certificates.property_key

),
{% else %}
candidates as (

    select * from {{ ref('int_epc__domestic_certificates') }}

),

property_sizes as (

    select
        property_key,
        count(*) as certificates_for_property
    from {{ ref('int_epc__domestic_certificates') }}
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
        ranked.current_energy_rating,
        ranked.potential_energy_rating,
        ranked.current_energy_efficiency,
        ranked.potential_energy_efficiency,
        ranked.environment_impact_current,
        ranked.environment_impact_potential,
        ranked.energy_consumption_current,
        ranked.energy_consumption_potential,
        ranked.co2_emissions_current,
        ranked.co2_emissions_current_per_floor_area,
        ranked.co2_emissions_potential,
        ranked.lighting_cost_current,
        ranked.lighting_cost_potential,
        ranked.heating_cost_current,
        ranked.heating_cost_potential,
        ranked.hot_water_cost_current,
        ranked.hot_water_cost_potential,
        ranked.total_floor_area,
        ranked.floor_height,
        ranked.multi_glaze_proportion,
        ranked.low_energy_lighting,
        ranked.extension_count,
        ranked.number_habitable_rooms,
        ranked.number_heated_rooms,
        ranked.number_open_fireplaces,
        ranked.flat_storey_count,
        ranked.wind_turbine_count,
        ranked.unheated_corridor_length,
        ranked.photo_supply,
        ranked.fixed_lighting_outlets_count,
        ranked.low_energy_fixed_light_count,
        ranked.mains_gas,
        ranked.flat_top_storey,
        ranked.solar_water_heating,
        ranked.property_type,
        ranked.built_form,
        ranked.transaction_type,
        ranked.energy_tariff,
        ranked.floor_level,
        ranked.main_heating_controls,
        ranked.glazed_type,
        ranked.glazed_area,
        ranked.hot_water_description,
        ranked.hot_water_energy_eff,
        ranked.hot_water_env_eff,
        ranked.floor_description,
        ranked.floor_energy_eff,
        ranked.floor_env_eff,
        ranked.windows_description,
        ranked.windows_energy_eff,
        ranked.windows_env_eff,
        ranked.walls_description,
        ranked.walls_energy_eff,
        ranked.walls_env_eff,
        ranked.secondary_heating_description,
        ranked.secondary_heating_energy_eff,
        ranked.secondary_heating_env_eff,
        ranked.roof_description,
        ranked.roof_energy_eff,
        ranked.roof_env_eff,
        ranked.main_heating_description,
        ranked.main_heating_energy_eff,
        ranked.main_heating_env_eff,
        ranked.main_heating_controls_description,
        ranked.main_heating_controls_energy_eff,
        ranked.main_heating_controls_env_eff,
        ranked.lighting_description,
        ranked.lighting_energy_eff,
        ranked.lighting_env_eff,
        ranked.main_fuel,
        ranked.heat_loss_corridor,
        ranked.mechanical_ventilation,
        ranked.construction_age_band,
        ranked.tenure,
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
