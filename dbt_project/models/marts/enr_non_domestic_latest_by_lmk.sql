{#- The original design's name for the latest row of each certificate (its LMK key in the v1 API,
    its number in the live service): that is what enr_non_domestic_certificates_v holds. -#}

select * from {{ ref('enr_non_domestic_certificates_v') }}
