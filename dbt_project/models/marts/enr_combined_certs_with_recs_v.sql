{#- Every current certificate of every kind with its recommendations folded into one ordered text.
    Recommendations are read from the intermediate models, not from the recommendation marts
    (which keep those of current certificates): the left join below keeps the same ones, and the
    DAG does not join a mart with its own parent. -#}
{%- set kinds = [
    ('domestic', ref('enr_domestic_latest_by_lmk'), 'current_energy_rating'),
    ('non-domestic', ref('enr_non_domestic_latest_by_lmk'), 'asset_rating_band'),
    ('display', ref('enr_display_certificates_v'), 'operational_rating_band'),
] -%}

with

certificates as (
    {%- for kind, model, rating in kinds %}

    select
        '{{ kind }}' as certificate_kind,
        certificate_id,
        source_system,
        lmk_key,
        property_key,
        uprn,
        postcode,
        lodgement_date,
        {{ rating }} as energy_rating,
        property_type
    from {{ model }}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}

),

recommendations as (

    select
        'domestic' as certificate_kind,
        certificate_id,
        improvement_item as item,
        cast(improvement_item as {{ dbt.type_string() }}) || '. '
        || coalesce(improvement_summary_text, improvement_descr_text, 'improvement')
        || coalesce(' (' || indicative_cost || ')', '') as recommendation_line
    from {{ ref('int_recommendations__domestic_unioned') }}
    {%- for kind in ['non_domestic', 'display'] %}
    union all
    select
        '{{ kind | replace('_', '-') }}' as certificate_kind,
        certificate_id,
        recommendation_item as item,
        cast(recommendation_item as {{ dbt.type_string() }}) || '. '
        || coalesce(recommendation, 'recommendation')
        || coalesce(' [' || recommendation_code || ']', '') as recommendation_line
    from {{ ref('int_recommendations__' ~ kind ~ '_unioned') }}
    {%- endfor %}

),

recommendation_lists as (

    select
        certificate_kind,
        certificate_id,
        count(*) as recommendation_count,
        {{ dbt.listagg("recommendation_line", "'; '", 'order by item') }} as recommendations
    from recommendations
    group by certificate_kind, certificate_id

),

final as (

    select
        certificates.certificate_kind,
        certificates.certificate_id,
        certificates.source_system,
        certificates.lmk_key,
        certificates.property_key,
        certificates.uprn,
        certificates.postcode,
        certificates.lodgement_date,
        certificates.energy_rating,
        certificates.property_type,
        cast(coalesce(recommendation_lists.recommendation_count, 0) as {{ dbt.type_int() }})
            as recommendation_count,
        recommendation_lists.recommendations
    from certificates
    left join recommendation_lists
        on
            certificates.certificate_kind = recommendation_lists.certificate_kind
            and certificates.certificate_id = recommendation_lists.certificate_id

)

select * from final
