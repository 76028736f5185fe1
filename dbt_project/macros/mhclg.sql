{#- Reading the live service's certificate documents (GET /api/certificate → data).

    One document shape per schema family (RdSAP 17-21, SAP 11-19, CEPC 7-8), with three quirks
    every reader meets: many scalars come either plain or wrapped as {"value": …, "currency" |
    "language": …}; building elements are arrays (walls, roofs, floors, main heating) or single
    objects (hot water, lighting), and the windows sit under `window`, `windows` or `windows[0]`;
    and codes stand where the v1 API had labels (property type, built form, tenure, age band,
    fuel, element ratings 0-5). -#}

{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'dame_epc')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro bigquery__json_text(column, path) -%}
    json_value({{ column }}, '{{ path }}')
{%- endmacro %}


{#- The first of `paths` (JSONPath, `$.…`) that holds a value, as text; a {"value": …} wrapper
    is looked through. -#}
{% macro mhclg_value(column, paths) -%}
    {%- set paths = [paths] if paths is string else paths -%}
    coalesce(
        {%- for path in paths %}
        {{ json_text(column, path ~ '.value') }}, {{ json_text(column, path) }}{{ ',' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}


{#- Address, dates, UPRN source and the search row's place names: named and placed alike in every
    schema family. The council and constituency are not in any document: they come from the row
    the certificate had in search (a document loaded from a bulk file has none). -#}
{% macro mhclg_common_fields(doc) -%}
    {{ return({
        'address1': mhclg_value(doc, '$.address_line_1'),
        'address2': mhclg_value(doc, '$.address_line_2'),
        'address3': mhclg_value(doc, '$.address_line_3'),
        'address': mhclg_value(doc, '$.address_line_1')
            ~ " || coalesce(', ' || " ~ mhclg_value(doc, '$.address_line_2') ~ ", '')"
            ~ " || coalesce(', ' || " ~ mhclg_value(doc, '$.address_line_3') ~ ", '')",
        'posttown': mhclg_value(doc, '$.post_town'),
        'uprn-source': mhclg_value(doc, '$.uprn_source'),
        'inspection-date': mhclg_value(doc, '$.inspection_date'),
        'lodgement-datetime': 'substr(' ~ mhclg_value(doc, '$.created_at') ~ ', 1, 19)',
        'local-authority-label': json_text('search_row', '$.council'),
        'constituency-label': json_text('search_row', '$.constituency'),
        'report-type': mhclg_value(doc, '$.report_type'),
    }) }}
{%- endmacro %}


{#- The fields of each kind that the documents carry as codes of the service's code tables
    (/api/codes), and the table that decodes each: {v1 key: code}. The base models keep the codes;
    staging decodes them (mhclg_decoded_columns). Only the construction age band keeps a code
    without a label, as the service's own export does: it is a year in some schemas. -#}
{% macro mhclg_coded_fields(kind) -%}
    {%- set coded = {
        'domestic': {
            'property-type': 'property_type', 'built-form': 'built_form', 'tenure': 'tenure',
            'transaction-type': 'transaction_type', 'energy-tariff': 'energy_tariff',
            'glazed-type': 'glazed_type', 'glazed-area': 'glazed_area', 'main-fuel': 'main_fuel',
            'heat-loss-corridor': 'heat_loss_corridor', 'mechanical-ventilation': 'mechanical_ventilation',
            'construction-age-band': 'construction_age_band',
        },
        'non_domestic': {'transaction-type': 'transaction_type'},
        'display': {},
    }[kind] -%}
    {%- if kind == 'domestic' -%}
        {%- for element, rating in mhclg_elements().items() -%}
            {%- do coded.update({
                rating[0] ~ '-energy-eff': 'energy_efficiency_rating',
                rating[0] ~ '-env-eff': 'energy_efficiency_rating',
            }) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(coded) }}
{%- endmacro %}


{#- A dwelling's building elements: v1 name → [v1 rating prefix, where each schema keeps it]. -#}
{% macro mhclg_elements() -%}
    {{ return({
        'hotwater': ['hot-water', '$.hot_water'],
        'floor': ['floor', '$.floors[0]'],
        'windows': ['windows', ['$.window', '$.windows[0]', '$.windows']],
        'walls': ['walls', '$.walls[0]'],
        'secondheat': ['sheating', '$.secondary_heating'],
        'roof': ['roof', '$.roofs[0]'],
        'mainheat': ['mainheat', '$.main_heating[0]'],
        'mainheatcont': ['mainheatc', '$.main_heating_controls[0]'],
        'lighting': ['lighting', '$.lighting'],
    }) }}
{%- endmacro %}


{#- The document's fields under the v1 API's names for `kind` (text, like the v1 payload), read
    from the first of their JSON paths that holds a value (the paths each schema family uses:
    epb-data-warehouse's export views, and the register's open-data export where the two differ
    in meaning). Coded fields stay codes here. Keys no document carries are absent (NULL). -#}
{% macro mhclg_fields(kind, doc) -%}
    {%- set dom, non, dec = 'domestic', 'non_domestic', 'display' -%}
    {%- set fields = mhclg_common_fields(doc) -%}
    {%- set bulbs = ['cfl', 'led', 'low_energy', 'incandescent'] -%}
    {%- set paths = [
        (dom, 'current-energy-rating', '$.current_energy_efficiency_band'),
        (dom, 'potential-energy-rating', '$.potential_energy_efficiency_band'),
        (dom, 'current-energy-efficiency', '$.energy_rating_current'),
        (dom, 'potential-energy-efficiency', '$.energy_rating_potential'),
        (dom, 'environment-impact-current', '$.environmental_impact_current'),
        (dom, 'environment-impact-potential', '$.environmental_impact_potential'),
        (dom, 'co2-emiss-curr-per-floor-area', '$.co2_emissions_current_per_floor_area'),
        (dom, 'floor-height', [
            '$.sap_building_parts[0].sap_floor_dimensions[0].room_height',
            '$.sap_building_parts[0].sap_floor_dimensions[0].storey_height',
            '$.sap_building_parts[0].room_height']),
        (dom, 'multi-glaze-proportion', [
            '$.multiple_glazed_percentage', '$.multiple_glazed_proportion', '$.double_glazed_proportion']),
        (dom, 'extension-count', '$.extensions_count'),
        (dom, 'number-habitable-rooms', '$.habitable_room_count'),
        (dom, 'number-heated-rooms', '$.heated_room_count'),
        (dom, 'number-open-fireplaces', [
            '$.open_fireplaces_count', '$.open_chimneys_count', '$.sap_ventilation.open_chimneys_count',
            '$.sap_ventilation.open_fireplaces_count']),
        (dom, 'flat-storey-count', ['$.sap_flat_details.storey_count', '$.sap_flat_details.storeys']),
        (dom, 'wind-turbine-count', '$.sap_energy_source.wind_turbines_count'),
        (dom, 'unheated-corridor-length', '$.sap_flat_details.unheated_corridor_length'),
        (dom, 'photo-supply', [
            '$.sap_energy_source.photovoltaic_supply.none_or_no_details.percent_roof_area',
            '$.sap_energy_source.photovoltaic_supply.percent_roof_area', '$.photovoltaic_supply']),
        (dom, 'mains-gas-flag', ['$.sap_energy_source.mains_gas', '$.sap_energy_source.main_gas', '$.mains_gas']),
        (dom, 'solar-water-heating-flag', '$.solar_water_heating'),
        (dom, 'floor-level', ['$.sap_flat_details.flat_location', '$.sap_flat_details.level']),
        (dom, 'main-heating-controls', [
            '$.sap_heating.main_heating_details[0].main_heating_control', '$.sap_heating.main_heating_control']),
        (dom, 'property-type', '$.property_type'),
        (dom, 'built-form', '$.built_form'),
        (dom, 'tenure', '$.tenure'),
        (dom, 'transaction-type', '$.transaction_type'),
        (dom, 'energy-tariff', ['$.sap_energy_source.meter_type', '$.sap_energy_source.electricity_tariff']),
        (dom, 'glazed-type', ['$.multiple_glazing_type', '$.double_glazing_installed']),
        (dom, 'glazed-area', '$.glazed_area'),
        (dom, 'main-fuel', ['$.sap_heating.main_fuel_type', '$.sap_heating.main_heating_details[0].main_fuel_type']),
        (dom, 'heat-loss-corridor', '$.sap_flat_details.heat_loss_corridor'),
        (dom, 'mechanical-ventilation', '$.mechanical_ventilation'),
        (dom, 'construction-age-band', [
            '$.sap_building_parts[0].construction_age_band', '$.sap_building_parts[1].construction_age_band',
            '$.sap_building_parts[0].construction_year', '$.sap_building_parts[1].construction_year']),
        (non, 'asset-rating', '$.asset_rating'),
        (non, 'asset-rating-band', '$.current_energy_efficiency_band'),
        (non, 'property-type', '$.property_type'),
        (non, 'transaction-type', '$.transaction_type'),
        (non, 'standard-emissions', '$.ser'),
        (non, 'target-emissions', '$.ter'),
        (non, 'typical-emissions', '$.tyr'),
        (non, 'building-emissions', '$.ber'),
        (non, 'primary-energy-value', '$.energy_use.energy_consumption_current'),
        (dec, 'current-operational-rating', '$.this_assessment.energy_rating'),
        (dec, 'operational-rating-band', '$.current_energy_efficiency_band'),
        (dec, 'electric-co2', '$.this_assessment.electricity_co2'),
        (dec, 'heating-co2', '$.this_assessment.heating_co2'),
        (dec, 'renewables-co2', '$.this_assessment.renewables_co2'),
        (dec, 'property-type', '$.property_type'),
        (dec, 'main-benchmark', '$.or_benchmark_data.main_benchmark'),
        (dec, 'other-fuel', '$.technical_information.other_fuel_description'),
        (dec, 'total-floor-area', '$.technical_information.floor_area'),
        (dec, 'occupancy-level', '$.or_benchmark_data.benchmarks[0].occupancy_level'),
        (dec, 'building-category', '$.building_category'),
        (dec, 'nominated-date', '$.this_assessment.nominated_date'),
        (dec, 'or-assessment-end-date', '$.or_assessment_end_date'),
    ] -%}
    {#- fields named alike in the v1 API and the document (`-` for `_`) -#}
    {%- for kinds, names in [
        ([dom], ['energy-consumption-current', 'energy-consumption-potential', 'co2-emissions-current',
                 'co2-emissions-potential', 'lighting-cost-current', 'lighting-cost-potential',
                 'heating-cost-current', 'heating-cost-potential', 'hot-water-cost-current',
                 'hot-water-cost-potential', 'total-floor-area']),
        ([non], ['new-build-benchmark', 'existing-stock-benchmark']),
    ] -%}
        {%- for name in names -%}
            {%- do paths.append((kinds[0], name, '$.' ~ name | replace('-', '_'))) -%}
        {%- endfor -%}
    {%- endfor -%}
    {#- blocks that non-domestic and display certificates share -#}
    {%- for kinds in [non, dec] -%}
        {%- for name, path in [
            ('main-heating-fuel', '$.technical_information.main_heating_fuel'),
            ('special-energy-uses', '$.technical_information.special_energy_uses'),
            ('renewable-sources', '$.technical_information.renewable_sources'),
            ('building-environment', '$.technical_information.building_environment'),
            ('estimated-aircon-kw-rating', '$.ac_questionnaire.ac_estimated_output'),
            ('ac-inspection-commissioned', '$.ac_questionnaire.ac_inspection_commissioned'),
        ] -%}
            {%- do paths.append((kinds, name, path)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for name, field in [
        ('building-level', 'building_level'), ('other-fuel-desc', 'other_fuel_description'),
        ('floor-area', 'floor_area'),
    ] -%}
        {%- do paths.append((non, name, '$.technical_information.' ~ field)) -%}
    {%- endfor -%}
    {#- a DEC's earlier assessments, and its annual energy -#}
    {%- for year in ['yr1', 'yr2'] -%}
        {%- set block = '$.year' ~ year[-1] ~ '_assessment.' -%}
        {%- do paths.extend([
            (dec, year ~ '-operational-rating', block ~ 'energy_rating'),
            (dec, year ~ '-electricity-co2', block ~ 'electricity_co2'),
            (dec, year ~ '-heating-co2', block ~ 'heating_co2'),
            (dec, year ~ '-renewables-co2', block ~ 'renewables_co2'),
        ]) -%}
    {%- endfor -%}
    {%- for name, field in [
        ('annual-thermal-fuel-usage', 'annual_energy_use_fuel_thermal'),
        ('typical-thermal-fuel-usage', 'typical_thermal_use'),
        ('annual-electrical-fuel-usage', 'annual_energy_use_electrical'),
        ('typical-electrical-fuel-usage', 'typical_electrical_use'),
        ('renewables-fuel-thermal', 'renewables_fuel_thermal'),
        ('renewables-electrical', 'renewables_electrical'),
    ] -%}
        {%- do paths.append((dec, name, '$.dec_annual_energy_summary.' ~ field)) -%}
    {%- endfor -%}
    {%- for kinds, name, path in paths if kinds == kind -%}
        {%- do fields.update({name: mhclg_value(doc, path)}) -%}
    {%- endfor -%}
    {%- if kind == dom -%}
        {%- do fields.update(mhclg_element_fields(doc)) -%}
        {#- RdSAP 21 counts the bulbs by type instead of giving the outlets and their share -#}
        {%- set counts = [] -%}
        {%- for bulb in bulbs -%}
            {%- do counts.append('coalesce(' ~ to_float(mhclg_value(doc, '$.' ~ bulb ~ '_fixed_lighting_bulbs_count')) ~ ', 0)') -%}
        {%- endfor -%}
        {%- set low, every = counts[:3] | join(' + '), counts | join(' + ') -%}
        {%- set counted = 'nullif(' ~ every ~ ', 0)' -%}
        {%- do fields.update({
            'fixed-lighting-outlets-count': 'coalesce(' ~ mhclg_value(doc, [
                '$.fixed_lighting_outlets_count', '$.sap_energy_source.fixed_lighting_outlets_count'])
                ~ ', cast(' ~ counted ~ ' as ' ~ dbt.type_string() ~ '))',
            'low-energy-fixed-light-count': 'coalesce(' ~ mhclg_value(doc, [
                '$.low_energy_fixed_lighting_outlets_count',
                '$.sap_energy_source.low_energy_fixed_lighting_outlets_count'])
                ~ ', case when ' ~ counted ~ ' is not null then cast(' ~ low ~ ' as ' ~ dbt.type_string() ~ ') end)',
            'low-energy-lighting': 'coalesce(' ~ mhclg_value(doc, [
                '$.low_energy_lighting', '$.sap_energy_source.low_energy_fixed_lighting_outlets_percentage'])
                ~ ', cast(round(100 * (' ~ low ~ ') / ' ~ counted ~ ') as ' ~ dbt.type_string() ~ '))',
            'flat-top-storey': 'coalesce(' ~ mhclg_value(doc, '$.sap_flat_details.top_storey') ~ ', case '
                ~ mhclg_value(doc, '$.sap_flat_details.level') ~ " when '3' then 'Y' when '0' then 'N'"
                ~ " when '1' then 'N' when '2' then 'N' end)",
        }) -%}
    {%- else -%}
        {#- the documents write Yes/No where the v1 API wrote Y/N; a kW rating flagged unknown is blank -#}
        {%- set present = mhclg_value(doc, '$.ac_questionnaire.ac_present') -%}
        {%- do fields.update({
            'aircon-present': 'case upper(' ~ present ~ ") when 'YES' then 'Y' when 'NO' then 'N' else "
                ~ present ~ ' end',
            'aircon-kw-rating': 'case when ' ~ mhclg_value(doc, '$.ac_questionnaire.ac_rated_output.ac_rating_unknown_flag')
                ~ " = '1' then '' else "
                ~ mhclg_value(doc, '$.ac_questionnaire.ac_rated_output.ac_kw_rating') ~ ' end',
        }) -%}
    {%- endif -%}
    {{ return(fields) }}
{%- endmacro %}


{#- A dwelling's building elements: each one's description and its two efficiency ratings (codes
    0-5, decoded in staging). -#}
{% macro mhclg_element_fields(doc) -%}
    {%- set fields = {} -%}
    {%- for name, spec in mhclg_elements().items() -%}
        {%- set bases = [spec[1]] if spec[1] is string else spec[1] -%}
        {%- set descriptions, energy, environment = [], [], [] -%}
        {%- for base in bases -%}
            {%- do descriptions.append(base ~ '.description') -%}
            {%- do energy.append(base ~ '.energy_efficiency_rating') -%}
            {%- do environment.append(base ~ '.environmental_efficiency_rating') -%}
        {%- endfor -%}
        {%- do fields.update({
            name ~ '-description': mhclg_value(doc, descriptions),
            spec[0] ~ '-energy-eff': mhclg_value(doc, energy),
            spec[0] ~ '-env-eff': mhclg_value(doc, environment),
        }) -%}
    {%- endfor -%}
    {{ return(fields) }}
{%- endmacro %}


{#- The select list of a live-service base model: the same columns, in the same order, as the v1
    base model of the kind, then the document's assessment type (which the code tables need) and
    the recommendation report it points to. -#}
{% macro mhclg_base_columns(kind, doc) -%}
    {%- set fields = mhclg_fields(kind, doc) -%}
        certificate_number as certificate_id,
        'mhclg' as source_system,
        cast(null as {{ dbt.type_string() }}) as lmk_key,
        certificate_number,
        schema_type,
        lodgement_date,
        postcode,
        uprn,
        extracted_at,
        _dlt_load_id as load_id,
    {%- for key in epc_payload_keys(kind) %}
        {{ fields.get(key, 'cast(null as ' ~ dbt.type_string() ~ ')') }} as {{ key | replace('-', '_') }},
    {%- endfor %}
        {{ mhclg_value(doc, '$.assessment_type') }} as assessment_type,
        related_certificate_number
{%- endmacro %}


{#- A lateral join yielding one row per element of the JSON array at `path`, as `element`, and its
    place in the array as `position` if named (from 1 on DuckDB, from 0 on BigQuery: for ordering). -#}
{% macro json_array_elements(column, path, position=none) -%}
    {{ return(adapter.dispatch('json_array_elements', 'dame_epc')(column, path, position)) }}
{%- endmacro %}

{% macro default__json_array_elements(column, path, position=none) -%}
    {%- if position -%}
    cross join unnest(json_extract({{ column }}, '{{ path }}[*]')) with ordinality as elements (element, {{ position }})
    {%- else -%}
    cross join unnest(json_extract({{ column }}, '{{ path }}[*]')) as elements (element)
    {%- endif -%}
{%- endmacro %}

{% macro bigquery__json_array_elements(column, path, position=none) -%}
    cross join unnest(json_query_array({{ column }}, '{{ path }}')) as element
    {%- if position %} with offset as {{ position }}{% endif -%}
{%- endmacro %}


{#- Parse each document once. DuckDB's json_extract_string re-parses the document on every call
    (a domestic document is ~10 KB and the mapping reads ~150 paths: 300 rows/s); given a list of
    paths it parses once and returns a list (50× faster). So on DuckDB the mapping's calls are
    collected into one list extraction, `parsed_payload`, and each call becomes an index into it.
    BigQuery's JSON column is already parsed: its JSON_VALUE calls stay as they are. -#}
{% macro mhclg_parse_once(sql, column) -%}
    {{ return(adapter.dispatch('mhclg_parse_once', 'dame_epc')(sql, column)) }}
{%- endmacro %}

{% macro default__mhclg_parse_once(sql, column) -%}
    {%- set paths = [] -%}
    {%- for path in modules.re.findall("json_extract_string\\(" ~ column ~ ", '([^']*)'\\)", sql) -%}
        {%- if path not in paths -%}{%- do paths.append(path) -%}{%- endif -%}
    {%- endfor -%}
    {%- set rewritten = namespace(sql=sql) -%}
    {%- for path in paths -%}
        {%- set rewritten.sql = rewritten.sql.replace(
            "json_extract_string(" ~ column ~ ", '" ~ path ~ "')", "parsed_payload[" ~ loop.index ~ "]") -%}
    {%- endfor -%}
    {{ return({
        'parse': "json_extract_string(" ~ column ~ ", ['" ~ paths | join("', '") ~ "'])",
        'columns': rewritten.sql,
    }) }}
{%- endmacro %}

{% macro bigquery__mhclg_parse_once(sql, column) -%}
    {{ return({'parse': 'cast(null as string)', 'columns': sql}) }}
{%- endmacro %}
