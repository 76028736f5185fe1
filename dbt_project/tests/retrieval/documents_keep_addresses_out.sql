{#- The privacy rule of enr_property_documents: unless var rag_include_address is set, no
    document's title or content holds its certificate's UPRN, full postcode or an address line
    (lines of five characters or more, which cannot occur in the text by chance), as the
    certificate writes them (the way a document would hold them). In the daily
    build it reads the documents loaded since the day's run began (macros/test_scope.sql). -#}
{{ config(enabled=not var('rag_include_address', false)) }}
{%- set since = epc_tests_since() %}

with

certificates as (
    {%- for kind in ['domestic', 'non_domestic', 'display'] %}

    select certificate_id, uprn, postcode, address1, address2, address3
    from {{ ref('enr_' ~ kind ~ '_latest_by_uprn') }}
    {{- '\n    union all' if not loop.last }}
    {%- endfor %}

),

documents as (

    select document_id, certificate_id, title || ' ' || content as text
    from {{ ref('enr_property_documents') }}
    {%- if since %}
    where load_id >= '{{ since }}'
    {%- endif %}

),

leaks as (

    select
        documents.document_id,
        case
            when strpos(documents.text, certificates.uprn) > 0 then 'uprn'
            when strpos(documents.text, certificates.postcode) > 0 then 'postcode'
            when length(certificates.address1) >= 5 and strpos(documents.text, certificates.address1) > 0
                then 'address1'
            when length(certificates.address2) >= 5 and strpos(documents.text, certificates.address2) > 0
                then 'address2'
            when length(certificates.address3) >= 5 and strpos(documents.text, certificates.address3) > 0
                then 'address3'
        end as leaked
    from documents
    inner join certificates
        on documents.certificate_id = certificates.certificate_id

)

select * from leaks
where leaked is not null
