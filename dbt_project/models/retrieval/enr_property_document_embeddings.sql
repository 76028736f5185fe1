{#- BigQuery only, behind var rag_embeddings (default false): an embedding of each document's
    content, by a remote text-embedding model (var rag_embedding_endpoint, through the connection
    named by var rag_embedding_connection), with a vector index for VECTOR_SEARCH
    (analyses/vector_search.sql).

    Incremental on content_hash: a run embeds only the documents that are new or whose text
    changed since they were embedded, and those whose embedding failed last time (a row is kept
    only when the model answered); the post-hook deletes the embeddings of documents that are
    gone. The remote model is created by the pre-hook when missing, the vector index by the
    post-hook (BigQuery fills it once the table passes 10 MB; below that VECTOR_SEARCH is exact). -#}
{{
    config(
        enabled=var('rag_embeddings', false),
        materialized='incremental',
        unique_key='document_id',
        on_schema_change='append_new_columns',
        cluster_by=['document_id'],
        pre_hook=["{{ create_embedding_model() }}"],
        post_hook=[
            "delete from {{ this }} where document_id not in "
            ~ "(select document_id from {{ ref('enr_property_documents') }})",
            "{{ create_vector_index(this, 'embedding') }}",
        ],
    )
}}
{%- if execute and target.type != 'bigquery' %}
    {{ exceptions.raise_compiler_error(
        'var rag_embeddings needs the BigQuery target (ML.GENERATE_EMBEDDING); on DuckDB search '
        ~ 'the documents with python -m extract.search'
    ) }}
{%- endif %}
{%- if execute and not var('rag_embedding_connection', none) %}
    {{ create_embedding_model() }}{#- raises the missing connection's error at compile time -#}
{%- endif %}

with

documents_to_embed as (

    -- new documents, changed texts, and embeddings that failed last time
    select
        documents.document_id,
        documents.content_hash,
        documents.title,
        documents.content
    from {{ ref('enr_property_documents') }} as documents
    {%- if is_incremental() %}
    left join {{ this }} as embedded
        on
            documents.document_id = embedded.document_id
            and documents.content_hash = embedded.content_hash
    where embedded.document_id is null
    {%- endif %}

),

embeddings as (

    select *
    from ml.generate_embedding(
        model `{{ embedding_model() }}`,
        (select document_id, content_hash, title, content from documents_to_embed),
        struct(true as flatten_json_output, 'RETRIEVAL_DOCUMENT' as task_type)
    )

),

final as (

    select
        document_id,
        content_hash,
        ml_generate_embedding_result as embedding,
        '{{ var("rag_embedding_endpoint", "text-embedding-005") }}' as embedding_endpoint,
        current_timestamp() as embedded_at
    from embeddings
    where ml_generate_embedding_status = ''

)

select * from final
