with

recommendations as (

    select * from {{ ref('int_recommendations__non_domestic_unioned') }}

),

certificates as (

    select certificate_id from {{ ref('enr_non_domestic_latest_by_lmk') }}

),

final as (

    select
        recommendations.certificate_id,
        recommendations.source_system,
        recommendations.lmk_key,
        recommendations.recommendation_item,
        recommendations.lodgement_date,
        recommendations.payback_type,
        recommendations.recommendation_code,
        recommendations.recommendation,
        recommendations.co2_impact,
        recommendations.extracted_at,
        recommendations.load_id
    from recommendations
    inner join certificates
        on recommendations.certificate_id = certificates.certificate_id

)

select * from final
