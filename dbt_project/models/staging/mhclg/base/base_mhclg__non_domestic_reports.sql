{#- The live service's CEPC-RR recommendation reports as landed (macro mhclg_base_reports). -#}
{{ mhclg_base_reports('non_domestic') }}
