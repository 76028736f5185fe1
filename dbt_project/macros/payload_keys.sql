{#- The v1 API's payload keys per kind, in one place: the v1 base models parse them and the live
    service's base models emit the same columns, so staging reads both alike. -#}
{% macro epc_payload_keys(kind) -%}
    {%- set keys = {
        'domestic': [
            'building-reference-number', 'address1', 'address2', 'address3', 'address', 'posttown',
            'county', 'local-authority', 'local-authority-label', 'constituency', 'constituency-label',
            'uprn-source', 'inspection-date', 'lodgement-datetime', 'current-energy-rating',
            'potential-energy-rating', 'current-energy-efficiency', 'potential-energy-efficiency',
            'environment-impact-current', 'environment-impact-potential', 'energy-consumption-current',
            'energy-consumption-potential', 'co2-emissions-current', 'co2-emiss-curr-per-floor-area',
            'co2-emissions-potential', 'lighting-cost-current', 'lighting-cost-potential',
            'heating-cost-current', 'heating-cost-potential', 'hot-water-cost-current',
            'hot-water-cost-potential', 'total-floor-area', 'floor-height', 'multi-glaze-proportion',
            'low-energy-lighting', 'extension-count', 'number-habitable-rooms', 'number-heated-rooms',
            'number-open-fireplaces', 'flat-storey-count', 'wind-turbine-count',
            'unheated-corridor-length', 'photo-supply', 'fixed-lighting-outlets-count',
            'low-energy-fixed-light-count', 'mains-gas-flag', 'flat-top-storey',
            'solar-water-heating-flag', 'property-type', 'built-form', 'transaction-type',
            'energy-tariff', 'floor-level', 'main-heating-controls', 'glazed-type', 'glazed-area',
            'hotwater-description', 'hot-water-energy-eff', 'hot-water-env-eff', 'floor-description',
            'floor-energy-eff', 'floor-env-eff', 'windows-description', 'windows-energy-eff',
            'windows-env-eff', 'walls-description', 'walls-energy-eff', 'walls-env-eff',
            'secondheat-description', 'sheating-energy-eff', 'sheating-env-eff', 'roof-description',
            'roof-energy-eff', 'roof-env-eff', 'mainheat-description', 'mainheat-energy-eff',
            'mainheat-env-eff', 'mainheatcont-description', 'mainheatc-energy-eff', 'mainheatc-env-eff',
            'lighting-description', 'lighting-energy-eff', 'lighting-env-eff', 'main-fuel',
            'heat-loss-corridor', 'mechanical-ventilation', 'construction-age-band', 'tenure',
            'report-type',
        ],
        'non_domestic': [
            'building-reference-number', 'address1', 'address2', 'address3', 'address', 'posttown',
            'county', 'local-authority', 'local-authority-label', 'constituency', 'constituency-label',
            'uprn-source', 'inspection-date', 'lodgement-datetime', 'asset-rating', 'asset-rating-band',
            'property-type', 'transaction-type', 'new-build-benchmark', 'existing-stock-benchmark',
            'building-level', 'main-heating-fuel', 'other-fuel-desc', 'special-energy-uses',
            'renewable-sources', 'floor-area', 'standard-emissions', 'target-emissions',
            'typical-emissions', 'building-emissions', 'aircon-present', 'aircon-kw-rating',
            'estimated-aircon-kw-rating', 'ac-inspection-commissioned', 'building-environment',
            'primary-energy-value', 'report-type',
        ],
    } -%}
    {{ return(keys[kind]) }}
{%- endmacro %}
