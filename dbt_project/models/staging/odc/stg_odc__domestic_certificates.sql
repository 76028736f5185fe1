{#- The v1 API's domestic certificates, typed and cleaned by the same column definitions as the
    live service's (certificate_columns). -#}
{{ typed_certificates('domestic', ref('base_odc__domestic_certificates')) }}
