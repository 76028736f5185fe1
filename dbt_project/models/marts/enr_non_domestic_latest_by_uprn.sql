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
            "{{ drop_stale_latest(this, ref('int_epc__non_domestic_certificates'), ref('int_epc__removed_certificates')) }}",
        ],
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
        new_certificates.asset_rating,
        new_certificates.asset_rating_band,
        new_certificates.new_build_benchmark,
        new_certificates.existing_stock_benchmark,
        new_certificates.floor_area,
        new_certificates.standard_emissions,
        new_certificates.target_emissions,
        new_certificates.typical_emissions,
        new_certificates.building_emissions,
        new_certificates.primary_energy_value,
        new_certificates.aircon_kw_rating,
        new_certificates.estimated_aircon_kw_rating,
        new_certificates.building_level,
        new_certificates.aircon_present,
        new_certificates.property_type,
        new_certificates.transaction_type,
        new_certificates.main_heating_fuel,
        new_certificates.other_fuel_desc,
        new_certificates.special_energy_uses,
        new_certificates.renewable_sources,
        new_certificates.ac_inspection_commissioned,
        new_certificates.building_environment,
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
        certificates.asset_rating,
        certificates.asset_rating_band,
        certificates.new_build_benchmark,
        certificates.existing_stock_benchmark,
        certificates.floor_area,
        certificates.standard_emissions,
        certificates.target_emissions,
        certificates.typical_emissions,
        certificates.building_emissions,
        certificates.primary_energy_value,
        certificates.aircon_kw_rating,
        certificates.estimated_aircon_kw_rating,
        certificates.building_level,
        certificates.aircon_present,
        certificates.property_type,
        certificates.transaction_type,
        certificates.main_heating_fuel,
        certificates.other_fuel_desc,
        certificates.special_energy_uses,
        certificates.renewable_sources,
        certificates.ac_inspection_commissioned,
        certificates.building_environment,
        certificates.report_type,
        certificates.extracted_at,
        certificates.load_id
    from {{ ref('int_epc__non_domestic_certificates') }} as certificates
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
    where current_latest.property_key not in (select vacated_properties.property_key from vacated_properties)

),

property_sizes as (

    select
        certificates.property_key,
        count(*) as certificates_for_property
    from {{ ref('int_epc__non_domestic_certificates') }} as certificates
    inner join touched_properties
        on certificates.property_key = touched_properties.property_key
    where {{ not_removed('certificates.certificate_id') }}
    group by certificates.property_key

),
{% else %}
candidates as (

    select certificates.*
    from {{ ref('int_epc__non_domestic_certificates') }} as certificates
    where {{ not_removed('certificates.certificate_id') }}

),

property_sizes as (

    select
        certificates.property_key,
        count(*) as certificates_for_property
    from {{ ref('int_epc__non_domestic_certificates') }} as certificates
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
