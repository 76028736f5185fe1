{#- The live service's display certificates: coded fields decoded by the service's code tables
    (the v1 API's words where it worded them), then typed and cleaned by the same column definitions
    as the v1 API's (certificate_columns). -#}
{{ decoded_certificates(
    'display', ref('base_mhclg__display_certificates'), ref('stg_mhclg__code_labels')
) }}
