{#- The whole model `enr_{kind}_latest_by_uprn`: its configuration and latest_by_property over
    the kind's unioned certificates. enforce_table_contracts is false only for the BigQuery
    emulator, which cannot parse the CREATE TABLE (columns) AS SELECT an enforced contract
    generates (its DDL is asserted instead). -#}
{% macro latest_by_uprn(kind) -%}
{%- set certificates = 'int_certificates__' ~ kind ~ '_unioned' -%}
{{
    config(
        materialized='incremental',
        unique_key='property_key',
        on_schema_change='append_new_columns',
        partition_by=lodgement_month_partition(),
        cluster_by=['property_key'],
        contract={'enforced': var('enforce_table_contracts', true)},
        post_hook=[
            "{{ drop_stale_latest(this, ref('" ~ certificates ~ "'), ref('int_certificates__removed')) }}",
        ],
    )
}}
{{ latest_by_property(kind, ref(certificates), ref('int_certificates__removed')) }}
{%- endmacro %}


{#- The latest certificate of each property, for any kind: the model body of every
    `enr_{kind}_latest_by_uprn`. One row per property_key; the latest is the certificate with the
    latest lodgement date, then the latest lodgement time (a missing time loses), then the highest
    certificate_id, so the choice is deterministic. Certificates the live service removed, and
    those lodged after the run's day (an implausible date: dq_certificates_held_back lists them),
    never compete; a held-back certificate competes once its property is rebuilt after its date.

    Incremental: a run compares only the newly loaded certificates with the current latest
    certificate of each property they touch, recounts those properties (and those a new load
    moved a certificate away from, or whose certificate was removed), and merges the winners.
    A property whose latest certificate was removed or loaded again (a UPRN update moves it) has
    all its remaining certificates compete again; the model's post-hook (drop_stale_latest)
    deletes the rows left without a certificate.

    `certificates` is the kind's unioned certificates, read where needed rather than through one
    shared CTE, which DuckDB would materialise whole, every column of every certificate; the
    certificates of the touched properties (a few thousand a day) are the one shared CTE, their
    rows and the touched properties' current latest fetched by select_picked (by rowid on
    DuckDB, not by reading every column of the history). -#}
{% macro latest_by_property(kind, certificates, removed) -%}
{%- set columns = ['property_key'] + mart_columns(kind) | reject('equalto', 'property_key') | list -%}

with

{% if is_incremental() %}
new_certificates as (

    -- loaded since the last run; only their properties can get a new latest certificate
    select * from {{ certificates }}
    {{ new_loads_only(certificates) }}

),

new_removals as (

    select certificate_id from {{ removed }}
    {{ new_loads_only(removed) }}

),

vacated_properties as (

    -- properties whose current latest certificate was removed, or loaded again (perhaps under
    -- another UPRN): every certificate they still have competes again
    select current_latest.property_key
    from {{ this }} as current_latest
    where
        current_latest.certificate_id in (select new_removals.certificate_id from new_removals)
        or current_latest.certificate_id in (select new_certificates.certificate_id from new_certificates)

),

touched_properties as (

    -- every property whose latest certificate or count can have changed: those of the new
    -- certificates, those a new load moved a certificate away from, those of newly removed
    -- certificates, and the vacated ones
    select new_certificates.property_key from new_certificates
    union distinct
    select new_certificates.previous_property_key
    from new_certificates
    where new_certificates.previous_property_key is not null
    union distinct
    select certificates.property_key
    from {{ certificates }} as certificates
    inner join new_removals
        on certificates.certificate_id = new_removals.certificate_id
    union distinct
    select vacated_properties.property_key from vacated_properties

),

touched_certificates as (

    -- every competing certificate of the touched properties: the one read of the kind's
    -- certificates that both the recount and the vacated properties' candidates use
    {% call select_picked(column_list(columns, 'certificates'), certificates, 'certificates') -%}
    inner join touched_properties
        on certificates.property_key = touched_properties.property_key
    where {{ competes('certificates', removed) }}
    {%- endcall %}

),

candidates as (

    -- the new certificates ...
    select {{ column_list(columns, 'new_certificates') }}
    from new_certificates
    where {{ competes('new_certificates', removed) }}
    union all
    -- ... every certificate a vacated property still has ...
    select {{ column_list(columns, 'touched_certificates') }}
    from touched_certificates
    inner join vacated_properties
        on touched_certificates.property_key = vacated_properties.property_key
    union all
    -- ... and the current latest certificate of every other touched property
    {% call select_picked(column_list(columns, 'current_latest'), this, 'current_latest') -%}
    inner join touched_properties
        on current_latest.property_key = touched_properties.property_key
    where current_latest.property_key not in (select vacated_properties.property_key from vacated_properties)
    {%- endcall %}

),

property_sizes as (

    select
        touched_certificates.property_key,
        count(*) as certificates_for_property
    from touched_certificates
    group by touched_certificates.property_key

),

ranked as (

    select
        *,
        row_number() over (
            partition by property_key
            order by
                lodgement_date desc nulls last,
                lodgement_datetime desc nulls last,
                certificate_id desc,
                load_id desc
        ) as rank_in_property
    from candidates

),

final as (

    select
        {{- column_list(columns, 'ranked') }},
        cast(property_sizes.certificates_for_property as {{ dbt.type_int() }}) as certificates_for_property
    from ranked
    inner join property_sizes
        on ranked.property_key = property_sizes.property_key
    where ranked.rank_in_property = 1

)
{% else %}
winners as (

    -- every property's latest certificate and count, ranked on the few columns that decide it:
    -- the certificates' hundred columns are joined to the winners only, never sorted
    select
        certificate_id,
        certificates_for_property
    from (
        select
            certificates.certificate_id,
            row_number() over (
                partition by certificates.property_key
                order by
                    certificates.lodgement_date desc nulls last,
                    certificates.lodgement_datetime desc nulls last,
                    certificates.certificate_id desc,
                    certificates.load_id desc
            ) as rank_in_property,
            count(*) over (partition by certificates.property_key) as certificates_for_property
        from {{ certificates }} as certificates
        where {{ competes('certificates', removed) }}
    ) as ranked
    where rank_in_property = 1

),

final as (

    select
        {{- column_list(columns, 'certificates') }},
        cast(winners.certificates_for_property as {{ dbt.type_int() }}) as certificates_for_property
    from {{ certificates }} as certificates
    inner join winners
        on certificates.certificate_id = winners.certificate_id

)
{% endif %}

select * from final
{%- endmacro %}
