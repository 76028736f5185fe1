{#- The label of every code of the live service, in the v1 API's words where it worded them
    differently. A table: the decoding staging models join it once per coded field, and a view
    (or a CTE) would be read again for each of those joins. -#}
{{ config(materialized='table') }}

with

codes as (

    select * from {{ ref('base_mhclg__codes') }}

),

wording as (

    select * from {{ ref('mhclg_v1_wording') }}

),

labelled as (

    select
        codes.code,
        codes.key,
        codes.schema_version,
        codes.assessment_type,
        -- `label` is a keyword to sqlfluff, and the column's plain name
        coalesce(wording.value, codes.value) as label  -- noqa: RF04
    from codes
    left join wording
        on
            codes.code = wording.code
            and codes.assessment_type = wording.assessment_type
            and codes.key = wording.key

)

select * from labelled
