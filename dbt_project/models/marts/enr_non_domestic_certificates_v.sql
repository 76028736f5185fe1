{#- Every current non-domestic certificate of both sources (macro current_certificates). -#}
{{ current_certificates('non_domestic') }}
