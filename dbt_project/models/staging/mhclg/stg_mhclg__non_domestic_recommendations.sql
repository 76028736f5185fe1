{#- The recommendations of the live service's non-domestic (CEPC-RR) reports, in the v1 API's shape
    (macro report_recommendations). -#}
{{ report_recommendations('non_domestic') }}
