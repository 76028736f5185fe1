{#- The recommendations of the live service's display (DEC-RR) reports, in the v1 API's shape
    (macro report_recommendations). -#}
{{ report_recommendations('display') }}
