{#- The recommendations of every current display certificate: those of the v1 API's bulk files,
    and those of the live service's recommendation reports (DEC-RR). -#}
{{ current_recommendations('display', ref('enr_display_certificates_v'), building_recommendation_columns()) }}
