{#- Semantic search over the documents on BigQuery (var rag_embeddings): the documents nearest to
    a question (var rag_query), by cosine distance between the question's embedding (task type
    RETRIEVAL_QUERY) and the documents' (enr_property_document_embeddings, vector index). Compile
    it with `dbt compile --select vector_search --vars '{rag_embeddings: true, rag_query: "..."}'`
    and run the SQL in target/compiled. -#}
{{ config(enabled=var('rag_embeddings', false)) }}

with

question as (

    select ml_generate_embedding_result as embedding
    from ml.generate_embedding(
        model `{{ embedding_model() }}`,
        (select {{ bigquery_string(var("rag_query", "cheapest ways to improve a draughty solid-walled house")) }} as content),
        struct(true as flatten_json_output, 'RETRIEVAL_QUERY' as task_type)
    )

),

nearest as (

    select
        base.document_id,
        distance
    from vector_search(
        table {{ ref('enr_property_document_embeddings') }},
        'embedding',
        (select embedding from question),
        top_k => {{ var('rag_top_k', 10) }},
        distance_type => 'COSINE'
    )

)

select
    nearest.document_id,
    nearest.distance,
    documents.kind,
    documents.title,
    documents.content
from nearest
inner join {{ ref('enr_property_documents') }} as documents
    on nearest.document_id = documents.document_id
order by nearest.distance
