{#- The live service's DEC-RR recommendation reports as landed (macro mhclg_base_reports). -#}
{{ mhclg_base_reports('display') }}
