"""The write-back configuration: a YAML file (`PULSE_WRITEBACK_CONFIG`, default
`config/writeback.yaml`) with a few environment overrides.

Associations prefix their own iMIS objects (`ABC_Sentiment_Log`), name their properties their
own way and choose their own activity types and groups, so every iMIS name is configuration.
Write-back is off unless `enabled: true` or `PULSE_WRITEBACK_ENABLED=1`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orchestration.lib.config import REPO_ROOT

DEFAULT_CONFIG = REPO_ROOT / "config" / "writeback.yaml"

# What the product knows about an item, in the order the panel row lists it.
SentimentField = Literal[
    "source_entity",
    "source_key",
    "channel",
    "sentiment",
    "score",
    "confidence",
    "topics",
    "urgency",
    "summary",
    "model",
    "prompt_version",
    "processed_at",
    "needs_follow_up",
]
IMIS_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"  # panel source and property names (API.md 5.1)


class WritebackConfigError(ValueError):
    """The write-back configuration is invalid; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class SentimentLogConfig(_Strict):
    """One Contact-parent multi-instance panel row per item (API.md 5.1-5.2)."""

    panel_source: str = Field("Sentiment_Log", pattern=IMIS_NAME)
    parent_field: str = Field("ID", pattern=IMIS_NAME)  # the contact id property of the row
    ordinal_field: str = Field("Ordinal", pattern=IMIS_NAME)
    # product field -> panel property; null (or absent) = not written. The two key fields are
    # required: they make the write idempotent (looked up before every insert).
    fields: dict[SentimentField, str | None] = Field(
        default_factory=lambda: {
            "source_entity": "SourceEntity",
            "source_key": "SourceKey",
            "sentiment": "Sentiment",
            "score": "Score",
            "topics": "Topics",
            "summary": "Summary",
            "model": "ModelVersion",
            "processed_at": "ProcessedOn",
            "needs_follow_up": "NeedsFollowUp",
        }
    )
    max_text_chars: int = Field(2000, ge=50)  # summary and topics are cut to this length

    @field_validator("fields")
    @classmethod
    def _keys_and_names(cls, fields: dict[str, str | None]) -> dict[str, str | None]:
        import re

        for required in ("source_entity", "source_key"):
            if not fields.get(required):
                raise ValueError(f"fields.{required} must name a property (the idempotency key)")
        for name, prop in fields.items():
            if prop is not None and not re.match(IMIS_NAME, prop):
                raise ValueError(f"fields.{name}: {prop!r} is not an iMIS property name")
        mapped = [p.lower() for p in fields.values() if p]
        if len(mapped) != len(set(mapped)):
            raise ValueError("two fields are mapped to the same property")
        return fields

    def mapped(self) -> dict[str, str]:
        return {k: v for k, v in self.fields.items() if v}


class FollowUpCasesConfig(_Strict):
    """Follow-up cases: an Activity with a tickler date for negative, high-urgency items,
    created only after a reviewer approves it (or, when an administrator sets
    `auto_create_min_confidence`, automatically at or above that model confidence)."""

    enabled: bool = True
    activity_type: str = Field("FEEDBACK_FU", min_length=1, max_length=20)
    tickler_days: int = Field(3, ge=0, le=365)
    auto_create_min_confidence: float | None = Field(None, ge=0, le=1)
    excerpt_chars: int = Field(400, ge=0, le=4000)  # of the REDACTED text, never the raw text
    key_field: str = Field("OTHER_CODE", pattern=IMIS_NAME)  # stores the source key
    source_code: str | None = "MEMBERPULSE"


class AlertGroupConfig(_Strict):
    """Members with negative feedback on these topics join an iMIS group (API.md 5.3)."""

    enabled: bool = False
    group_name: str = "Pulse: follow-up needed"
    topics: list[str] = Field(default_factory=list)
    role_id: str | None = None  # default: the "Member" role GUID (verify per site)


class ThankYouConfig(_Strict):
    """An Activity for positive feedback that praises staff (a thank-you to pass on)."""

    enabled: bool = False
    activity_type: str = Field("THANKYOU", min_length=1, max_length=20)
    key_field: str = Field("OTHER_CODE", pattern=IMIS_NAME)
    source_code: str | None = "MEMBERPULSE"


class WritebackConfig(_Strict):
    enabled: bool = False
    dry_run: bool = False
    start_date: date | None = None  # items created on or after it; None = PULSE_START_DATE
    min_interval_s: float = Field(0.02, ge=0)  # between two iMIS requests (the client throttle)
    attempts: int = Field(5, ge=1, le=20)  # per write with an unknown outcome
    max_failures: int = Field(100, ge=1)  # a run stops after this many failed writes
    sentiment_log: SentimentLogConfig = Field(default_factory=SentimentLogConfig)
    follow_up_cases: FollowUpCasesConfig = Field(default_factory=FollowUpCasesConfig)
    alert_group: AlertGroupConfig = Field(default_factory=AlertGroupConfig)
    thank_you: ThankYouConfig = Field(default_factory=ThankYouConfig)

    def effective_start(self, pipeline_start: str | date) -> date:
        if self.start_date is not None:
            return self.start_date
        return (
            pipeline_start
            if isinstance(pipeline_start, date)
            else date.fromisoformat(pipeline_start)
        )


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise WritebackConfigError(f"{name}={value!r}: use 1/0, true/false, yes/no or on/off")


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("PULSE_WRITEBACK_CONFIG") or DEFAULT_CONFIG).resolve()


def load_writeback_config(env: Mapping[str, str] | None = None) -> WritebackConfig:
    """The YAML file, then PULSE_WRITEBACK_ENABLED / _DRY_RUN / _START_DATE over it.

    A missing default file means the built-in defaults (write-back off); a missing file that
    PULSE_WRITEBACK_CONFIG names is an error.
    """
    env = os.environ if env is None else env
    path = config_path(env)
    raw: dict = {}
    if path.exists():
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise WritebackConfigError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(raw, dict):
            raise WritebackConfigError(f"{path}: expected a mapping at the top level")
    elif env.get("PULSE_WRITEBACK_CONFIG"):
        raise WritebackConfigError(f"PULSE_WRITEBACK_CONFIG={path} does not exist")
    if value := env.get("PULSE_WRITEBACK_ENABLED"):
        raw["enabled"] = _flag("PULSE_WRITEBACK_ENABLED", value)
    if value := env.get("PULSE_WRITEBACK_DRY_RUN"):
        raw["dry_run"] = _flag("PULSE_WRITEBACK_DRY_RUN", value)
    if value := env.get("PULSE_WRITEBACK_START_DATE"):
        raw["start_date"] = value
    try:
        return WritebackConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise WritebackConfigError(f"{path}: {problems}") from None
