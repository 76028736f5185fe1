{{ config(materialized='view') }}

with

events as (

    select * from {{ ref('stg_mhclg__certificate_events') }}

),

ranked as (

    select
        certificate_id,
        event_type,
        event_date,
        event_at,
        load_id,
        row_number() over (
            partition by certificate_id
            order by event_timestamp desc, load_id desc
        ) as recency
    from events

),

final as (

    -- a certificate is gone when its latest event removed it
    select
        certificate_id,
        event_date as lodgement_date,
        event_at as removed_at,
        load_id
    from ranked
    where recency = 1 and event_type = 'removed'

)

select * from final
