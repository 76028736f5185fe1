with

recommendations as (

    select * from {{ ref('int_epc__non_domestic_recommendations') }}

),

certificates as (

    select lmk_key from {{ ref('enr_non_domestic_latest_by_lmk') }}

),

final as (

    select
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
        on recommendations.lmk_key = certificates.lmk_key

)

select * from final
