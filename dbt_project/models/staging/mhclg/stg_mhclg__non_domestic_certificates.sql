{#- The live service's non-domestic certificates, typed and cleaned: the same columns as the v1 API's
    (certificate_columns('non_domestic')). -#}

with

source as (

    select * from {{ ref('base_mhclg__non_domestic_certificates') }}

),

renamed as (

    select {{ typed_certificate_columns('non_domestic') }}
    from source

)

select * from renamed
