{#- Every current display certificate of both sources (macro current_certificates). -#}
{{ current_certificates('display') }}
