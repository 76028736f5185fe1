{#- The live service's non-domestic certificates, typed and cleaned by the same column definitions as
    the v1 API's (certificate_columns). -#}
{{ typed_certificates('non_domestic', ref('base_mhclg__non_domestic_certificates')) }}
