with

recommendations as (

    select * from {{ ref('int_epc__domestic_recommendations') }}

),

certificates as (

    select lmk_key from {{ ref('enr_domestic_latest_by_lmk') }}

),

final as (

    select
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
        on recommendations.lmk_key = certificates.lmk_key

)

select * from final
