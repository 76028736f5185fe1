{#- Recommendations are read from the intermediate models, not from the recommendation marts (which
    keep those of current certificates): the left join below keeps the same ones, and the DAG
    does not join a mart with its own parent. -#}
with

domestic as (

    select
        'domestic' as certificate_kind,
        certificate_id,
        source_system,
        lmk_key,
        property_key,
        uprn,
        postcode,
        lodgement_date,
        current_energy_rating as energy_rating,
        property_type
    from {{ ref('enr_domestic_latest_by_lmk') }}

),

non_domestic as (

    select
        'non-domestic' as certificate_kind,
        certificate_id,
        source_system,
        lmk_key,
        property_key,
        uprn,
        postcode,
        lodgement_date,
        asset_rating_band as energy_rating,
        property_type
    from {{ ref('enr_non_domestic_latest_by_lmk') }}

),

certificates as (

    select * from domestic
    union all
    select * from non_domestic

),

domestic_recommendations as (

    select
        'domestic' as certificate_kind,
        certificate_id,
        improvement_item as item,
        cast(improvement_item as {{ dbt.type_string() }}) || '. '
        || coalesce(improvement_summary_text, improvement_descr_text, 'improvement')
        || coalesce(' (' || indicative_cost || ')', '') as recommendation_line
    from {{ ref('int_recommendations__domestic_unioned') }}

),

non_domestic_recommendations as (

    select
        'non-domestic' as certificate_kind,
        certificate_id,
        recommendation_item as item,
        cast(recommendation_item as {{ dbt.type_string() }}) || '. '
        || coalesce(recommendation, 'recommendation')
        || coalesce(' [' || recommendation_code || ']', '') as recommendation_line
    from {{ ref('int_recommendations__non_domestic_unioned') }}

),

recommendation_lists as (

    select
        certificate_kind,
        certificate_id,
        count(*) as recommendation_count,
        {{ dbt.listagg("recommendation_line", "'; '", 'order by item') }} as recommendations
    from (
        select * from domestic_recommendations
        union all
        select * from non_domestic_recommendations
    ) as recommendations
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
