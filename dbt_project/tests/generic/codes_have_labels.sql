{#- The live service's codes that the code tables do not decode, counted per field, code, schema
    version and assessment type (the decoded column is NULL for them). `model` is the decoded
    staging model, `base_model` the base model holding the codes. Meant with severity warn: a new
    schema version or code shows here before anyone misses it in the marts. Construction years (as
    some schemas write the age band) are not codes. -#}
{% test codes_have_labels(model, base_model, kind) %}
{%- set coded = mhclg_coded_fields(kind) -%}

with

labels as (

    select * from {{ ref('stg_mhclg__code_labels') }}

),

undecoded as (
    {%- for key, code in coded.items() %}
    {%- set column = key | replace('-', '_') %}

    select
        '{{ column }}' as field,
        base.{{ column }} as code,
        base.schema_type,
        base.assessment_type
    from {{ base_model }} as base
    left join labels
        on
            labels.code = '{{ code }}'
            and base.{{ column }} = labels.key
            and base.schema_type = labels.schema_version
            and base.assessment_type = labels.assessment_type
    where
        base.{{ column }} is not null
        and labels.label is null
        {%- if key == 'construction-age-band' %}
        and not {{ regexp_contains_digits_only('base.' ~ column) }}
        {%- endif %}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}

)

select
    field,
    code,
    schema_type,
    assessment_type,
    count(*) as certificates
from undecoded
group by field, code, schema_type, assessment_type

{% endtest %}
