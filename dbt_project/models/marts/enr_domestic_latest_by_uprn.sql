{#- The latest domestic certificate of each property (macro latest_by_uprn). -#}
{{ latest_by_uprn('domestic') }}
