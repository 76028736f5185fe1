{#- The v1 API's non-domestic certificates, typed and cleaned by the same column definitions as the
    live service's (certificate_columns). -#}
{{ typed_certificates('non_domestic', ref('base_odc__non_domestic_certificates')) }}
