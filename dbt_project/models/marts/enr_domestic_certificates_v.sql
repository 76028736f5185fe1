with

certificates as (

    -- certificates the live service has since removed are left out
    select certificates.*
    from {{ ref('int_certificates__domestic_unioned') }} as certificates
    left join {{ ref('int_certificates__removed') }} as removed
        on certificates.certificate_id = removed.certificate_id
    where removed.certificate_id is null

),

final as (

    select {{ column_list(mart_columns('domestic')) }}
    from certificates

)

select * from final
