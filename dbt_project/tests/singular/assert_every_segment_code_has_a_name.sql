-- Every tier and chapter code the aggregates hold has a row in dim_segments, so no screen or
-- BI report meets a code it cannot name. Returns the codes without a row.
with

used as (

    select distinct 'tier' as segment_type, member_tier as segment_code
    from {{ ref('agg_sentiment_daily') }}
    union
    select distinct 'chapter', member_chapter
    from {{ ref('agg_sentiment_daily') }}

)

select used.segment_type, used.segment_code
from used
left join {{ ref('dim_segments') }} as segments
    on used.segment_type = segments.segment_type
    and used.segment_code = segments.segment_code
where segments.segment_code is null
