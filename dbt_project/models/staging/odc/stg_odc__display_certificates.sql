{#- The v1 API's display certificates, typed and cleaned by the same column definitions as the
    live service's (certificate_columns). -#}
{{ typed_certificates('display', ref('base_odc__display_certificates')) }}
