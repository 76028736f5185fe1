{#- Every current domestic certificate of both sources (macro current_certificates). -#}
{{ current_certificates('domestic') }}
