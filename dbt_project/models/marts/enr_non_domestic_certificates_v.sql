with

certificates as (

    -- certificates the live service has since removed are left out
    select certificates.*
    from {{ ref('int_epc__non_domestic_certificates') }} as certificates
    left join {{ ref('int_epc__removed_certificates') }} as removed
        on certificates.certificate_id = removed.certificate_id
    where removed.certificate_id is null

),

final as (

    select
        certificate_id,
        source_system,
        lmk_key,
        certificate_number,
        schema_type,
        property_key,
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
    from certificates

)

select * from final
