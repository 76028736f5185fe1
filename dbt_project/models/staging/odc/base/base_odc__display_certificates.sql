{#- Display certificates of the v1 API (its bulk files) with every payload key as a text column,
    the payload parsed once (macro odc_base_certificates). Typing and cleaning happen in
    stg_odc__display_certificates. -#}
{{ odc_base_certificates('display') }}
