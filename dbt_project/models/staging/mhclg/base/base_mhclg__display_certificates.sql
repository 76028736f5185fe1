{#- Display certificates (DEC documents) of the live service, read out of the certificate document
    into the v1 API's column names (text), so that staging types and cleans both sources with the
    same column definitions. The mapping is in macros/mhclg.sql. -#}
{{ mhclg_base_certificates('display') }}
