-- The daily aggregate loses and invents no item: per day and channel, its counts equal
-- fct_feedback's. Returns the days/channels that disagree.
with

feedback as (

    select
        created_date,
        channel,
        count(*) as item_count,
        sum(case when sentiment_label = 'negative' then 1 else 0 end) as negative_count,
        sum(case when enrichment_status = 'failed' and sentiment_label is null then 1 else 0 end)
            as failed_count
    from {{ ref('fct_feedback') }}
    group by 1, 2

),

aggregated as (

    select
        created_date,
        channel,
        sum(item_count) as item_count,
        sum(negative_count) as negative_count,
        sum(failed_count) as failed_count
    from {{ ref('agg_sentiment_daily') }}
    group by 1, 2

)

select
    coalesce(feedback.created_date, aggregated.created_date) as created_date,
    coalesce(feedback.channel, aggregated.channel) as channel,
    feedback.item_count as feedback_items,
    aggregated.item_count as aggregated_items
from feedback
full outer join aggregated
    on feedback.created_date = aggregated.created_date
    and feedback.channel = aggregated.channel
where feedback.item_count is null
    or aggregated.item_count is null
    or feedback.item_count <> aggregated.item_count
    or feedback.negative_count <> aggregated.negative_count
    or feedback.failed_count <> aggregated.failed_count
