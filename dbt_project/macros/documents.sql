{#- The documents for retrieval (models/retrieval): one plain text per property and kind, built
    from the property's latest certificate and its recommendations. Every part of a text is a SQL
    expression that is NULL when the certificate has nothing to say, and is then left out. -#}


{#- `parts` (SQL expressions) joined by `separator` (a SQL string expression), NULL parts left
    out; NULL when every part is. -#}
{% macro join_text(parts, separator) -%}
    {{ return(adapter.dispatch('join_text', 'dame_epc')(parts, separator)) }}
{%- endmacro %}

{% macro default__join_text(parts, separator) -%}
    nullif(concat_ws({{ separator }}, {{ parts | join(', ') }}), '')
{%- endmacro %}

{% macro bigquery__join_text(parts, separator) -%}
    nullif(array_to_string([{{ parts | join(', ') }}], {{ separator }}), '')
{%- endmacro %}


{#- A newline, as a SQL expression. -#}
{% macro newline() -%}
    {{ return(adapter.dispatch('newline', 'dame_epc')()) }}
{%- endmacro %}

{% macro default__newline() -%}chr(10){%- endmacro %}

{% macro bigquery__newline() -%}'\n'{%- endmacro %}


{#- `expression` as text; a whole number without a fraction (`630`, not `630.0`). Arithmetic,
    not a regular expression: it runs for some twenty numbers of every document. -#}
{% macro as_text(expression) -%}
    {{ return(adapter.dispatch('as_text', 'dame_epc')(expression)) }}
{%- endmacro %}

{% macro default__as_text(expression) -%}
    case
        when {{ expression }} = trunc({{ expression }}) then cast(cast({{ expression }} as bigint) as varchar)
        else cast({{ expression }} as varchar)
    end
{%- endmacro %}

{#- BigQuery writes a whole FLOAT64 without a fraction already. -#}
{% macro bigquery__as_text(expression) -%}
    cast({{ expression }} as string)
{%- endmacro %}


{#- `Label: value` (value a SQL expression), NULL when the value is. -#}
{% macro labelled(label, value) -%}
    '{{ label }}: ' || {{ value }}
{%- endmacro %}


{#- A building element: `Label: description (efficiency)`. -#}
{% macro element(label, description, efficiency) -%}
    {{ labelled(label, description) }} || coalesce(' (' || {{ efficiency }} || ')', '')
{%- endmacro %}


{#- A current value and its potential: `value unit (potential value unit)`. -#}
{% macro with_potential(current, potential, prefix='', unit='') -%}
    '{{ prefix }}' || {{ as_text(current) }} || '{{ unit }}'
    || coalesce(' (potential {{ prefix }}' || {{ as_text(potential) }} || '{{ unit }})', '')
{%- endmacro %}


{#- The outward code of a postcode (`LS6` of `LS6 4JA`): the district, which is not personal data. -#}
{% macro postcode_district(postcode) -%}
    nullif(upper(trim(substr(
        replace({{ postcode }}, ' ', ''), 1, length(replace({{ postcode }}, ' ', '')) - 3
    ))), '')
{%- endmacro %}


{#- Where the property is: the council and the postcode district; with var rag_include_address
    (licensed users only) its address lines, full postcode and UPRN too. `c` is the certificate's
    alias. -#}
{% macro document_location(c) -%}
    {%- set parts = [labelled('Location', join_text([
        c ~ '.local_authority_label', postcode_district(c ~ '.postcode')
    ], "', '"))] -%}
    {%- if var('rag_include_address', false) -%}
        {%- do parts.append(labelled('Address', join_text([
            c ~ '.address1', c ~ '.address2', c ~ '.address3', c ~ '.posttown', c ~ '.postcode'
        ], "', '"))) -%}
        {%- do parts.append(labelled('UPRN', c ~ '.uprn')) -%}
    {%- endif -%}
    {{ return(parts) }}
{%- endmacro %}


{#- The parts of a document's text, in its kind's vocabulary: `c` is the certificate's alias,
    `recommendations` the expression of its recommendation lines. -#}
{% macro document_parts(kind, c, recommendations) -%}
    {%- set nl = newline() -%}
    {%- if kind == 'domestic' -%}
        {%- set parts = [
            "'Domestic energy performance certificate (EPC), lodged ' || " ~ dbt.cast(c ~ '.lodgement_date', dbt.type_string()),
            labelled('Energy rating', c ~ '.current_energy_rating')
                ~ " || coalesce(' (score ' || " ~ as_text(c ~ '.current_energy_efficiency') ~ " || ')', '')",
            labelled('Potential energy rating', c ~ '.potential_energy_rating')
                ~ " || coalesce(' (score ' || " ~ as_text(c ~ '.potential_energy_efficiency') ~ " || ')', '')",
        ] + document_location(c) + [
            labelled('Property', join_text([c ~ '.property_type', c ~ '.built_form'], "', '")),
            labelled('Construction age band', c ~ '.construction_age_band'),
            labelled('Total floor area', as_text(c ~ '.total_floor_area') ~ " || ' m²'"),
            element('Walls', c ~ '.walls_description', c ~ '.walls_energy_eff'),
            element('Roof', c ~ '.roof_description', c ~ '.roof_energy_eff'),
            element('Floor', c ~ '.floor_description', c ~ '.floor_energy_eff'),
            element('Windows', c ~ '.windows_description', c ~ '.windows_energy_eff'),
            element('Main heating', c ~ '.main_heating_description', c ~ '.main_heating_energy_eff'),
            element('Heating controls', c ~ '.main_heating_controls_description', c ~ '.main_heating_controls_energy_eff'),
            element('Secondary heating', c ~ '.secondary_heating_description', c ~ '.secondary_heating_energy_eff'),
            element('Hot water', c ~ '.hot_water_description', c ~ '.hot_water_energy_eff'),
            element('Lighting', c ~ '.lighting_description', c ~ '.lighting_energy_eff'),
            labelled('Main fuel', c ~ '.main_fuel'),
            labelled('Running costs a year', join_text([
                "'heating ' || " ~ with_potential(c ~ '.heating_cost_current', c ~ '.heating_cost_potential', '£'),
                "'hot water ' || " ~ with_potential(c ~ '.hot_water_cost_current', c ~ '.hot_water_cost_potential', '£'),
                "'lighting ' || " ~ with_potential(c ~ '.lighting_cost_current', c ~ '.lighting_cost_potential', '£'),
            ], "'; '")),
            labelled('CO2 emissions', with_potential(
                c ~ '.co2_emissions_current', c ~ '.co2_emissions_potential', '', ' tonnes a year'
            )),
            labelled('Energy use', with_potential(
                c ~ '.energy_consumption_current', c ~ '.energy_consumption_potential', '', ' kWh/m² a year'
            )),
        ] -%}
    {%- elif kind == 'non-domestic' -%}
        {%- set parts = [
            "'Non-domestic energy performance certificate (EPC), lodged ' || " ~ dbt.cast(c ~ '.lodgement_date', dbt.type_string()),
            labelled('Asset rating', c ~ '.asset_rating_band')
                ~ " || coalesce(' (' || " ~ as_text(c ~ '.asset_rating') ~ " || ')', '')",
            labelled('Benchmarks', join_text([
                "'new build ' || " ~ as_text(c ~ '.new_build_benchmark'),
                "'existing stock ' || " ~ as_text(c ~ '.existing_stock_benchmark'),
            ], "', '")),
        ] + document_location(c) + [
            labelled('Property type', c ~ '.property_type'),
            labelled('Floor area', as_text(c ~ '.floor_area') ~ " || ' m²'"),
            labelled('Building environment', c ~ '.building_environment'),
            labelled('Main heating fuel', c ~ '.main_heating_fuel'),
            labelled('Other fuel', c ~ '.other_fuel_desc'),
            labelled('Renewable sources', c ~ '.renewable_sources'),
            labelled('Special energy uses', c ~ '.special_energy_uses'),
            labelled('Air conditioning', c ~ '.aircon_present'),
            labelled('CO2 emissions (kg/m² a year)', join_text([
                "'building ' || " ~ as_text(c ~ '.building_emissions'),
                "'target ' || " ~ as_text(c ~ '.target_emissions'),
                "'standard ' || " ~ as_text(c ~ '.standard_emissions'),
                "'typical ' || " ~ as_text(c ~ '.typical_emissions'),
            ], "', '")),
            labelled('Primary energy use', as_text(c ~ '.primary_energy_value') ~ " || ' kWh/m² a year'"),
        ] -%}
    {%- else -%}
        {%- set parts = [
            "'Display energy certificate (DEC), lodged ' || " ~ dbt.cast(c ~ '.lodgement_date', dbt.type_string()),
            labelled('Operational rating', c ~ '.operational_rating_band')
                ~ " || coalesce(' (' || " ~ as_text(c ~ '.current_operational_rating') ~ " || ')', '')",
            labelled('Previous operational ratings', join_text([
                "'last year ' || " ~ as_text(c ~ '.yr1_operational_rating'),
                "'the year before ' || " ~ as_text(c ~ '.yr2_operational_rating'),
            ], "', '")),
        ] + document_location(c) + [
            labelled('Building', join_text([c ~ '.property_type', c ~ '.main_benchmark', c ~ '.building_category'], "', '")),
            labelled('Total floor area', as_text(c ~ '.total_floor_area') ~ " || ' m²'"),
            labelled('Main heating fuel', c ~ '.main_heating_fuel'),
            labelled('Other fuel', c ~ '.other_fuel'),
            labelled('Occupancy', c ~ '.occupancy_level'),
            labelled('Heating fuel use (kWh/m² a year)', join_text([
                "'actual ' || " ~ as_text(c ~ '.annual_thermal_fuel_usage'),
                "'typical ' || " ~ as_text(c ~ '.typical_thermal_fuel_usage'),
            ], "', '")),
            labelled('Electricity use (kWh/m² a year)', join_text([
                "'actual ' || " ~ as_text(c ~ '.annual_electrical_fuel_usage'),
                "'typical ' || " ~ as_text(c ~ '.typical_electrical_fuel_usage'),
            ], "', '")),
            labelled('CO2 emissions (tonnes a year)', join_text([
                "'heating ' || " ~ as_text(c ~ '.heating_co2'),
                "'electricity ' || " ~ as_text(c ~ '.electric_co2'),
                "'renewables ' || " ~ as_text(c ~ '.renewables_co2'),
            ], "', '")),
            labelled('Renewable sources', c ~ '.renewable_sources'),
            labelled('Air conditioning', c ~ '.aircon_present'),
        ] -%}
    {%- endif -%}
    {%- do parts.append("'Recommendations:' || coalesce(" ~ nl ~ " || " ~ recommendations ~ ", ' none')") -%}
    {{ return(parts) }}
{%- endmacro %}


{#- The title of a document: kind, rating, property type and district (address with the opt-in). -#}
{% macro document_title(kind, c) -%}
    {%- set rating = {
        'domestic': "'Domestic EPC ' || coalesce(" ~ c ~ ".current_energy_rating, 'unrated')",
        'non-domestic': "'Non-domestic EPC ' || coalesce(" ~ c ~ ".asset_rating_band, 'unrated')",
        'display': "'DEC ' || coalesce(" ~ c ~ ".operational_rating_band, 'unrated')",
    }[kind] -%}
    {%- set place = [c ~ '.property_type'] + ([c ~ '.built_form'] if kind == 'domestic' else []) -%}
    {%- if var('rag_include_address', false) -%}
        {%- do place.extend([c ~ '.address1', c ~ '.postcode']) -%}
    {%- else -%}
        {%- do place.append(postcode_district(c ~ '.postcode')) -%}
    {%- endif -%}
    {%- do place.append(c ~ '.local_authority_label') -%}
    {{ rating }} || coalesce(': ' || {{ join_text(place, "', '") }}, '')
{%- endmacro %}


{#- One recommendation as a line of its certificate's document, in its kind's vocabulary: what to
    do, its indicative cost (domestic) or its payback and CO2 impact (non-domestic, display). -#}
{% macro recommendation_line(kind, r) -%}
    {%- if kind == 'domestic' -%}
    '- ' || coalesce({{ r }}.improvement_summary_text, {{ r }}.improvement_descr_text, 'improvement')
    || coalesce(' (indicative cost ' || {{ r }}.indicative_cost || ')', '')
    {%- else -%}
    '- ' || coalesce({{ r }}.recommendation, 'recommendation')
    || coalesce(' (' || {{ join_text([
        "'payback ' || " ~ r ~ ".payback_type", "'CO2 impact ' || lower(" ~ r ~ ".co2_impact)"
    ], "', '") }} || ')', '')
    {%- endif -%}
{%- endmacro %}


{#- The remote text-embedding model of the documents' embeddings (BigQuery): var
    rag_embedding_model, else `<project>.<dataset>.epc_text_embedding`. -#}
{% macro embedding_model() -%}
    {{ return(var('rag_embedding_model', target.project ~ '.' ~ target.dataset ~ '.epc_text_embedding')) }}
{%- endmacro %}


{#- Creates the remote embedding model when missing: the Vertex AI endpoint var
    rag_embedding_endpoint (default text-embedding-005) through the BigQuery connection var
    rag_embedding_connection (`project.region.connection`, in the dataset's region; its service
    account needs the Vertex AI User role). -#}
{% macro create_embedding_model() -%}
    {%- set connection = var('rag_embedding_connection', none) -%}
    {%- if execute and not connection -%}
        {{ exceptions.raise_compiler_error(
            'var rag_embedding_connection is not set: name the BigQuery connection to Vertex AI '
            ~ '(project.region.connection) that the embedding model runs through'
        ) }}
    {%- endif -%}
    create model if not exists `{{ embedding_model() }}`
    remote with connection `{{ connection }}`
    options (endpoint = '{{ var("rag_embedding_endpoint", "text-embedding-005") }}')
{%- endmacro %}


{#- Creates a vector index (IVF, cosine distance) on `column` of `relation` when missing. -#}
{% macro create_vector_index(relation, column) -%}
    create vector index if not exists {{ relation.identifier }}_{{ column }}
    on {{ relation }} ({{ column }})
    options (index_type = 'IVF', distance_type = 'COSINE')
{%- endmacro %}


{#- `text` as a BigQuery string literal (backslashes and quotes escaped). -#}
{% macro bigquery_string(text) -%}
    '{{ text | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
