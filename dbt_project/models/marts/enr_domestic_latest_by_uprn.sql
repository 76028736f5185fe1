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

    select * from {{ ref('int_epc__domestic_certificates') }}
    {% if is_incremental() %}
    -- only the properties that new certificates touched are ranked again, with all their certificates
    where property_key in (
        select property_key from {{ ref('int_epc__domestic_certificates') }}
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
        load_id,
        certificates_for_property
    from ranked
    where rank_in_property = 1

)

select * from final
