with

recommendations as (

    select * from {{ ref('int_recommendations__domestic_unioned') }}

),

certificates as (

    select certificate_id from {{ ref('enr_domestic_latest_by_lmk') }}

),

final as (

    select
        recommendations.certificate_id,
        recommendations.source_system,
        recommendations.lmk_key,
        recommendations.improvement_item,
        recommendations.lodgement_date,
        recommendations.improvement_summary_text,
        recommendations.improvement_descr_text,
        recommendations.improvement_id,
        recommendations.improvement_id_text,
        recommendations.indicative_cost,
        recommendations.extracted_at,
        recommendations.load_id
    from recommendations
    inner join certificates
        on recommendations.certificate_id = certificates.certificate_id

)

select * from final
