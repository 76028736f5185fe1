{#- One document for retrieval per property and kind: the property's latest certificate (each
    kind's latest_by_uprn) and its recommendations as plain text (macros/documents.sql).

    Incremental on content_hash: a run looks only at the properties the loads since its last run
    touched (their certificates arrived, moved or were removed), rebuilds their text, and writes
    only the documents whose content_hash changed, or whose property lost its last certificate
    (written empty, then deleted by the post-hook, which finds them by their NULL content_hash: a
    far narrower column to scan than content). Every other row, its content_hash and its
    updated_at, is left as it was. -#}
-- depends_on: {{ ref('int_certificates__domestic_unioned') }}
-- depends_on: {{ ref('int_certificates__non_domestic_unioned') }}
-- depends_on: {{ ref('int_certificates__display_unioned') }}
-- depends_on: {{ ref('int_certificates__removed') }}
{{
    config(
        materialized='incremental',
        unique_key='document_id',
        on_schema_change='append_new_columns',
        cluster_by=['kind', 'property_key'],
        post_hook=["delete from {{ this }} where content_hash is null"],
    )
}}
{%- set kinds = [('domestic', 'domestic'), ('non-domestic', 'non_domestic'), ('display', 'display')] -%}
{#- the highest load id among the documents: every load after it is looked at (at worst again) -#}
{%- set since = none -%}
{%- if is_incremental() and execute -%}
    {%- set since = run_query('select max(load_id) from ' ~ this).columns[0].values()[0] -%}
{%- endif -%}

with
{% for kind, name in kinds %}
{%- set certificates = ref('int_certificates__' ~ name ~ '_unioned') %}
{% if since %}
{{ name }}_touched as (

    -- the properties whose latest certificate can have changed since the last run: those of
    -- certificates loaded since (and those a load moved one away from), and those whose
    -- document describes a certificate removed since (the removal of another certificate
    -- changes no text); read from the documents, not from every certificate
    select property_key from {{ certificates }}
    where load_id > '{{ since }}'
    union distinct
    select previous_property_key from {{ certificates }}
    where load_id > '{{ since }}' and previous_property_key is not null
    union distinct
    select current_documents.property_key
    from {{ this }} as current_documents
    where
        current_documents.kind = '{{ kind }}'
        and current_documents.certificate_id in (
            select removed.certificate_id from {{ ref('int_certificates__removed') }} as removed
            where removed.load_id > '{{ since }}'
        )

),
{% endif %}
{{ name }}_latest as (

    {% call select_picked('latest.*', ref('enr_' ~ name ~ '_latest_by_uprn'), 'latest', few=since) -%}
    {%- if since %}
    where latest.property_key in (select {{ name }}_touched.property_key from {{ name }}_touched)
    {%- endif %}
    {%- endcall %}

),

{{ name }}_recommendation_rows as (

    {% call select_picked(
        'recommendations.*', ref('int_recommendations__' ~ name ~ '_unioned'), 'recommendations', few=since
    ) -%}
    where recommendations.certificate_id in (select {{ name }}_latest.certificate_id from {{ name }}_latest)
    {%- endcall %}

),

{{ name }}_recommendations as (

    select
        recommendations.certificate_id,
        {{ dbt.listagg(
            recommendation_line(kind, 'recommendations'),
            newline(),
            'order by recommendations.' ~ ('improvement_item' if kind == 'domestic' else 'recommendation_item')
        ) }} as recommendation_lines
    from {{ name }}_recommendation_rows as recommendations
    group by recommendations.certificate_id

),

{%- set rating = 'latest.current_energy_rating' if kind == 'domestic'
    else 'cast(null as ' ~ dbt.type_string() ~ ')' %}
{{ name }}_documents as (

    select
        '{{ kind }}' as kind,
        latest.property_key,
        latest.certificate_id,
        latest.source_system,
        latest.lodgement_date,
        {{ rating }} as current_energy_rating,
        latest.local_authority_label,
        {{ postcode_district('latest.postcode') }} as postcode_district,
        {{ document_title(kind, 'latest') }} as title,
        {%- set parts = document_parts(kind, 'latest', name ~ '_recommendations.recommendation_lines') %}
        {{ join_text(parts, newline()) }} as content,  -- noqa: RF04
        latest.load_id
    from {{ name }}_latest as latest
    left join {{ name }}_recommendations
        on latest.certificate_id = {{ name }}_recommendations.certificate_id

),
{% endfor %}
documents as (
    {%- for kind, name in kinds %}

    select * from {{ name }}_documents
    {%- if since %}
    union all
    -- a touched property left without a certificate: its document goes (an empty row the
    -- post-hook deletes)
    select
        '{{ kind }}' as kind,
        touched.property_key,
        {%- for column in ['certificate_id', 'source_system'] %}
        cast(null as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        cast(null as date) as lodgement_date,
        {%- for column in ['current_energy_rating', 'local_authority_label', 'postcode_district', 'title', 'content', 'load_id'] %}
        cast(null as {{ dbt.type_string() }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ name }}_touched as touched
    where touched.property_key not in (select {{ name }}_latest.property_key from {{ name }}_latest)
    {%- endif %}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}

),

hashed as (

    select
        {{ dbt.hash("documents.kind || '|' || documents.property_key") }} as document_id,
        documents.*,
        {{ dbt.hash('documents.content') }} as content_hash
    from documents

),

final as (

    select
        hashed.document_id,
        hashed.certificate_id,
        hashed.kind,
        hashed.property_key,
        hashed.source_system,
        hashed.lodgement_date,
        hashed.current_energy_rating,
        hashed.local_authority_label,
        hashed.postcode_district,
        hashed.title,
        hashed.content,
        case when hashed.content is not null then hashed.content_hash end as content_hash,
        {{ dbt.current_timestamp() }} as updated_at,
        hashed.load_id
    from hashed
    {%- if since %}
    left join {{ this }} as current_documents
        on hashed.document_id = current_documents.document_id
    -- only what changed: a new or different text, or a document to delete
    where
        (current_documents.document_id is null and hashed.content is not null)
        or current_documents.content_hash != hashed.content_hash
        or (current_documents.document_id is not null and hashed.content is null)
    {%- endif %}

)

select * from final
