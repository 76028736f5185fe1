{#- The live service's non-domestic certificates: coded fields decoded by the service's code tables
    (the v1 API's words where it worded them), then typed and cleaned by the same column definitions
    as the v1 API's (certificate_columns). -#}
{{ decoded_certificates(
    'non_domestic', ref('base_mhclg__non_domestic_certificates'), ref('stg_mhclg__code_labels')
) }}
