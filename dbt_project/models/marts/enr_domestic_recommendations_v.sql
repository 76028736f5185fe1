{#- The recommendations of every current domestic certificate, both sources. -#}
{{ current_recommendations('domestic', ref('enr_domestic_latest_by_lmk'), [
    'certificate_id', 'source_system', 'lmk_key', 'improvement_item', 'lodgement_date',
    'improvement_summary_text', 'improvement_descr_text', 'improvement_id', 'improvement_id_text',
    'indicative_cost', 'extracted_at', 'load_id',
]) }}
