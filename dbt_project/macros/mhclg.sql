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


{#- An element's 0-5 efficiency rating as the v1 API's words; 0 ("not applicable") is NULL. -#}
{% macro mhclg_efficiency_label(expression) -%}
    case {{ expression }}
        when '1' then 'Very Poor'
        when '2' then 'Poor'
        when '3' then 'Average'
        when '4' then 'Good'
        when '5' then 'Very Good'
    end
{%- endmacro %}


{#- A code → label CASE from a dict; codes outside the dict are NULL (the payload keeps them). -#}
{% macro mhclg_label(expression, labels) -%}
    case {{ expression }}
        {%- for code, label in labels.items() %}
        when '{{ code }}' then '{{ label }}'
        {%- endfor %}
    end
{%- endmacro %}


{#- Labels of the register's enumerations, as the v1 API and the service's CSV export write them
    (epb-data-warehouse export_csv/domestic.csv; RdSAP/SAP schema enumerations). -#}
{% macro mhclg_domestic_labels() -%}
    {{ return({
        'property_type': {'0': 'House', '1': 'Bungalow', '2': 'Flat', '3': 'Maisonette', '4': 'Park home'},
        'built_form': {
            '1': 'Detached', '2': 'Semi-Detached', '3': 'End-Terrace', '4': 'Mid-Terrace',
            '5': 'Enclosed End-Terrace', '6': 'Enclosed Mid-Terrace',
        },
        'tenure': {'1': 'Owner-occupied', '2': 'Rented (social)', '3': 'Rented (private)'},
        'construction_age_band': {
            'A': 'England and Wales: before 1900', 'B': 'England and Wales: 1900-1929',
            'C': 'England and Wales: 1930-1949', 'D': 'England and Wales: 1950-1966',
            'E': 'England and Wales: 1967-1975', 'F': 'England and Wales: 1976-1982',
            'G': 'England and Wales: 1983-1990', 'H': 'England and Wales: 1991-1995',
            'I': 'England and Wales: 1996-2002', 'J': 'England and Wales: 2003-2006',
            'K': 'England and Wales: 2007-2011', 'L': 'England and Wales: 2012-2021',
            'M': 'England and Wales: 2022 onwards',
        },
        'main_fuel': {'26': 'mains gas (not community)', '29': 'electricity (not community)'},
    }) }}
{%- endmacro %}


{#- Address, dates and UPRN source: named and placed alike in every schema family. -#}
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
    }) }}
{%- endmacro %}


