{#- The v1 API's domestic certificates, typed and cleaned: the same columns as the live service's
    (certificate_columns('domestic')). -#}

with

source as (

    select * from {{ ref('base_odc__domestic_certificates') }}

),

renamed as (

    select {{ typed_certificate_columns('domestic') }}
    from source

)

select * from renamed
