{#- Certificates held out of the latest-by-UPRN marts, with the reason: lodged after the run's day
    (an implausible date, such as 2999-12-31). A view: it follows the run's day. -#}
{%- set kinds = [
    ('domestic', ref('int_certificates__domestic_unioned')),
    ('non-domestic', ref('int_certificates__non_domestic_unioned')),
    ('display', ref('int_certificates__display_unioned')),
] -%}

with

held_back as (
    {%- for kind, model in kinds %}

    select
        '{{ kind }}' as certificate_kind,
        certificate_id,
        source_system,
        property_key,
        lodgement_date,
        inspection_date,
        load_id
    from {{ model }}
    where lodgement_date > {{ run_date() }}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        *,
        'lodgement date after the run date' as reason
    from held_back

)

select * from final