{#- The document's fields under the v1 API's domestic names (text, like the v1 payload), so the
    staging model types and cleans both sources with the same expressions. Keys the documents do
    not carry, or carry only as codes without a published label, are absent (NULL). -#}
{% macro mhclg_domestic_fields(doc) -%}
    {%- set labels = mhclg_domestic_labels() -%}
    {%- set fields = mhclg_common_fields(doc) -%}
    {%- do fields.update({
        'current-energy-rating': mhclg_value(doc, '$.current_energy_efficiency_band'),
        'potential-energy-rating': mhclg_value(doc, '$.potential_energy_efficiency_band'),
        'current-energy-efficiency': mhclg_value(doc, '$.energy_rating_current'),
        'potential-energy-efficiency': mhclg_value(doc, '$.energy_rating_potential'),
        'environment-impact-current': mhclg_value(doc, '$.environmental_impact_current'),
        'environment-impact-potential': mhclg_value(doc, '$.environmental_impact_potential'),
        'energy-consumption-current': mhclg_value(doc, '$.energy_consumption_current'),
        'energy-consumption-potential': mhclg_value(doc, '$.energy_consumption_potential'),
        'co2-emissions-current': mhclg_value(doc, '$.co2_emissions_current'),
        'co2-emiss-curr-per-floor-area': mhclg_value(doc, '$.co2_emissions_current_per_floor_area'),
        'co2-emissions-potential': mhclg_value(doc, '$.co2_emissions_potential'),
        'lighting-cost-current': mhclg_value(doc, '$.lighting_cost_current'),
        'lighting-cost-potential': mhclg_value(doc, '$.lighting_cost_potential'),
        'heating-cost-current': mhclg_value(doc, '$.heating_cost_current'),
        'heating-cost-potential': mhclg_value(doc, '$.heating_cost_potential'),
        'hot-water-cost-current': mhclg_value(doc, '$.hot_water_cost_current'),
        'hot-water-cost-potential': mhclg_value(doc, '$.hot_water_cost_potential'),
        'total-floor-area': mhclg_value(doc, '$.total_floor_area'),
        'multi-glaze-proportion': mhclg_value(doc, ['$.multiple_glazed_proportion', '$.multiple_glazed_percentage']),
        'low-energy-lighting': mhclg_value(doc, '$.low_energy_lighting'),
        'extension-count': mhclg_value(doc, '$.extensions_count'),
        'number-habitable-rooms': mhclg_value(doc, '$.habitable_room_count'),
        'number-heated-rooms': mhclg_value(doc, '$.heated_room_count'),
        'number-open-fireplaces': mhclg_value(doc, ['$.open_fireplaces_count', '$.open_chimneys_count']),
        'fixed-lighting-outlets-count': mhclg_value(doc, '$.fixed_lighting_outlets_count'),
        'low-energy-fixed-light-count': mhclg_value(doc, '$.low_energy_fixed_lighting_outlets_count'),
        'mains-gas-flag': mhclg_value(doc, ['$.sap_energy_source.mains_gas', '$.mains_gas']),
        'solar-water-heating-flag': mhclg_value(doc, '$.solar_water_heating'),
        'property-type': mhclg_label(mhclg_value(doc, '$.property_type'), labels['property_type']),
        'built-form': mhclg_label(mhclg_value(doc, '$.built_form'), labels['built_form']),
        'tenure': mhclg_label(mhclg_value(doc, '$.tenure'), labels['tenure']),
        'construction-age-band': mhclg_label(
            mhclg_value(doc, '$.sap_building_parts[0].construction_age_band'), labels['construction_age_band']),
        'main-fuel': mhclg_label(
            mhclg_value(doc, '$.sap_heating.main_heating_details[0].main_fuel_type'), labels['main_fuel']),
        'report-type': mhclg_value(doc, '$.report_type'),
    }) -%}
    {%- set elements = {
        'hotwater': ['hot-water', '$.hot_water'],
        'floor': ['floor', '$.floors[0]'],
        'windows': ['windows', ['$.window', '$.windows[0]', '$.windows']],
        'walls': ['walls', '$.walls[0]'],
        'secondheat': ['sheating', '$.secondary_heating'],
        'roof': ['roof', '$.roofs[0]'],
        'mainheat': ['mainheat', '$.main_heating[0]'],
        'mainheatcont': ['mainheatc', '$.main_heating_controls[0]'],
        'lighting': ['lighting', '$.lighting'],
    } -%}
    {%- for name, spec in elements.items() -%}
        {%- set bases = [spec[1]] if spec[1] is string else spec[1] -%}
        {%- set descriptions, energy, environment = [], [], [] -%}
        {%- for base in bases -%}
            {%- do descriptions.append(base ~ '.description') -%}
            {%- do energy.append(base ~ '.energy_efficiency_rating') -%}
            {%- do environment.append(base ~ '.environmental_efficiency_rating') -%}
        {%- endfor -%}
        {%- do fields.update({
            name ~ '-description': mhclg_value(doc, descriptions),
            spec[0] ~ '-energy-eff': mhclg_efficiency_label(mhclg_value(doc, energy)),
            spec[0] ~ '-env-eff': mhclg_efficiency_label(mhclg_value(doc, environment)),
        }) -%}
    {%- endfor -%}
    {{ return(fields) }}
{%- endmacro %}


{#- The CEPC document's fields under the v1 API's non-domestic names (text). -#}
{% macro mhclg_non_domestic_fields(doc) -%}
    {%- set fields = mhclg_common_fields(doc) -%}
    {%- do fields.update({
        'asset-rating': mhclg_value(doc, '$.asset_rating'),
        'asset-rating-band': mhclg_value(doc, '$.current_energy_efficiency_band'),
        'property-type': mhclg_value(doc, '$.property_type'),
        'new-build-benchmark': mhclg_value(doc, '$.new_build_benchmark'),
        'existing-stock-benchmark': mhclg_value(doc, '$.existing_stock_benchmark'),
        'building-level': mhclg_value(doc, '$.technical_information.building_level'),
        'main-heating-fuel': mhclg_value(doc, '$.technical_information.main_heating_fuel'),
        'other-fuel-desc': mhclg_value(doc, '$.technical_information.other_fuel_description'),
        'special-energy-uses': mhclg_value(doc, '$.technical_information.special_energy_uses'),
        'renewable-sources': mhclg_value(doc, '$.technical_information.renewable_sources'),
        'floor-area': mhclg_value(doc, '$.technical_information.floor_area'),
        'standard-emissions': mhclg_value(doc, '$.ser'),
        'target-emissions': mhclg_value(doc, '$.ter'),
        'typical-emissions': mhclg_value(doc, '$.tyr'),
        'building-emissions': mhclg_value(doc, '$.ber'),
        'aircon-present': mhclg_value(doc, '$.ac_questionnaire.ac_present'),
        'aircon-kw-rating': mhclg_value(doc, '$.ac_questionnaire.ac_rated_output.ac_kw_rating'),
        'estimated-aircon-kw-rating': mhclg_value(doc, '$.ac_questionnaire.ac_estimated_output'),
        'building-environment': mhclg_value(doc, '$.technical_information.building_environment'),
        'primary-energy-value': mhclg_value(doc, '$.energy_use.energy_consumption_current'),
        'report-type': mhclg_value(doc, '$.report_type'),
    }) -%}
    {{ return(fields) }}
{%- endmacro %}


{#- The select list of a live-service base model: the same columns, in the same order, as the v1
    base model of the kind. -#}
{% macro mhclg_base_columns(kind, doc) -%}
    {%- set fields = mhclg_domestic_fields(doc) if kind == 'domestic' else mhclg_non_domestic_fields(doc) -%}
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
        {{ fields.get(key, 'cast(null as ' ~ dbt.type_string() ~ ')') }} as {{ key | replace('-', '_') }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- A lateral join yielding one row per element of the JSON array at `path`, as `element`. -#}
{% macro json_array_elements(column, path) -%}
    {{ return(adapter.dispatch('json_array_elements', 'dame_epc')(column, path)) }}
{%- endmacro %}

{% macro default__json_array_elements(column, path) -%}
    cross join unnest(json_extract({{ column }}, '{{ path }}[*]')) as elements (element)
{%- endmacro %}

{% macro bigquery__json_array_elements(column, path) -%}
    cross join unnest(json_query_array({{ column }}, '{{ path }}')) as element
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
