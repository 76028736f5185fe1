{#- Non-domestic certificates (CEPC documents) of the live service, read out of the certificate
    document into the v1 API's column names (text), so that staging types and cleans both
    sources with the same expressions. The mapping per schema family is in macros/mhclg.sql. -#}
{%- set mapping = mhclg_parse_once(mhclg_base_columns('non_domestic', 'payload'), 'payload') -%}

with

source as (

    select * from {{ epc_source('mhclg', 'mhclg_non_domestic_raw_json') }}

),

parsed as (

    select
        *,
        {{ mapping.parse }} as parsed_payload
    from source

),

renamed as (

    select
        {{ mapping.columns }}
    from parsed

)

select * from renamed
