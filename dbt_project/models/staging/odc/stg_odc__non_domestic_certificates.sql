{#- The v1 API's non-domestic certificates, typed and cleaned: the same columns as the live service's
    (certificate_columns('non_domestic')). -#}

with

source as (

    select * from {{ ref('base_odc__non_domestic_certificates') }}

),

renamed as (

    select {{ typed_certificate_columns('non_domestic') }}
    from source

)

select * from renamed
