with

source as (

    -- the v1 API's certificates and the live service's, in the same text columns
    select * from {{ ref('base_epc__non_domestic_certificates') }}
    union all
    select * from {{ ref('base_mhclg__non_domestic_certificates') }}

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
        {{ to_int('asset_rating') }} as asset_rating,
        {{ to_rating('asset_rating_band') }} as asset_rating_band,
        {{ to_int('new_build_benchmark') }} as new_build_benchmark,
        {{ to_int('existing_stock_benchmark') }} as existing_stock_benchmark,

        -- measures
        case
            when {{ to_float('floor_area') }} > 0 then {{ to_float('floor_area') }}
        end as floor_area,
        {{ to_float('standard_emissions') }} as standard_emissions,
        {{ to_float('target_emissions') }} as target_emissions,
        {{ to_float('typical_emissions') }} as typical_emissions,
        {{ to_float('building_emissions') }} as building_emissions,
        {{ to_float('primary_energy_value') }} as primary_energy_value,
        {{ to_float('aircon_kw_rating') }} as aircon_kw_rating,
        {{ to_float('estimated_aircon_kw_rating') }} as estimated_aircon_kw_rating,
        {{ to_int('building_level') }} as building_level,

        -- flags
        {{ to_flag('aircon_present') }} as aircon_present,

        -- descriptions
        {{ clean_text('property_type') }} as property_type,
        {{ clean_text('transaction_type') }} as transaction_type,
        {{ clean_text('main_heating_fuel') }} as main_heating_fuel,
        {{ clean_text('other_fuel_desc') }} as other_fuel_desc,
        {{ clean_text('special_energy_uses') }} as special_energy_uses,
        {{ clean_text('renewable_sources') }} as renewable_sources,
        {{ clean_text('ac_inspection_commissioned') }} as ac_inspection_commissioned,
        {{ clean_text('building_environment') }} as building_environment,
        {{ clean_text('report_type') }} as report_type,

        -- load
        extracted_at,
        load_id

    from source

)

select * from renamed
