{#- enforce_table_contracts: false only for the BigQuery emulator, which cannot parse the
    CREATE TABLE (columns) AS SELECT an enforced contract generates (its DDL is asserted instead) -#}
{{
    config(
        materialized='incremental',
        unique_key='property_key',
        on_schema_change='append_new_columns',
        partition_by=lodgement_month_partition(),
        cluster_by=['property_key'],
        contract={'enforced': var('enforce_table_contracts', true)},
        post_hook=[
            "{{ drop_stale_latest(this, ref('int_certificates__display_unioned'), ref('int_certificates__removed')) }}",
        ],
    )
}}

{{ latest_by_property(
    'display', ref('int_certificates__display_unioned'), ref('int_certificates__removed')
) }}
