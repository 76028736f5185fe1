{#- The recommendations of every current non-domestic certificate: the v1 API's, and those of the
    live service's recommendation reports (CEPC-RR). -#}
{{ current_recommendations(
    'non_domestic', ref('enr_non_domestic_latest_by_lmk'), building_recommendation_columns()
) }}
