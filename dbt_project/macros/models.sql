{#- The bodies of the models every kind has alike, with the kind (or its inputs) as argument: one
    definition each, so the kinds cannot drift apart. -#}

{#- A v1 base model: every payload key of the kind as a text column, the payload parsed once. -#}
{% macro odc_base_certificates(kind) -%}
{%- set payload_keys = epc_payload_keys(kind) -%}

with

source as (

    select * from {{ epc_source('odc', kind ~ '_raw_json') }}

),

parsed as (

    select
        *,
        {{ epc_parse_payload('payload', payload_keys) }} as p
    from source

),

renamed as (

    select {{ odc_base_columns('p', payload_keys) }}
    from parsed

)

select * from renamed
{%- endmacro %}


{#- A live-service base model: the certificate document read into the v1 API's column names (text),
    each document parsed once (mhclg_parse_once). -#}
{% macro mhclg_base_certificates(kind) -%}
{%- set mapping = mhclg_parse_once(mhclg_base_columns(kind, 'payload'), 'payload') -%}

with

source as (

    select * from {{ epc_source('mhclg', 'mhclg_' ~ kind ~ '_raw_json') }}

),

parsed as (

    select
        *,
        {{ mapping.parse }} as parsed_payload
    from source

),

renamed as (

    select
        {{ mapping.columns }}
    from parsed

)

select * from renamed
{%- endmacro %}


{#- A live-service base model of recommendation reports (CEPC-RR, DEC-RR) as landed: the report
    document, and the certificate it names (DEC-RR reports may name none). -#}
{% macro mhclg_base_reports(kind) -%}
with

source as (

    select * from {{ epc_source('mhclg', 'mhclg_' ~ kind ~ '_reports_raw_json') }}

),

renamed as (

    select
        -- keys
        certificate_number,
        related_certificate_number,

        -- dates
        lodgement_date,

        -- the report document
        payload,

        -- load
        extracted_at,
        _dlt_load_id as load_id

    from source

)

select * from renamed
{%- endmacro %}


{#- A staging model of certificates: a base model's text columns typed and cleaned by the kind's
    column definitions (certificate_columns). -#}
{% macro typed_certificates(kind, base_model) -%}
with

source as (

    select * from {{ base_model }}

),

renamed as (

    select
        {{- typed_certificate_columns(kind) }},
        cast(null as {{ dbt.type_string() }}) as undecoded_codes
    from source

)

select * from renamed
{%- endmacro %}


{#- An intermediate model of records: the new loads of each source's staging model in one set of
    columns, the latest load of each `keys` kept, with `extra` columns computed on it. The first
    build chooses the latest load on the keys and load columns alone and joins the winners back,
    so that the records' hundred columns are never carried through the sort of every record; a
    daily run ranks its day's worth directly. -#}
{% macro unioned_latest_loads(staging_models, keys, extra=none) -%}
with
{% if is_incremental() %}
unioned as (

    -- every source's records loaded since the last run, in one set of columns (a day's worth)
    {{ new_loads_of(staging_models) }}

),

latest as (

    {{ latest_load('unioned', keys) }}

),
{% else %}
latest_loads as (

    -- the latest load of each record: its keys, load_id and extracted_at
    select {{ keys | join(', ') }}, load_id, extracted_at
    from (
        select
            {{ keys | join(', ') }},
            load_id,
            extracted_at,
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by load_id desc, extracted_at desc
            ) as load_rank
        from (
            {{- new_loads_of(staging_models, keys + ['load_id', 'extracted_at']) | indent(8) }}
        ) as loaded
    ) as ranked
    where load_rank = 1

),

unioned as (

    -- every source's records in one set of columns
    {{ new_loads_of(staging_models) }}

),

latest as (

    select unioned.*
    from unioned
    inner join latest_loads
        on
            unioned.{{ keys[0] }} = latest_loads.{{ keys[0] }}
            {%- for key in keys[1:] + ['load_id', 'extracted_at'] %}
            and unioned.{{ key }} is not distinct from latest_loads.{{ key }}
            {%- endfor %}

),
{% endif %}

final as (

    select
        *{{ ',' if extra }}
        {{ extra or '' }}
    from latest

)

select * from final
{%- endmacro %}


{#- The intermediate model of a kind's certificates: one row per certificate across sources (its
    latest load), with the key of the property it describes. -#}
{% macro unioned_certificates(staging_models) -%}
{%- set key = property_key('uprn', 'postcode', ['address1', 'address2', 'address3'], 'certificate_id') -%}
with

keyed as (

    {{ unioned_latest_loads(staging_models, ['certificate_id'], key ~ ' as property_key') | indent(4) }}

),

final as (

    -- the property a certificate was moved from by this load (a UPRN update), which the
    -- latest-by-property marts must recount
    select
        keyed.*,
        {%- if is_incremental() %}
        case
            when earlier.property_key != keyed.property_key then earlier.property_key
        end as previous_property_key
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as previous_property_key
        {%- endif %}
    from keyed
    {%- if is_incremental() %}
    left join {{ this }} as earlier
        on keyed.certificate_id = earlier.certificate_id
    {%- endif %}

)

select * from final
{%- endmacro %}


{#- A staging model of the live service's certificates: the base model's text columns, coded fields
    decoded into their labels (the v1 API's words where it worded them, else the service's) for
    the document's schema version and assessment type, then typed and cleaned by the kind's column
    definitions. A code without a label is NULL (a test counts them per field). -#}
{% macro decoded_certificates(kind, base_model, labels_model) -%}
{%- set coded = mhclg_coded_fields(kind) -%}
with

source as (

    select * from {{ base_model }}

),

labels as (

    select * from {{ labels_model }}

),

decoded as (

    select
        {{- mhclg_decoded_columns(kind, 'source', coded) }},
        {{ mhclg_undecoded_codes('source', coded) }} as undecoded_codes
    from source
    {%- for key, code in coded.items() %}
    {%- set alias = 'label_' ~ key | replace('-', '_') %}
    left join labels as {{ alias }}
        on
            {{ alias }}.code = '{{ code }}'
            and source.{{ key | replace('-', '_') }} = {{ alias }}.key
            and source.schema_type = {{ alias }}.schema_version
            and source.assessment_type = {{ alias }}.assessment_type
    {%- endfor %}

),

renamed as (

    select
        {{- typed_certificate_columns(kind) }},
        undecoded_codes
    from decoded

)

select * from renamed
{%- endmacro %}


{#- The coded fields of a document that have no label, as `field=code` separated by `; ` (NULL
    when every code was decoded): the codes_have_labels test counts them. Construction years (as
    some schemas write the age band) are not codes. Reads the joined `label_<field>` relations of
    decoded_certificates. -#}
{% macro mhclg_undecoded_codes(relation, coded) -%}
    {%- if not coded -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        nullif(array_to_string([
        {%- for key in coded %}
            {%- set column = key | replace('-', '_') %}
            case
                when
                    {{ relation }}.{{ column }} is not null and label_{{ column }}.label is null
                    {%- if key == 'construction-age-band' %}
                    and not {{ regexp_contains_digits_only(relation ~ '.' ~ column) }}
                    {%- endif %}
                    then '{{ column }}=' || {{ relation }}.{{ column }}
            end{{ ',' if not loop.last }}
        {%- endfor %}
        ], '; '), '')
    {%- endif -%}
{%- endmacro %}


{#- The base model's columns with each coded field replaced by its label (`coded`: v1 key → code).
    The construction age band keeps what has no label: in some schemas it is a year. -#}
{% macro mhclg_decoded_columns(kind, relation, coded) -%}
    {%- set columns = ['certificate_id', 'source_system', 'lmk_key', 'certificate_number', 'schema_type',
                       'lodgement_date', 'postcode', 'uprn', 'extracted_at', 'load_id'] -%}
    {%- for key in epc_payload_keys(kind) -%}
        {%- do columns.append(key | replace('-', '_')) -%}
    {%- endfor -%}
    {%- for column in columns %}
        {%- set key = column | replace('_', '-') %}
        {%- if key in coded %}
            {%- set label = 'label_' ~ column ~ '.label' %}
        {{ 'coalesce(' ~ label ~ ', ' ~ relation ~ '.' ~ column ~ ')' if key == 'construction-age-band' else label }} as {{ column }}{{ ',' if not loop.last }}
        {%- else %}
        {{ relation }}.{{ column }}{{ ',' if not loop.last }}
        {%- endif %}
    {%- endfor %}
{%- endmacro %}


{#- The recommendations of a v1 building certificate kind (non-domestic, display), typed: the v1
    API serves them one row per recommendation, under the certificate's LMK key. -#}
{% macro odc_building_recommendations(kind) -%}
{%- set payload_keys = ['payback-type', 'recommendation-item', 'recommendation-code', 'recommendation', 'co2-impact'] -%}
with

source as (

    select * from {{ epc_source('odc', kind ~ '_recommendations_raw_json') }}

),

parsed as (

    select
        lmk_key,
        lodgement_date,
        extracted_at,
        _dlt_load_id,
        {{ epc_parse_payload('payload', payload_keys) }} as p
    from source

),

renamed as (

    select
        -- keys
        lmk_key as certificate_id,
        'odc' as source_system,
        lmk_key,
        {{ to_int(epc_payload_field('p', 'recommendation-item')) }} as recommendation_item,

        -- dates
        lodgement_date,

        -- descriptions
        lower({{ clean_text(epc_payload_field('p', 'payback-type')) }}) as payback_type,
        upper({{ clean_text(epc_payload_field('p', 'recommendation-code')) }}) as recommendation_code,
        {{ clean_text(epc_payload_field('p', 'recommendation')) }} as recommendation,
        upper({{ clean_text(epc_payload_field('p', 'co2-impact')) }}) as co2_impact,

        -- load
        extracted_at,
        _dlt_load_id as load_id

    from parsed

)

select * from renamed
{%- endmacro %}


{#- The recommendations of the live service's reports (CEPC-RR, DEC-RR) of `kind`, in the v1 API's
    shape: one row per recommendation, under the certificate the report belongs to (the one the
    report names, else the one naming the report: DEC-RR reports may not point back), numbered
    1..n across the short, medium, long and other payback lists in that order (as the register's
    open data numbered them). A report no certificate can be found for is left out. -#}
{% macro report_recommendations(kind) -%}
with

reports as (

    select * from {{ ref('base_mhclg__' ~ kind ~ '_reports') }}

),

certificates as (

    select
        certificate_id,
        related_certificate_number
    from {{ ref('base_mhclg__' ~ kind ~ '_certificates') }}
    where related_certificate_number is not null

),

filed as (

    select
        reports.*,
        coalesce(reports.related_certificate_number, certificates.certificate_id) as parent_number
    from reports
    left join certificates
        on reports.certificate_number = certificates.related_certificate_number

),

listed as (
    {%- for payback in ['short', 'medium', 'long', 'other'] %}

    select
        filed.parent_number,
        filed.lodgement_date,
        filed.extracted_at,
        filed.load_id,
        '{{ payback }}' as payback_type,
        {{ loop.index }} as payback_order,
        position_in_list as element_position,
        element
    from filed
    {{ json_array_elements('filed.payload', '$.' ~ payback ~ '_payback', position='position_in_list') }}
    where filed.parent_number is not null
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}

),

renamed as (

    select
        -- keys
        parent_number as certificate_id,
        'mhclg' as source_system,
        cast(null as {{ dbt.type_string() }}) as lmk_key,
        cast(row_number() over (
            partition by parent_number order by payback_order, element_position
        ) as {{ dbt.type_int() }}) as recommendation_item,

        -- dates
        lodgement_date,

        -- descriptions
        payback_type,
        upper({{ clean_text(mhclg_value('element', '$.recommendation_code')) }}) as recommendation_code,
        {{ clean_text(mhclg_value('element', '$.recommendation')) }} as recommendation,
        upper({{ clean_text(mhclg_value('element', '$.co2_impact')) }}) as co2_impact,

        -- load
        extracted_at,
        load_id

    from listed

)

select * from renamed
{%- endmacro %}


{#- A mart of a kind's current certificates: one row per certificate, its latest load, without
    those the live service removed; the mart's columns in order (mart_columns). -#}
{% macro current_certificates(kind) -%}
with

certificates as (

    -- certificates the live service has since removed are left out
    select certificates.*
    from {{ ref('int_certificates__' ~ kind ~ '_unioned') }} as certificates
    left join {{ ref('int_certificates__removed') }} as removed
        on certificates.certificate_id = removed.certificate_id
    where removed.certificate_id is null

),

final as (

    select {{ column_list(mart_columns(kind)) }}
    from certificates

)

select * from final
{%- endmacro %}


{#- A mart of a kind's recommendations: those of the kind's current certificates (`certificates`). -#}
{% macro current_recommendations(kind, certificates, columns) -%}
with

recommendations as (

    select * from {{ ref('int_recommendations__' ~ kind ~ '_unioned') }}

),

certificates as (

    select certificate_id from {{ certificates }}

),

final as (

    select {{ column_list(columns, 'recommendations') }}
    from recommendations
    inner join certificates
        on recommendations.certificate_id = certificates.certificate_id

)

select * from final
{%- endmacro %}


{#- The columns of the recommendation marts of non-domestic and display certificates (the v1 API's
    shape, both sources). -#}
{% macro building_recommendation_columns() -%}
    {{ return([
        'certificate_id', 'source_system', 'lmk_key', 'recommendation_item', 'lodgement_date',
        'payback_type', 'recommendation_code', 'recommendation', 'co2_impact', 'extracted_at', 'load_id',
    ]) }}
{%- endmacro %}
