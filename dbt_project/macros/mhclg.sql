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


{#- The document's fields under the v1 API's names for `kind` (text, like the v1 payload), so staging
    types and cleans both sources with the same expressions. Keys the documents do not carry, or
    carry only as codes without a published label, are absent (NULL). Each plain field is read
    from the first of its JSON paths that holds a value. -#}
{% macro mhclg_fields(kind, doc) -%}
    {%- set dom, non = 'domestic', 'non_domestic' -%}
    {%- set fields = mhclg_common_fields(doc) -%}
    {%- set paths = [
        (dom, 'current-energy-rating', '$.current_energy_efficiency_band'),
        (dom, 'potential-energy-rating', '$.potential_energy_efficiency_band'),
        (dom, 'current-energy-efficiency', '$.energy_rating_current'),
        (dom, 'potential-energy-efficiency', '$.energy_rating_potential'),
        (dom, 'environment-impact-current', '$.environmental_impact_current'),
        (dom, 'environment-impact-potential', '$.environmental_impact_potential'),
        (dom, 'co2-emiss-curr-per-floor-area', '$.co2_emissions_current_per_floor_area'),
        (dom, 'multi-glaze-proportion', ['$.multiple_glazed_proportion', '$.multiple_glazed_percentage']),
        (dom, 'extension-count', '$.extensions_count'),
        (dom, 'number-habitable-rooms', '$.habitable_room_count'),
        (dom, 'number-heated-rooms', '$.heated_room_count'),
        (dom, 'number-open-fireplaces', ['$.open_fireplaces_count', '$.open_chimneys_count']),
        (dom, 'low-energy-fixed-light-count', '$.low_energy_fixed_lighting_outlets_count'),
        (dom, 'mains-gas-flag', ['$.sap_energy_source.mains_gas', '$.mains_gas']),
        (dom, 'solar-water-heating-flag', '$.solar_water_heating'),
        (non, 'asset-rating', '$.asset_rating'),
        (non, 'asset-rating-band', '$.current_energy_efficiency_band'),
        (non, 'property-type', '$.property_type'),
        (non, 'standard-emissions', '$.ser'),
        (non, 'target-emissions', '$.ter'),
        (non, 'typical-emissions', '$.tyr'),
        (non, 'building-emissions', '$.ber'),
        (non, 'aircon-present', '$.ac_questionnaire.ac_present'),
        (non, 'aircon-kw-rating', '$.ac_questionnaire.ac_rated_output.ac_kw_rating'),
        (non, 'estimated-aircon-kw-rating', '$.ac_questionnaire.ac_estimated_output'),
        (non, 'primary-energy-value', '$.energy_use.energy_consumption_current'),
    ] -%}
    {#- fields named alike in the v1 API and the document (`-` for `_`) -#}
    {%- for name in ['energy-consumption-current', 'energy-consumption-potential', 'co2-emissions-current',
                     'co2-emissions-potential', 'lighting-cost-current', 'lighting-cost-potential',
                     'heating-cost-current', 'heating-cost-potential', 'hot-water-cost-current',
                     'hot-water-cost-potential', 'total-floor-area', 'low-energy-lighting',
                     'fixed-lighting-outlets-count'] -%}
        {%- do paths.append((dom, name, '$.' ~ name | replace('-', '_'))) -%}
    {%- endfor -%}
    {%- for name in ['new-build-benchmark', 'existing-stock-benchmark'] -%}
        {%- do paths.append((non, name, '$.' ~ name | replace('-', '_'))) -%}
    {%- endfor -%}
    {#- a CEPC's technical information block -#}
    {%- for name, field in [
        ('building-level', 'building_level'), ('main-heating-fuel', 'main_heating_fuel'),
        ('other-fuel-desc', 'other_fuel_description'), ('special-energy-uses', 'special_energy_uses'),
        ('renewable-sources', 'renewable_sources'), ('floor-area', 'floor_area'),
        ('building-environment', 'building_environment'),
    ] -%}
        {%- do paths.append((non, name, '$.technical_information.' ~ field)) -%}
    {%- endfor -%}
    {%- for kinds, name, path in paths if kinds == kind -%}
        {%- do fields.update({name: mhclg_value(doc, path)}) -%}
    {%- endfor -%}
    {%- do fields.update({'report-type': mhclg_value(doc, '$.report_type')}) -%}
    {%- if kind == dom -%}
        {%- do fields.update(mhclg_domestic_coded_fields(doc)) -%}
        {%- do fields.update(mhclg_element_fields(doc)) -%}
    {%- endif -%}
    {{ return(fields) }}
{%- endmacro %}


{#- A dwelling's coded fields, as the v1 API's words where the label is published. -#}
{% macro mhclg_domestic_coded_fields(doc) -%}
    {%- set labels = mhclg_domestic_labels() -%}
    {{ return({
        'property-type': mhclg_label(mhclg_value(doc, '$.property_type'), labels['property_type']),
        'built-form': mhclg_label(mhclg_value(doc, '$.built_form'), labels['built_form']),
        'tenure': mhclg_label(mhclg_value(doc, '$.tenure'), labels['tenure']),
        'construction-age-band': mhclg_label(
            mhclg_value(doc, '$.sap_building_parts[0].construction_age_band'), labels['construction_age_band']),
        'main-fuel': mhclg_label(
            mhclg_value(doc, '$.sap_heating.main_heating_details[0].main_fuel_type'), labels['main_fuel']),
    }) }}
{%- endmacro %}


{#- A dwelling's building elements: each one's description and its two efficiency ratings. -#}
{% macro mhclg_element_fields(doc) -%}
    {%- set fields = {} -%}
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


{#- The select list of a live-service base model: the same columns, in the same order, as the v1
    base model of the kind. -#}
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
