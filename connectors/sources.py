"""The text-source configuration (`PULSE_SOURCES`): which systems to read, and how.

Sources are configuration, not code. One YAML file lists them; each has a `kind`:

- `imis_entity`: an iMIS business object or panel source read through `/api/{Entity}`;
- `imis_query`: a customer-owned IQA read through `/api/query`;
- `file`: a CSV or JSONL export (pilots before iMIS is connected);
- `sql`: a direct query on an on-premise iMIS database (`connectors/sql/README.md`).

The optional `members` block says where member segment attributes come from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Channel = Literal["email", "survey", "community", "case"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class _ImisMapping(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    channel: Channel
    key_fields: list[str] = Field(min_length=1)
    watermark_field: str  # the item's creation date: partitions are days of it
    text_fields: list[str] = Field(min_length=1)
    member_id_field: str | None = None
    question_field: str | None = None
    updated_field: str | None = None
    filters: dict[str, str] = Field(default_factory=dict)  # extra iMIS filters, e.g. ACTIVITY_TYPE
    html: bool = False  # text is HTML e-mail: convert, strip quoted history and signature


class ImisEntitySource(_ImisMapping):
    kind: Literal["imis_entity"]
    entity: str


class ImisQuerySource(_ImisMapping):
    kind: Literal["imis_query"]
    query_name: str  # e.g. "$/MemberPulse/SurveyComments"


class FileColumns(_Strict):
    id: str
    text: str
    created_at: str
    channel: str | None = None
    member_id: str | None = None
    question: str | None = None


class FileSource(_Strict):
    kind: Literal["file"]
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    path: Path
    columns: FileColumns
    channel: Channel = (
        "survey"  # used when the file has no channel column, or a row leaves it empty
    )
    format: Literal["auto", "csv", "jsonl"] = "auto"


class SqlColumns(_Strict):
    """Which result columns of the query hold what (names as the query spells them)."""

    key: list[str] = Field(min_length=1)  # e.g. [SEQN]; several make a composite key
    text: list[str] = Field(min_length=1)  # joined with blank lines, e.g. [NOTE, NOTE_2]
    created_at: str  # the item's creation date (naive local time), e.g. TRANSACTION_DATE
    member_id: str | None = None  # e.g. ID
    question: str | None = None
    updated_at: str | None = None


class SqlSource(_Strict):
    """A direct-database source for on-premise iMIS (API.md 6.2): a SQLAlchemy URL held in an
    environment variable, and a query taking `:watermark_start` / `:watermark_end` (the window
    [start, end) of the item's creation date)."""

    kind: Literal["sql"]
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    channel: Channel
    url_env: str = Field(default="IMIS_SQL_URL", pattern=r"^[A-Z_][A-Z0-9_]*$")
    query: str
    columns: SqlColumns
    html: bool = False

    @model_validator(mode="after")
    def _query_takes_the_window(self) -> SqlSource:
        missing = [p for p in (":watermark_start", ":watermark_end") if p not in self.query]
        if missing:
            raise ValueError(f"query must use {' and '.join(missing)}")
        return self


Source = Annotated[
    ImisEntitySource | ImisQuerySource | FileSource | SqlSource, Field(discriminator="kind")
]


class MembersConfig(_Strict):
    """Where members come from: `/api/Party` (Person data) synced on `UpdatedOn`."""

    entity: str = "Party"


class SourcesConfig(_Strict):
    sources: list[Source] = Field(min_length=1)
    members: MembersConfig | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> SourcesConfig:
        names = [s.name for s in self.sources]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @property
    def needs_imis(self) -> bool:
        return self.members is not None or any(
            isinstance(s, ImisEntitySource | ImisQuerySource) for s in self.sources
        )


class SourcesConfigError(ValueError):
    """The sources file is missing or invalid; the message names the file and the field."""


def load_sources(path: str | Path) -> SourcesConfig:
    """Read and validate a sources YAML; file paths are resolved relative to the YAML file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourcesConfigError(f"cannot read sources file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SourcesConfigError(f"sources file {path} is not valid YAML: {exc}") from None
    try:
        config = SourcesConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SourcesConfigError(f"sources file {path} is invalid: {problems}") from None
    resolved = [
        s.model_copy(update={"path": (path.parent / s.path).resolve()})
        if isinstance(s, FileSource) and not s.path.is_absolute()
        else s
        for s in config.sources
    ]
    return config.model_copy(update={"sources": resolved})
