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
        post_hook=[
            "{{ drop_stale_latest(this, ref('int_epc__domestic_certificates'), ref('int_epc__removed_certificates')) }}",
        ],
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

new_removals as (

    select certificate_id from {{ ref('int_epc__removed_certificates') }}
    {{ new_loads_only(ref('int_epc__removed_certificates')) }}

),

vacated_properties as (

    -- properties whose current latest certificate was removed, or loaded again (perhaps under
    -- another UPRN): every certificate they still have competes again
    select current_latest.property_key
    from {{ this }} as current_latest
    where
        current_latest.certificate_id in (select new_removals.certificate_id from new_removals)
        or current_latest.certificate_id in (select new_certificates.certificate_id from new_certificates)

),

touched_properties as (

    select new_certificates.property_key from new_certificates
    union distinct
    select vacated_properties.property_key from vacated_properties

),

candidates as (

    -- the new certificates ...
    select
        new_certificates.property_key,
        new_certificates.certificate_id,
        new_certificates.source_system,
        new_certificates.lmk_key,
        new_certificates.certificate_number,
        new_certificates.schema_type,
        new_certificates.uprn,
        new_certificates.uprn_source,
        new_certificates.building_reference_number,
        new_certificates.address1,
        new_certificates.address2,
        new_certificates.address3,
        new_certificates.address,
        new_certificates.postcode,
        new_certificates.posttown,
        new_certificates.county,
        new_certificates.local_authority,
        new_certificates.local_authority_label,
        new_certificates.constituency,
        new_certificates.constituency_label,
        new_certificates.lodgement_date,
        new_certificates.lodgement_datetime,
        new_certificates.inspection_date,
        new_certificates.current_energy_rating,
        new_certificates.potential_energy_rating,
        new_certificates.current_energy_efficiency,
        new_certificates.potential_energy_efficiency,
        new_certificates.environment_impact_current,
        new_certificates.environment_impact_potential,
        new_certificates.energy_consumption_current,
        new_certificates.energy_consumption_potential,
        new_certificates.co2_emissions_current,
        new_certificates.co2_emissions_current_per_floor_area,
        new_certificates.co2_emissions_potential,
        new_certificates.lighting_cost_current,
        new_certificates.lighting_cost_potential,
        new_certificates.heating_cost_current,
        new_certificates.heating_cost_potential,
        new_certificates.hot_water_cost_current,
        new_certificates.hot_water_cost_potential,
        new_certificates.total_floor_area,
        new_certificates.floor_height,
        new_certificates.multi_glaze_proportion,
        new_certificates.low_energy_lighting,
        new_certificates.extension_count,
        new_certificates.number_habitable_rooms,
        new_certificates.number_heated_rooms,
        new_certificates.number_open_fireplaces,
        new_certificates.flat_storey_count,
        new_certificates.wind_turbine_count,
        new_certificates.unheated_corridor_length,
        new_certificates.photo_supply,
        new_certificates.fixed_lighting_outlets_count,
        new_certificates.low_energy_fixed_light_count,
        new_certificates.mains_gas,
        new_certificates.flat_top_storey,
        new_certificates.solar_water_heating,
        new_certificates.property_type,
        new_certificates.built_form,
        new_certificates.transaction_type,
        new_certificates.energy_tariff,
        new_certificates.floor_level,
        new_certificates.main_heating_controls,
        new_certificates.glazed_type,
        new_certificates.glazed_area,
        new_certificates.hot_water_description,
        new_certificates.hot_water_energy_eff,
        new_certificates.hot_water_env_eff,
        new_certificates.floor_description,
        new_certificates.floor_energy_eff,
        new_certificates.floor_env_eff,
        new_certificates.windows_description,
        new_certificates.windows_energy_eff,
        new_certificates.windows_env_eff,
        new_certificates.walls_description,
        new_certificates.walls_energy_eff,
        new_certificates.walls_env_eff,
        new_certificates.secondary_heating_description,
        new_certificates.secondary_heating_energy_eff,
        new_certificates.secondary_heating_env_eff,
        new_certificates.roof_description,
        new_certificates.roof_energy_eff,
        new_certificates.roof_env_eff,
        new_certificates.main_heating_description,
        new_certificates.main_heating_energy_eff,
        new_certificates.main_heating_env_eff,
        new_certificates.main_heating_controls_description,
        new_certificates.main_heating_controls_energy_eff,
        new_certificates.main_heating_controls_env_eff,
        new_certificates.lighting_description,
        new_certificates.lighting_energy_eff,
        new_certificates.lighting_env_eff,
        new_certificates.main_fuel,
        new_certificates.heat_loss_corridor,
        new_certificates.mechanical_ventilation,
        new_certificates.construction_age_band,
        new_certificates.tenure,
        new_certificates.report_type,
        new_certificates.extracted_at,
        new_certificates.load_id
    from new_certificates
    where {{ not_removed('new_certificates.certificate_id') }}
    union all
    -- ... every certificate a vacated property still has ...
    select
        certificates.property_key,
        certificates.certificate_id,
        certificates.source_system,
        certificates.lmk_key,
        certificates.certificate_number,
        certificates.schema_type,
        certificates.uprn,
        certificates.uprn_source,
        certificates.building_reference_number,
        certificates.address1,
        certificates.address2,
        certificates.address3,
        certificates.address,
        certificates.postcode,
        certificates.posttown,
        certificates.county,
        certificates.local_authority,
        certificates.local_authority_label,
        certificates.constituency,
        certificates.constituency_label,
        certificates.lodgement_date,
        certificates.lodgement_datetime,
        certificates.inspection_date,
        certificates.current_energy_rating,
        certificates.potential_energy_rating,
        certificates.current_energy_efficiency,
        certificates.potential_energy_efficiency,
        certificates.environment_impact_current,
        certificates.environment_impact_potential,
        certificates.energy_consumption_current,
        certificates.energy_consumption_potential,
        certificates.co2_emissions_current,
        certificates.co2_emissions_current_per_floor_area,
        certificates.co2_emissions_potential,
        certificates.lighting_cost_current,
        certificates.lighting_cost_potential,
        certificates.heating_cost_current,
        certificates.heating_cost_potential,
        certificates.hot_water_cost_current,
        certificates.hot_water_cost_potential,
        certificates.total_floor_area,
        certificates.floor_height,
        certificates.multi_glaze_proportion,
        certificates.low_energy_lighting,
        certificates.extension_count,
        certificates.number_habitable_rooms,
        certificates.number_heated_rooms,
        certificates.number_open_fireplaces,
        certificates.flat_storey_count,
        certificates.wind_turbine_count,
        certificates.unheated_corridor_length,
        certificates.photo_supply,
        certificates.fixed_lighting_outlets_count,
        certificates.low_energy_fixed_light_count,
        certificates.mains_gas,
        certificates.flat_top_storey,
        certificates.solar_water_heating,
        certificates.property_type,
        certificates.built_form,
        certificates.transaction_type,
        certificates.energy_tariff,
        certificates.floor_level,
        certificates.main_heating_controls,
        certificates.glazed_type,
        certificates.glazed_area,
        certificates.hot_water_description,
        certificates.hot_water_energy_eff,
        certificates.hot_water_env_eff,
        certificates.floor_description,
        certificates.floor_energy_eff,
        certificates.floor_env_eff,
        certificates.windows_description,
        certificates.windows_energy_eff,
        certificates.windows_env_eff,
        certificates.walls_description,
        certificates.walls_energy_eff,
        certificates.walls_env_eff,
        certificates.secondary_heating_description,
        certificates.secondary_heating_energy_eff,
        certificates.secondary_heating_env_eff,
        certificates.roof_description,
        certificates.roof_energy_eff,
        certificates.roof_env_eff,
        certificates.main_heating_description,
        certificates.main_heating_energy_eff,
        certificates.main_heating_env_eff,
        certificates.main_heating_controls_description,
        certificates.main_heating_controls_energy_eff,
        certificates.main_heating_controls_env_eff,
        certificates.lighting_description,
        certificates.lighting_energy_eff,
        certificates.lighting_env_eff,
        certificates.main_fuel,
        certificates.heat_loss_corridor,
        certificates.mechanical_ventilation,
        certificates.construction_age_band,
        certificates.tenure,
        certificates.report_type,
        certificates.extracted_at,
        certificates.load_id
    from {{ ref('int_epc__domestic_certificates') }} as certificates
    inner join vacated_properties
        on certificates.property_key = vacated_properties.property_key
    where {{ not_removed('certificates.certificate_id') }}
    union all
    -- ... and the current latest of the other properties they touch
    select
        current_latest.property_key,
        current_latest.certificate_id,
        current_latest.source_system,
        current_latest.lmk_key,
        current_latest.certificate_number,
        current_latest.schema_type,
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
    where current_latest.property_key not in (select vacated_properties.property_key from vacated_properties)

),

property_sizes as (

    select
        certificates.property_key,
        count(*) as certificates_for_property
    from {{ ref('int_epc__domestic_certificates') }} as certificates
    inner join touched_properties
        on certificates.property_key = touched_properties.property_key
    where {{ not_removed('certificates.certificate_id') }}
    group by certificates.property_key

),
{% else %}
candidates as (

    select certificates.*
    from {{ ref('int_epc__domestic_certificates') }} as certificates
    where {{ not_removed('certificates.certificate_id') }}

),

property_sizes as (

    select
        certificates.property_key,
        count(*) as certificates_for_property
    from {{ ref('int_epc__domestic_certificates') }} as certificates
    where {{ not_removed('certificates.certificate_id') }}
    group by certificates.property_key

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
                certificate_id desc,
                load_id desc
        ) as rank_in_property
    from candidates

),

final as (

    select
        ranked.property_key,
        ranked.certificate_id,
        ranked.source_system,
        ranked.lmk_key,
        ranked.certificate_number,
        ranked.schema_type,
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
