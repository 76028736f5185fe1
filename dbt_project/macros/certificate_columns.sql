{#- The typed, cleaned columns of the certificates of each kind, defined once: both sources'
    staging models render them over their base model's text columns (named like the v1 API's
    payload keys), and the marts take their column lists from the same definitions. Each entry is
    (kinds, group, name, expression), in the order of the columns; the groups become the comment
    headings of the staging SQL. -#}

{% macro certificate_columns(kind) -%}
    {%- if kind not in ('domestic', 'non_domestic', 'display') -%}
        {{ exceptions.raise_compiler_error("no certificate columns for kind " ~ kind) }}
    {%- endif -%}
    {%- set every, dom, non, dec = ['domestic', 'non_domestic', 'display'], ['domestic'], ['non_domestic'], ['display'] -%}
    {%- set columns = [
        (every, 'keys', 'certificate_id', 'certificate_id'),
        (every, 'keys', 'source_system', 'source_system'),
        (every, 'keys', 'lmk_key', 'lmk_key'),
        (every, 'keys', 'certificate_number', 'certificate_number'),
        (every, 'keys', 'schema_type', 'schema_type'),
        (every, 'keys', 'uprn', to_uprn('uprn')),
        (every, 'keys', 'uprn_source', clean_text('uprn_source')),
        (every, 'keys', 'building_reference_number', clean_text('building_reference_number')),
        (every, 'address', 'address1', clean_text('address1')),
        (every, 'address', 'address2', clean_text('address2')),
        (every, 'address', 'address3', clean_text('address3')),
        (every, 'address', 'address', clean_text('address')),
        (every, 'address', 'postcode', 'upper(' ~ clean_text('postcode') ~ ')'),
        (every, 'address', 'posttown', clean_text('posttown')),
        (every, 'address', 'county', clean_text('county')),
        (every, 'address', 'local_authority', 'upper(' ~ clean_text('local_authority') ~ ')'),
        (every, 'address', 'local_authority_label', clean_text('local_authority_label')),
        (every, 'address', 'constituency', 'upper(' ~ clean_text('constituency') ~ ')'),
        (every, 'address', 'constituency_label', clean_text('constituency_label')),
        (every, 'dates', 'lodgement_date', 'lodgement_date'),
        (every, 'dates', 'lodgement_datetime', to_timestamp('lodgement_datetime')),
        (every, 'dates', 'inspection_date', to_date('inspection_date')),
        (dom, 'ratings', 'current_energy_rating', to_rating('current_energy_rating')),
        (dom, 'ratings', 'potential_energy_rating', to_rating('potential_energy_rating')),
        (dom, 'ratings', 'current_energy_efficiency', to_int('current_energy_efficiency')),
        (dom, 'ratings', 'potential_energy_efficiency', to_int('potential_energy_efficiency')),
        (dom, 'ratings', 'environment_impact_current', to_int('environment_impact_current')),
        (dom, 'ratings', 'environment_impact_potential', to_int('environment_impact_potential')),
        (non, 'ratings', 'asset_rating', to_int('asset_rating')),
        (non, 'ratings', 'asset_rating_band', to_rating('asset_rating_band')),
        (non, 'ratings', 'new_build_benchmark', to_int('new_build_benchmark')),
        (non, 'ratings', 'existing_stock_benchmark', to_int('existing_stock_benchmark')),
        (dom, 'measures', 'energy_consumption_current', to_float('energy_consumption_current')),
        (dom, 'measures', 'energy_consumption_potential', to_float('energy_consumption_potential')),
        (dom, 'measures', 'co2_emissions_current', bounded(to_float('co2_emissions_current'), '{} >= 0')),
        (dom, 'measures', 'co2_emissions_current_per_floor_area', to_float('co2_emiss_curr_per_floor_area')),
        (dom, 'measures', 'co2_emissions_potential', to_float('co2_emissions_potential')),
        (non, 'measures', 'floor_area', bounded(to_float('floor_area'), '{} > 0')),
        (non, 'measures', 'standard_emissions', to_float('standard_emissions')),
        (non, 'measures', 'target_emissions', to_float('target_emissions')),
        (non, 'measures', 'typical_emissions', to_float('typical_emissions')),
        (non, 'measures', 'building_emissions', to_float('building_emissions')),
        (non, 'measures', 'primary_energy_value', to_float('primary_energy_value')),
        (non, 'measures', 'aircon_kw_rating', to_float('aircon_kw_rating')),
        (non, 'measures', 'estimated_aircon_kw_rating', to_float('estimated_aircon_kw_rating')),
        (non, 'measures', 'building_level', to_int('building_level')),
        (dec, 'ratings', 'current_operational_rating', to_int('current_operational_rating')),
        (dec, 'ratings', 'yr1_operational_rating', to_int('yr1_operational_rating')),
        (dec, 'ratings', 'yr2_operational_rating', to_int('yr2_operational_rating')),
        (dec, 'ratings', 'operational_rating_band', to_rating('operational_rating_band')),
        (dec, 'dates', 'nominated_date', to_date('nominated_date')),
        (dec, 'dates', 'or_assessment_end_date', to_date('or_assessment_end_date')),
        (dec, 'measures', 'total_floor_area', bounded(to_float('total_floor_area'), '{} > 0')),
    ] -%}
    {#- a display certificate's emissions and energy, this year and the two before -#}
    {%- for name in ['electric_co2', 'heating_co2', 'renewables_co2', 'yr1_electricity_co2',
                     'yr2_electricity_co2', 'yr1_heating_co2', 'yr2_heating_co2', 'yr1_renewables_co2',
                     'yr2_renewables_co2', 'annual_thermal_fuel_usage', 'typical_thermal_fuel_usage',
                     'annual_electrical_fuel_usage', 'typical_electrical_fuel_usage',
                     'renewables_fuel_thermal', 'renewables_electrical', 'aircon_kw_rating',
                     'estimated_aircon_kw_rating'] -%}
        {%- do columns.append((dec, 'measures', name, to_float(name))) -%}
    {%- endfor -%}
    {#- a dwelling's running costs, current and potential -#}
    {%- for use in ['lighting', 'heating', 'hot_water'] -%}
        {%- for state in ['current', 'potential'] -%}
            {%- set name = use ~ '_cost_' ~ state -%}
            {%- do columns.append((dom, 'measures', name, to_float(name))) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do columns.extend([
        (dom, 'measures', 'total_floor_area', bounded(to_float('total_floor_area'), '{} > 0 and {} <= 10000')),
        (dom, 'measures', 'floor_height', to_float('floor_height')),
        (dom, 'measures', 'multi_glaze_proportion', to_float('multi_glaze_proportion')),
        (dom, 'measures', 'low_energy_lighting', bounded(to_int('low_energy_lighting'), '{} between 0 and 100')),
    ]) -%}
    {#- a dwelling's counts -#}
    {%- for name, cast in [
        ('extension_count', 'int'), ('number_habitable_rooms', 'int'), ('number_heated_rooms', 'int'),
        ('number_open_fireplaces', 'int'), ('flat_storey_count', 'int'), ('wind_turbine_count', 'int'),
        ('unheated_corridor_length', 'float'), ('photo_supply', 'float'),
        ('fixed_lighting_outlets_count', 'int'), ('low_energy_fixed_light_count', 'int'),
    ] -%}
        {%- do columns.append((dom, 'measures', name, to_int(name) if cast == 'int' else to_float(name))) -%}
    {%- endfor -%}
    {%- do columns.extend([
        (dom, 'flags', 'mains_gas', to_flag('mains_gas_flag')),
        (dom, 'flags', 'flat_top_storey', to_flag('flat_top_storey')),
        (dom, 'flags', 'solar_water_heating', to_flag('solar_water_heating_flag')),
        (non + dec, 'flags', 'aircon_present', to_flag('aircon_present')),
    ]) -%}
    {#- descriptions: text as the register words it, cleaned of its sentinels -#}
    {%- for kinds, names in [
        (dom, ['property_type', 'built_form', 'transaction_type', 'energy_tariff', 'floor_level',
               'main_heating_controls', 'glazed_type', 'glazed_area']),
        (non, ['property_type', 'transaction_type', 'main_heating_fuel', 'other_fuel_desc',
               'special_energy_uses', 'renewable_sources', 'ac_inspection_commissioned',
               'building_environment']),
        (dec, ['property_type', 'main_benchmark', 'main_heating_fuel', 'other_fuel', 'special_energy_uses',
               'renewable_sources', 'occupancy_level', 'ac_inspection_commissioned', 'building_environment',
               'building_category']),
    ] -%}
        {%- for name in names -%}
            {%- do columns.append((kinds, 'descriptions', name, clean_text(name))) -%}
        {%- endfor -%}
    {%- endfor -%}
    {#- each building element of a dwelling: its description and its two efficiency ratings -#}
    {%- for element, source_name, rating_name in [
        ('hot_water', 'hotwater', 'hot_water'),
        ('floor', 'floor', 'floor'),
        ('windows', 'windows', 'windows'),
        ('walls', 'walls', 'walls'),
        ('secondary_heating', 'secondheat', 'sheating'),
        ('roof', 'roof', 'roof'),
        ('main_heating', 'mainheat', 'mainheat'),
        ('main_heating_controls', 'mainheatcont', 'mainheatc'),
        ('lighting', 'lighting', 'lighting'),
    ] -%}
        {%- do columns.extend([
            (dom, 'descriptions', element ~ '_description', clean_text(source_name ~ '_description')),
            (dom, 'descriptions', element ~ '_energy_eff', clean_text(rating_name ~ '_energy_eff')),
            (dom, 'descriptions', element ~ '_env_eff', clean_text(rating_name ~ '_env_eff')),
        ]) -%}
    {%- endfor -%}
    {%- for name in ['main_fuel', 'heat_loss_corridor', 'mechanical_ventilation', 'construction_age_band',
                     'tenure'] -%}
        {%- do columns.append((dom, 'descriptions', name, clean_text(name))) -%}
    {%- endfor -%}
    {%- do columns.extend([
        (dom + non, 'descriptions', 'report_type', clean_text('report_type')),
        (every, 'load', 'extracted_at', 'extracted_at'),
        (every, 'load', 'load_id', 'load_id'),
    ]) -%}
    {{ return(certificate_columns_of(columns, kind)) }}
{%- endmacro %}


{#- The (group, name, expression) of the entries of `columns` that belong to `kind`. -#}
{% macro certificate_columns_of(columns, kind) -%}
    {%- set chosen = [] -%}
    {%- for kinds, group, name, expression in columns -%}
        {%- if kind in kinds -%}{%- do chosen.append((group, name, expression)) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(chosen) }}
{%- endmacro %}


{#- A value kept only inside physical bounds (NULL outside). -#}
{% macro bounded(expression, condition) -%}
    case when {{ condition.replace('{}', expression) }} then {{ expression }} end
{%- endmacro %}


{#- The staging select list of a kind: each column typed and cleaned, under its group's heading. -#}
{% macro typed_certificate_columns(kind) -%}
    {%- set ns = namespace(group=none) -%}
    {%- for group, name, expression in certificate_columns(kind) %}
        {%- if group != ns.group %}
        {{ '\n        ' if not loop.first }}-- {{ group }}
            {%- set ns.group = group -%}
        {%- endif %}
        {{ expression }}{{ ' as ' ~ name if expression != name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{#- The columns of a kind's certificate marts, in order: the staging columns, with the property
    key after the keys. -#}
{% macro mart_columns(kind) -%}
    {%- set names = [] -%}
    {%- for group, name, expression in certificate_columns(kind) -%}
        {%- do names.append(name) -%}
        {%- if name == 'schema_type' -%}{%- do names.append('property_key') -%}{%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{#- `columns` as a select list, each qualified by `relation`. -#}
{% macro column_list(columns, relation=none) -%}
    {%- for column in columns %}
        {{ relation ~ '.' if relation }}{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
