{#- The v1 API's display recommendations, one row per recommendation, typed and cleaned
    (macro odc_building_recommendations). -#}
{{ odc_building_recommendations('display') }}
