{#- The filter that makes an incremental model read only what dlt loaded since its last run.

    Rows are new when their `load_id` (dlt's _dlt_load_id) is above the highest one already in
    the model. On BigQuery that alone would still scan every partition of the payload column, so
    the filter also bounds `lodgement_date` from below by the earliest date among the new loads:
    a literal the engine can prune partitions with. A daily run then reads the months it touched,
    not 30 million certificates. -#}
{% macro new_loads_only(upstream, load_id_column='load_id', date_column='lodgement_date') -%}
    {%- if is_incremental() and execute -%}
        {%- set last = run_query("select max(" ~ load_id_column ~ ") from " ~ this).columns[0].values()[0] -%}
        {%- if last is not none -%}
            {%- set earliest = run_query(
                "select min(" ~ date_column ~ ") from " ~ upstream
                ~ " where " ~ load_id_column ~ " > '" ~ last ~ "'"
            ).columns[0].values()[0] -%}
            where {{ load_id_column }} > '{{ last }}'
            {%- if earliest is not none %}
                and ({{ date_column }} >= date '{{ earliest }}' or {{ date_column }} is null)
            {%- endif %}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- After an incremental run of a latest-by-property table: delete the rows whose certificate the
    live service removed, or that now belongs to another property (a UPRN update), where no other
    certificate of the old property took its place. Reads two narrow columns of each input. -#}
{% macro drop_stale_latest(model, certificates, removed) -%}
    delete from {{ model }} as latest
    where
        latest.certificate_id in (select removed.certificate_id from {{ removed }} as removed)
        or exists (
            select 1
            from {{ certificates }} as certificates
            where
                certificates.certificate_id = latest.certificate_id
                and certificates.property_key != latest.property_key
        )
{%- endmacro %}


{#- The condition that keeps a certificate the live service has not removed (`removed` is the
    model of removed certificates). -#}
{% macro not_removed(certificate_id, removed) -%}
    {{ certificate_id }} not in (select removed.certificate_id from {{ removed }} as removed)
{%- endmacro %}


{#- BigQuery partitioning by lodgement month, as `partition_by` config; none on DuckDB, which
    rejects the dict (the one place models depend on the adapter). -#}
{% macro lodgement_month_partition() -%}
    {{ return(
        {'field': 'lodgement_date', 'data_type': 'date', 'granularity': 'month'}
        if target.type == 'bigquery' else none
    ) }}
{%- endmacro %}


{#- The rows of `relation` from the latest load of each `keys` combination (the highest load_id,
    then the latest extraction): deterministic, whatever order the loads arrive in. -#}
{% macro latest_load(relation, keys) -%}
    select {{ star_except(['load_rank']) }}
    from (
        select
            *,
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by load_id desc, extracted_at desc
            ) as load_rank
        from {{ relation }}
    ) as ranked
    where load_rank = 1
{%- endmacro %}


{#- The new loads of each source's staging model, as one relation: the union of sources. -#}
{% macro new_loads_of(models) -%}
    {%- for model in models %}
    select * from {{ model }}
    {{ new_loads_only(model) }}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
