{#- The v1 API's non-domestic recommendations, one row per recommendation, typed and cleaned
    (macro odc_building_recommendations). -#}
{{ odc_building_recommendations('non_domestic') }}
