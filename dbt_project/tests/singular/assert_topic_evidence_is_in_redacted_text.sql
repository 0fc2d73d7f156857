-- Every evidence quote is an exact substring of its item's redacted text (DESIGN.md rule 4).
-- Returns the offending topic rows, of the latest refresh (the rows older runs wrote were
-- checked by those runs, and the mart is incremental: macros/refreshed_items.sql).
select
    topics.item_topic_id,
    topics.evidence
from {{ ref('fct_feedback_topics') }} as topics
inner join {{ ref('fct_feedback') }} as feedback
    on topics.item_id = feedback.item_id
where topics.refreshed_at = (select max(refreshed_at) from {{ ref('fct_feedback_topics') }})
    and {{ dbt.position('topics.evidence', 'feedback.redacted_text') }} = 0
