with

source as (

    -- the v1 API's certificates and the live service's, in the same text columns
    select * from {{ ref('base_epc__domestic_certificates') }}
    union all
    select * from {{ ref('base_mhclg__domestic_certificates') }}

),

renamed as (

    select
        -- keys
        certificate_id,
        source_system,
        lmk_key,
        certificate_number,
        schema_type,
        {{ clean_text('building_reference_number') }} as building_reference_number,
        {{ to_uprn('uprn') }} as uprn,
        {{ clean_text('uprn_source') }} as uprn_source,

        -- address
        {{ clean_text('address1') }} as address1,
        {{ clean_text('address2') }} as address2,
        {{ clean_text('address3') }} as address3,
        {{ clean_text('address') }} as address,
        upper({{ clean_text('postcode') }}) as postcode,
        {{ clean_text('posttown') }} as posttown,
        {{ clean_text('county') }} as county,
        upper({{ clean_text('local_authority') }}) as local_authority,
        {{ clean_text('local_authority_label') }} as local_authority_label,
        upper({{ clean_text('constituency') }}) as constituency,
        {{ clean_text('constituency_label') }} as constituency_label,

        -- dates
        lodgement_date,
        {{ to_timestamp('lodgement_datetime') }} as lodgement_datetime,
        {{ to_date('inspection_date') }} as inspection_date,

        -- ratings
        {{ to_rating('current_energy_rating') }} as current_energy_rating,
        {{ to_rating('potential_energy_rating') }} as potential_energy_rating,
        {{ to_int('current_energy_efficiency') }} as current_energy_efficiency,
        {{ to_int('potential_energy_efficiency') }} as potential_energy_efficiency,
        {{ to_int('environment_impact_current') }} as environment_impact_current,
        {{ to_int('environment_impact_potential') }} as environment_impact_potential,

        -- measures
        {{ to_float('energy_consumption_current') }} as energy_consumption_current,
        {{ to_float('energy_consumption_potential') }} as energy_consumption_potential,
        case
            when {{ to_float('co2_emissions_current') }} >= 0
                then {{ to_float('co2_emissions_current') }}
        end as co2_emissions_current,
        {{ to_float('co2_emiss_curr_per_floor_area') }} as co2_emissions_current_per_floor_area,
        {{ to_float('co2_emissions_potential') }} as co2_emissions_potential,
        {{ to_float('lighting_cost_current') }} as lighting_cost_current,
        {{ to_float('lighting_cost_potential') }} as lighting_cost_potential,
        {{ to_float('heating_cost_current') }} as heating_cost_current,
        {{ to_float('heating_cost_potential') }} as heating_cost_potential,
        {{ to_float('hot_water_cost_current') }} as hot_water_cost_current,
        {{ to_float('hot_water_cost_potential') }} as hot_water_cost_potential,
        case
            when {{ to_float('total_floor_area') }} > 0 and {{ to_float('total_floor_area') }} <= 10000
                then {{ to_float('total_floor_area') }}
        end as total_floor_area,
        {{ to_float('floor_height') }} as floor_height,
        {{ to_float('multi_glaze_proportion') }} as multi_glaze_proportion,
        case
            when {{ to_int('low_energy_lighting') }} between 0 and 100
                then {{ to_int('low_energy_lighting') }}
        end as low_energy_lighting,
        {{ to_int('extension_count') }} as extension_count,
        {{ to_int('number_habitable_rooms') }} as number_habitable_rooms,
        {{ to_int('number_heated_rooms') }} as number_heated_rooms,
        {{ to_int('number_open_fireplaces') }} as number_open_fireplaces,
        {{ to_int('flat_storey_count') }} as flat_storey_count,
        {{ to_int('wind_turbine_count') }} as wind_turbine_count,
        {{ to_float('unheated_corridor_length') }} as unheated_corridor_length,
        {{ to_float('photo_supply') }} as photo_supply,
        {{ to_int('fixed_lighting_outlets_count') }} as fixed_lighting_outlets_count,
        {{ to_int('low_energy_fixed_light_count') }} as low_energy_fixed_light_count,

        -- flags
        {{ to_flag('mains_gas_flag') }} as mains_gas,
        {{ to_flag('flat_top_storey') }} as flat_top_storey,
        {{ to_flag('solar_water_heating_flag') }} as solar_water_heating,

        -- descriptions
        {{ clean_text('property_type') }} as property_type,
        {{ clean_text('built_form') }} as built_form,
        {{ clean_text('transaction_type') }} as transaction_type,
        {{ clean_text('energy_tariff') }} as energy_tariff,
        {{ clean_text('floor_level') }} as floor_level,
        {{ clean_text('main_heating_controls') }} as main_heating_controls,
        {{ clean_text('glazed_type') }} as glazed_type,
        {{ clean_text('glazed_area') }} as glazed_area,
        {{ clean_text('hotwater_description') }} as hot_water_description,
        {{ clean_text('hot_water_energy_eff') }} as hot_water_energy_eff,
        {{ clean_text('hot_water_env_eff') }} as hot_water_env_eff,
        {{ clean_text('floor_description') }} as floor_description,
        {{ clean_text('floor_energy_eff') }} as floor_energy_eff,
        {{ clean_text('floor_env_eff') }} as floor_env_eff,
        {{ clean_text('windows_description') }} as windows_description,
        {{ clean_text('windows_energy_eff') }} as windows_energy_eff,
        {{ clean_text('windows_env_eff') }} as windows_env_eff,
        {{ clean_text('walls_description') }} as walls_description,
        {{ clean_text('walls_energy_eff') }} as walls_energy_eff,
        {{ clean_text('walls_env_eff') }} as walls_env_eff,
        {{ clean_text('secondheat_description') }} as secondary_heating_description,
        {{ clean_text('sheating_energy_eff') }} as secondary_heating_energy_eff,
        {{ clean_text('sheating_env_eff') }} as secondary_heating_env_eff,
        {{ clean_text('roof_description') }} as roof_description,
        {{ clean_text('roof_energy_eff') }} as roof_energy_eff,
        {{ clean_text('roof_env_eff') }} as roof_env_eff,
        {{ clean_text('mainheat_description') }} as main_heating_description,
        {{ clean_text('mainheat_energy_eff') }} as main_heating_energy_eff,
        {{ clean_text('mainheat_env_eff') }} as main_heating_env_eff,
        {{ clean_text('mainheatcont_description') }} as main_heating_controls_description,
        {{ clean_text('mainheatc_energy_eff') }} as main_heating_controls_energy_eff,
        {{ clean_text('mainheatc_env_eff') }} as main_heating_controls_env_eff,
        {{ clean_text('lighting_description') }} as lighting_description,
        {{ clean_text('lighting_energy_eff') }} as lighting_energy_eff,
        {{ clean_text('lighting_env_eff') }} as lighting_env_eff,
        {{ clean_text('main_fuel') }} as main_fuel,
        {{ clean_text('heat_loss_corridor') }} as heat_loss_corridor,
        {{ clean_text('mechanical_ventilation') }} as mechanical_ventilation,
        {{ clean_text('construction_age_band') }} as construction_age_band,
        {{ clean_text('tenure') }} as tenure,
        {{ clean_text('report_type') }} as report_type,

        -- load
        extracted_at,
        load_id

    from source

)

select * from renamed
