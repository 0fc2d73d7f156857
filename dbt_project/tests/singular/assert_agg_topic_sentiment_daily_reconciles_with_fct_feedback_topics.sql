-- The daily topic aggregate loses and invents no mention: per day and topic, its counts equal
-- fct_feedback_topics'. Returns the days/topics that disagree.
with

mentions as (

    select
        created_date,
        topic_key,
        count(*) as mention_count,
        sum(case when topic_sentiment = 'positive' then 1 else 0 end) as positive_count,
        sum(case when topic_sentiment = 'negative' then 1 else 0 end) as negative_count
    from {{ ref('fct_feedback_topics') }}
    group by 1, 2

),

aggregated as (

    select
        created_date,
        topic_key,
        sum(mention_count) as mention_count,
        sum(positive_count) as positive_count,
        sum(negative_count) as negative_count
    from {{ ref('agg_topic_sentiment_daily') }}
    group by 1, 2

)

select
    coalesce(mentions.created_date, aggregated.created_date) as created_date,
    coalesce(mentions.topic_key, aggregated.topic_key) as topic_key,
    mentions.mention_count as mentions,
    aggregated.mention_count as aggregated_mentions
from mentions
full outer join aggregated
    on mentions.created_date = aggregated.created_date
    and mentions.topic_key = aggregated.topic_key
where mentions.mention_count is null
    or aggregated.mention_count is null
    or mentions.mention_count <> aggregated.mention_count
    or mentions.positive_count <> aggregated.positive_count
    or mentions.negative_count <> aggregated.negative_count
