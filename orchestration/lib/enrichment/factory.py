"""`build_enricher`: the enricher a configuration names (the Dagster resource calls this).

    build_enricher("builtin", taxonomy)                        # the offline default
    build_enricher("openai/gpt-4o-mini", taxonomy)             # key from OPENAI_API_KEY
    build_enricher("hosted_vllm/llama-3.1-8b", taxonomy, api_base="http://vllm:8000/v1",
                   extra_params={"batch_size": 16, "max_concurrency": 4})

litellm is imported only when a model other than "builtin" is asked for, so the default path
never pays its import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestration.lib.enrichment.base import Enricher
from orchestration.lib.taxonomy import Taxonomy

BUILTIN = "builtin"


def build_enricher(
    model: str,
    taxonomy: Taxonomy,
    api_base: str | None = None,
    extra_params: Mapping[str, Any] | None = None,
) -> Enricher:
    """`BuiltinEnricher` for "builtin", else a `LiteLLMEnricher` for the litellm model id.

    `extra_params`: the keys in `llm.OPTION_KEYS` (batch_size, max_concurrency, max_attempts,
    repair_rounds, structured_output, timeout_s, ...) configure the enricher; every other key
    is passed to `litellm.acompletion` (e.g. api_version for Azure). A key belongs in the
    provider's environment variable, not here. The built-in model ignores `extra_params`.
    """
    name = (model or "").strip()
    if not name:
        raise ValueError("no model configured: use 'builtin' or a litellm model id")
    if name.lower() == BUILTIN:  # extra_params are for model calls; the built-in makes none
        from orchestration.lib.enrichment.builtin import BuiltinEnricher

        return BuiltinEnricher(taxonomy)
    from orchestration.lib.enrichment.llm import LiteLLMEnricher

    return LiteLLMEnricher.from_config(
        name, taxonomy, api_base=api_base or None, extra_params=extra_params
    )
