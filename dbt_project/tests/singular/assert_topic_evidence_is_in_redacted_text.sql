-- Every evidence quote is an exact substring of its item's redacted text (DESIGN.md rule 4).
-- Returns the offending topic rows.
select
    topics.item_topic_id,
    topics.evidence
from {{ ref('fct_feedback_topics') }} as topics
inner join {{ ref('fct_feedback') }} as feedback
    on topics.item_id = feedback.item_id
where {{ dbt.position('topics.evidence', 'feedback.redacted_text') }} = 0
