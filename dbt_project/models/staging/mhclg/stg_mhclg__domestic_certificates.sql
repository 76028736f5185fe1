{#- The live service's domestic certificates, typed and cleaned: the same columns as the v1 API's
    (certificate_columns('domestic')). -#}

with

source as (

    select * from {{ ref('base_mhclg__domestic_certificates') }}

),

renamed as (

    select {{ typed_certificate_columns('domestic') }}
    from source

)

select * from renamed
