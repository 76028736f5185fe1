{#- The typed, cleaned columns of a kind's certificates, defined once: both sources' staging models
    render them over their base model's text columns (named like the v1 API's payload keys), and
    the marts take their column lists from the same definitions. Each entry is (group, name,
    expression); the groups become the comment headings of the staging SQL. -#}

{% macro certificate_columns(kind) -%}
    {%- if kind == 'domestic' -%}
        {{ return(domestic_certificate_columns()) }}
    {%- elif kind == 'non_domestic' -%}
        {{ return(non_domestic_certificate_columns()) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("no certificate columns for kind " ~ kind) }}
{%- endmacro %}


{#- The key and address columns every kind shares, before its ratings. -#}
{% macro certificate_identity_columns() -%}
    {{ return([
        ('keys', 'certificate_id', 'certificate_id'),
        ('keys', 'source_system', 'source_system'),
        ('keys', 'lmk_key', 'lmk_key'),
        ('keys', 'certificate_number', 'certificate_number'),
        ('keys', 'schema_type', 'schema_type'),
        ('keys', 'uprn', to_uprn('uprn')),
        ('keys', 'uprn_source', clean_text('uprn_source')),
        ('keys', 'building_reference_number', clean_text('building_reference_number')),
        ('address', 'address1', clean_text('address1')),
        ('address', 'address2', clean_text('address2')),
        ('address', 'address3', clean_text('address3')),
        ('address', 'address', clean_text('address')),
        ('address', 'postcode', 'upper(' ~ clean_text('postcode') ~ ')'),
        ('address', 'posttown', clean_text('posttown')),
        ('address', 'county', clean_text('county')),
        ('address', 'local_authority', 'upper(' ~ clean_text('local_authority') ~ ')'),
        ('address', 'local_authority_label', clean_text('local_authority_label')),
        ('address', 'constituency', 'upper(' ~ clean_text('constituency') ~ ')'),
        ('address', 'constituency_label', clean_text('constituency_label')),
        ('dates', 'lodgement_date', 'lodgement_date'),
        ('dates', 'lodgement_datetime', to_timestamp('lodgement_datetime')),
        ('dates', 'inspection_date', to_date('inspection_date')),
    ]) }}
{%- endmacro %}


{#- The load columns that close every kind's list. -#}
{% macro certificate_load_columns() -%}
    {{ return([('load', 'extracted_at', 'extracted_at'), ('load', 'load_id', 'load_id')]) }}
{%- endmacro %}


{#- A value kept only inside physical bounds (NULL outside). -#}
{% macro bounded(expression, condition) -%}
    case when {{ condition.replace('{}', expression) }} then {{ expression }} end
{%- endmacro %}


{% macro domestic_certificate_columns() -%}
    {%- set columns = certificate_identity_columns() + [
        ('ratings', 'current_energy_rating', to_rating('current_energy_rating')),
        ('ratings', 'potential_energy_rating', to_rating('potential_energy_rating')),
        ('ratings', 'current_energy_efficiency', to_int('current_energy_efficiency')),
        ('ratings', 'potential_energy_efficiency', to_int('potential_energy_efficiency')),
        ('ratings', 'environment_impact_current', to_int('environment_impact_current')),
        ('ratings', 'environment_impact_potential', to_int('environment_impact_potential')),
        ('measures', 'energy_consumption_current', to_float('energy_consumption_current')),
        ('measures', 'energy_consumption_potential', to_float('energy_consumption_potential')),
        ('measures', 'co2_emissions_current', bounded(to_float('co2_emissions_current'), '{} >= 0')),
        ('measures', 'co2_emissions_current_per_floor_area', to_float('co2_emiss_curr_per_floor_area')),
        ('measures', 'co2_emissions_potential', to_float('co2_emissions_potential')),
        ('measures', 'lighting_cost_current', to_float('lighting_cost_current')),
        ('measures', 'lighting_cost_potential', to_float('lighting_cost_potential')),
        ('measures', 'heating_cost_current', to_float('heating_cost_current')),
        ('measures', 'heating_cost_potential', to_float('heating_cost_potential')),
        ('measures', 'hot_water_cost_current', to_float('hot_water_cost_current')),
        ('measures', 'hot_water_cost_potential', to_float('hot_water_cost_potential')),
        ('measures', 'total_floor_area', bounded(to_float('total_floor_area'), '{} > 0 and {} <= 10000')),
        ('measures', 'floor_height', to_float('floor_height')),
        ('measures', 'multi_glaze_proportion', to_float('multi_glaze_proportion')),
        ('measures', 'low_energy_lighting', bounded(to_int('low_energy_lighting'), '{} between 0 and 100')),
        ('measures', 'extension_count', to_int('extension_count')),
        ('measures', 'number_habitable_rooms', to_int('number_habitable_rooms')),
        ('measures', 'number_heated_rooms', to_int('number_heated_rooms')),
        ('measures', 'number_open_fireplaces', to_int('number_open_fireplaces')),
        ('measures', 'flat_storey_count', to_int('flat_storey_count')),
        ('measures', 'wind_turbine_count', to_int('wind_turbine_count')),
        ('measures', 'unheated_corridor_length', to_float('unheated_corridor_length')),
        ('measures', 'photo_supply', to_float('photo_supply')),
        ('measures', 'fixed_lighting_outlets_count', to_int('fixed_lighting_outlets_count')),
        ('measures', 'low_energy_fixed_light_count', to_int('low_energy_fixed_light_count')),
        ('flags', 'mains_gas', to_flag('mains_gas_flag')),
        ('flags', 'flat_top_storey', to_flag('flat_top_storey')),
        ('flags', 'solar_water_heating', to_flag('solar_water_heating_flag')),
        ('descriptions', 'property_type', clean_text('property_type')),
        ('descriptions', 'built_form', clean_text('built_form')),
        ('descriptions', 'transaction_type', clean_text('transaction_type')),
        ('descriptions', 'energy_tariff', clean_text('energy_tariff')),
        ('descriptions', 'floor_level', clean_text('floor_level')),
        ('descriptions', 'main_heating_controls', clean_text('main_heating_controls')),
        ('descriptions', 'glazed_type', clean_text('glazed_type')),
        ('descriptions', 'glazed_area', clean_text('glazed_area')),
    ] -%}
    {#- each building element: its description and its two efficiency ratings -#}
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
            ('descriptions', element ~ '_description', clean_text(source_name ~ '_description')),
            ('descriptions', element ~ '_energy_eff', clean_text(rating_name ~ '_energy_eff')),
            ('descriptions', element ~ '_env_eff', clean_text(rating_name ~ '_env_eff')),
        ]) -%}
    {%- endfor -%}
    {%- do columns.extend([
        ('descriptions', 'main_fuel', clean_text('main_fuel')),
        ('descriptions', 'heat_loss_corridor', clean_text('heat_loss_corridor')),
        ('descriptions', 'mechanical_ventilation', clean_text('mechanical_ventilation')),
        ('descriptions', 'construction_age_band', clean_text('construction_age_band')),
        ('descriptions', 'tenure', clean_text('tenure')),
        ('descriptions', 'report_type', clean_text('report_type')),
    ] + certificate_load_columns()) -%}
    {{ return(columns) }}
{%- endmacro %}


{% macro non_domestic_certificate_columns() -%}
    {{ return(certificate_identity_columns() + [
        ('ratings', 'asset_rating', to_int('asset_rating')),
        ('ratings', 'asset_rating_band', to_rating('asset_rating_band')),
        ('ratings', 'new_build_benchmark', to_int('new_build_benchmark')),
        ('ratings', 'existing_stock_benchmark', to_int('existing_stock_benchmark')),
        ('measures', 'floor_area', bounded(to_float('floor_area'), '{} > 0')),
        ('measures', 'standard_emissions', to_float('standard_emissions')),
        ('measures', 'target_emissions', to_float('target_emissions')),
        ('measures', 'typical_emissions', to_float('typical_emissions')),
        ('measures', 'building_emissions', to_float('building_emissions')),
        ('measures', 'primary_energy_value', to_float('primary_energy_value')),
        ('measures', 'aircon_kw_rating', to_float('aircon_kw_rating')),
        ('measures', 'estimated_aircon_kw_rating', to_float('estimated_aircon_kw_rating')),
        ('measures', 'building_level', to_int('building_level')),
        ('flags', 'aircon_present', to_flag('aircon_present')),
        ('descriptions', 'property_type', clean_text('property_type')),
        ('descriptions', 'transaction_type', clean_text('transaction_type')),
        ('descriptions', 'main_heating_fuel', clean_text('main_heating_fuel')),
        ('descriptions', 'other_fuel_desc', clean_text('other_fuel_desc')),
        ('descriptions', 'special_energy_uses', clean_text('special_energy_uses')),
        ('descriptions', 'renewable_sources', clean_text('renewable_sources')),
        ('descriptions', 'ac_inspection_commissioned', clean_text('ac_inspection_commissioned')),
        ('descriptions', 'building_environment', clean_text('building_environment')),
        ('descriptions', 'report_type', clean_text('report_type')),
    ] + certificate_load_columns()) }}
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
