{#- The live service's domestic certificates, typed and cleaned by the same column definitions as
    the v1 API's (certificate_columns). -#}
{{ typed_certificates('domestic', ref('base_mhclg__domestic_certificates')) }}
