{#- Non-domestic certificates with every payload key as a text column, parsed once. -#}
{%- set payload_keys = [
    'building-reference-number', 'address1', 'address2', 'address3', 'address', 'posttown',
    'county', 'local-authority', 'local-authority-label', 'constituency', 'constituency-label',
    'uprn-source', 'inspection-date', 'lodgement-datetime', 'asset-rating', 'asset-rating-band',
    'property-type', 'transaction-type', 'new-build-benchmark', 'existing-stock-benchmark',
    'building-level', 'main-heating-fuel', 'other-fuel-desc', 'special-energy-uses',
    'renewable-sources', 'floor-area', 'standard-emissions', 'target-emissions',
    'typical-emissions', 'building-emissions', 'aircon-present', 'aircon-kw-rating',
    'estimated-aircon-kw-rating', 'ac-inspection-commissioned', 'building-environment',
    'primary-energy-value', 'report-type',
] -%}

with

source as (

    select * from {{ source('epc', 'non_domestic_raw_json') }}

),

parsed as (

    select
        lmk_key,
        lodgement_date,
        postcode,
        uprn,
        extracted_at,
        _dlt_load_id,
        {{ epc_parse_payload('payload', payload_keys) }} as p
    from source

),

renamed as (

    select
        lmk_key,
        lodgement_date,
        postcode,
        uprn,
        extracted_at,
        _dlt_load_id as load_id,
        {{ epc_payload_columns('p', payload_keys) }}
    from parsed

)

select * from renamed
