"""Enrichment: labels for redacted member feedback (sentiment, topics, urgency, ...).

- `schema`: the label contract, its validation against text and taxonomy, and warehouse rows.
- `base`: the `Enricher` protocol and the shared urgency post-rules.
- `builtin`: the offline default enricher.
- `llm`: the production enricher over any litellm model (batched, validated, repaired).
- `factory`: `build_enricher(model, taxonomy, api_base, extra_params)`, builtin or litellm.
- `cache`: the SQLite label cache and `enrich_with_cache`.
- `prompts`: the prompt version shared by every enricher.

Nothing here imports dagster, dbt or streamlit.
"""
