"""What every enricher is, and the post-rules every enricher applies.

An `Enricher` turns redacted items into `LabelResult`s: one per input, in input order, never
dropping one (a failure is a `LabelResult(status="failed", failure_reason=...)`).

`apply_urgency_rules(text, labels)` runs after any model, built-in or LLM. It can only RAISE
urgency (an explicit threat to cancel, a locked-out member, a double charge, a legal or privacy
matter, a safety issue, a deadline), never lower it: a model that missed an urgent item is
corrected, a model that flagged one is never second-guessed by a rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from orchestration.lib.enrichment.schema import (
    URGENCY_ORDER,
    EnrichmentInput,
    ItemLabels,
    LabelResult,
    Urgency,
    UrgencyLevel,
    UrgencySignal,
)
from orchestration.lib.enrichment.text import PLACEHOLDER_RE


@runtime_checkable
class Enricher(Protocol):
    model_id: str
    prompt_version: str
    taxonomy_version: str

    def enrich(self, items: Sequence[EnrichmentInput]) -> list[LabelResult]:
        """One result per item, same order; failures are results with status "failed"."""
        ...


@dataclass(frozen=True)
class UrgencyRule:
    signal: UrgencySignal
    level: UrgencyLevel
    reason: str
    pattern: re.Pattern[str]
    # A match preceded (within a few words) by one of these is not a hit: "I will NOT cancel".
    negatable: bool = False


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE)


_MEMBERSHIP = r"(?:membership|memberships|subscription|dues|account|renewal|auto-?renew(?:al)?)"
_NEGATION_BEFORE = re.compile(
    r"(?:\bnot|\bnever|\bno|n't|\bno plans to|\bdon't want to|\bwithout)\s+(?:\w+\s+){0,2}$",
    re.IGNORECASE,
)

URGENCY_RULES: tuple[UrgencyRule, ...] = (
    UrgencyRule(
        "churn_risk",
        "high",
        "explicit threat to cancel or not renew",
        _rx(
            rf"cancel(?:l?ing|l?ed)?\s+(?:my|our|the)\s+{_MEMBERSHIP}",
            r"(?:will|am|'m|are|'re|would)\s+(?:not|never)\s+(?:be\s+)?renew(?:ing)?",
            r"(?:won't|will\s+not|not\s+going\s+to|do\s+not\s+plan\s+to|don't\s+plan\s+to)\s+renew",
            r"not\s+renewing",
            rf"(?:let|letting)\s+(?:my|our)\s+{_MEMBERSHIP}\s+(?:lapse|expire)",
            rf"(?:drop|dropping|end|ending|terminate|terminating|quit|quitting|resign|resigning)\s+(?:my|our)\s+{_MEMBERSHIP}",
            r"(?:leave|leaving|quit|quitting)\s+the\s+(?:association|society|organi[sz]ation)",
            r"(?:switch|switching|move|moving)\s+to\s+(?:a|another)\s+(?:competing\s+)?(?:association|society|organi[sz]ation)",
            r"(?:last|final)\s+year\s+(?:as\s+a\s+member|of\s+(?:my\s+)?membership)",
            rf"(?:refund|cancel)\s+(?:my|our)\s+{_MEMBERSHIP}",
        ),
        negatable=True,
    ),
    UrgencyRule(
        "billing_error",
        "high",
        "billing error or double charge",
        _rx(
            r"(?:charged|billed|invoiced)\s+(?:me\s+)?(?:twice|two\s+times|double|three\s+times|again)",
            r"double[-\s]?(?:charged|charge|charges|billed|billing|payment)",
            r"duplicate\s+(?:charge|charges|payment|payments|invoice|transaction)",
            r"over-?charged?",
            r"wrong(?:ly)?\s+(?:charged|billed|amount)",
            r"incorrect(?:ly)?\s+(?:charged|billed|charge|amount|invoice)",
            r"unauthori[sz]ed\s+(?:charge|charges|payment|transaction)",
            r"billing\s+(?:error|mistake)",
            r"charged\s+for\s+(?:something|a)\s+.{0,30}(?:never|didn't|did not)",
            r"still\s+(?:haven't|have\s+not|not)\s+(?:received|gotten|got)\s+(?:my|the|a)\s+refund",
        ),
    ),
    UrgencyRule(
        "locked_out",
        "medium",
        "member cannot get into their account",
        _rx(
            r"locked\s+out",
            r"account\s+(?:is\s+|was\s+|has\s+been\s+|got\s+)?(?:locked|disabled|suspended)",
            r"(?:can't|cannot|can\s+not|couldn't|could\s+not|unable\s+to|not\s+able\s+to)\s+(?:log\s*(?:in|on)|sign\s*(?:in|on)|access\s+(?:my|the)\s+(?:account|portal|member|course|certificate|transcript))",
            r"password\s+reset\s+(?:link\s+)?(?:doesn't|does\s+not|didn't|did\s+not|isn't|is\s+not|never|won't|will\s+not)",
            r"(?:login|log-?in|sign-?in)\s+(?:doesn't|does\s+not|isn't|is\s+not|won't|will\s+not|keeps?\s+failing|fails|failed|is\s+broken)",
        ),
    ),
    UrgencyRule(
        "privacy_or_legal",
        "high",
        "legal or data-privacy matter",
        _rx(
            r"lawyer",
            r"attorney",
            r"legal\s+action",
            r"law\s?suit",
            r"sue\s+(?:you|the\s+association)",
            r"small\s+claims",
            r"gdpr",
            r"ccpa",
            r"data\s+breach",
            r"privacy\s+(?:violation|breach|complaint)",
            r"breach\s+of\s+(?:my\s+)?(?:privacy|data|contract)",
            r"(?:sold|sell|selling|shared|sharing|gave|giving)\s+(?:away\s+)?(?:my|our|members')\s+(?:personal\s+)?(?:data|information|info|details|email|e-mail|contact)",
            r"delete\s+(?:all\s+)?(?:my|our)\s+(?:personal\s+)?(?:data|information|details|records)",
            r"right\s+to\s+(?:be\s+forgotten|erasure)",
            r"discriminat(?:ion|ed|ory|ing)",
            r"report(?:ing)?\s+(?:you|this|the\s+association)\s+to\s+the",
        ),
    ),
    UrgencyRule(
        "safety",
        "high",
        "possible safety issue",
        _rx(
            r"unsafe",
            r"injur(?:y|ies|ed)",
            r"assault(?:ed)?",
            r"harass(?:ed|ment|ing)?",
            r"threaten(?:ed|ing)?",
            r"medical\s+emergency",
            r"emergency\s+exit",
            r"fire\s+exit",
            r"food\s+poisoning",
            r"allergic\s+reaction",
            r"self[-\s]harm",
            r"suicid(?:e|al)",
            r"weapon",
            r"stalk(?:ed|ing)",
            r"(?:felt|feel|feeling)\s+(?:unsafe|threatened|in\s+danger)",
        ),
    ),
    UrgencyRule(
        "deadline",
        "medium",
        "time-sensitive request",
        _rx(
            r"deadline",
            r"urgent(?:ly)?",
            r"asap",
            r"as\s+soon\s+as\s+possible",
            r"immediately",
            r"(?:by|before|until)\s+(?:today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|end\s+of\s+(?:the\s+)?(?:day|week|month))",
            r"(?:due|expires?|expiring|closes?)\s+(?:today|tomorrow|this\s+week|on\s+\w+|in\s+\d+\s+days?)",
            r"(?:before|by)\s+(?:the|my)\s+(?:exam|event|conference|deadline|renewal\s+date)",
            r"time[-\s]sensitive",
        ),
    ),
)

_ESCALATIONS: tuple[tuple[frozenset[str], UrgencyLevel, str], ...] = (
    (frozenset({"locked_out", "deadline"}), "high", "locked out with a deadline"),
)


def urgency_signals(text: str) -> list[tuple[UrgencyRule, re.Match[str]]]:
    """The rules that fire on `text`, each with its first non-negated match."""
    text = PLACEHOLDER_RE.sub("someone", text)
    hits: list[tuple[UrgencyRule, re.Match[str]]] = []
    for rule in URGENCY_RULES:
        for match in rule.pattern.finditer(text):
            if rule.negatable and _NEGATION_BEFORE.search(
                text[max(0, match.start() - 40) : match.start()]
            ):
                continue
            hits.append((rule, match))
            break
    return hits


def apply_urgency_rules(text: str, labels: ItemLabels) -> ItemLabels:
    """`labels` with urgency raised where the rules demand it; never lowered."""
    hits = urgency_signals(text)
    if not hits:
        return labels
    current = labels.urgency
    level: UrgencyLevel = current.level
    signals = list(current.signals)
    rule_reasons: list[str] = []
    for rule, _ in hits:
        if URGENCY_ORDER[rule.level] > URGENCY_ORDER[level]:
            level = rule.level
        if rule.signal not in signals:
            signals.append(rule.signal)
        rule_reasons.append(f"rule: {rule.reason}")
    for combo, combo_level, reason in _ESCALATIONS:
        if combo <= set(signals) and URGENCY_ORDER[combo_level] > URGENCY_ORDER[level]:
            level = combo_level
            rule_reasons.append(f"rule: {reason}")
    rule_reasons = [r for r in dict.fromkeys(rule_reasons) if r not in current.reasons]
    reasons = list(current.reasons)[: max(0, 8 - len(rule_reasons))] + rule_reasons[:8]
    urgency = Urgency(level=level, reasons=reasons, signals=signals)
    if urgency == current:
        return labels
    return labels.model_copy(update={"urgency": urgency})
