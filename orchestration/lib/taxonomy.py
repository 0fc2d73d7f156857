"""The association's topic taxonomy: a versioned YAML file that staff can edit.

    version: "2025.1"
    topics:
      - key: dues_pricing            # snake_case, unique, never renamed once labels exist
        label: Dues and pricing
        description: Membership dues, fees and prices ...
        examples: [the dues increase this year is too much, ...]   # 1-20 phrases
        keywords: [dues, membership fee, ...]                       # optional

`Taxonomy.version` is the file's `version` plus a short hash of the parsed content, so an edit
that forgets to bump `version` still changes the version that keys the label cache (DESIGN.md
rule 5). Comment and formatting edits do not change it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

KEY_PATTERN = r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$"

_Phrase = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class TaxonomyError(ValueError):
    """The taxonomy file is missing, not YAML, or breaks a rule; the message says which."""


class Topic(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid", frozen=True)

    key: Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=64)]
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)
    ]
    examples: Annotated[tuple[_Phrase, ...], Field(min_length=1, max_length=20)]
    keywords: Annotated[tuple[_Phrase, ...], Field(max_length=60)] = ()


class _TaxonomyFile(BaseModel):
    model_config = ConfigDict(hide_input_in_errors=True, extra="forbid", frozen=True)

    version: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[\w.\-]+$"
        ),
    ]
    topics: Annotated[tuple[Topic, ...], Field(min_length=1, max_length=200)]

    @model_validator(mode="after")
    def _unique_keys(self) -> _TaxonomyFile:
        seen: set[str] = set()
        dupes: set[str] = set()
        for topic in self.topics:
            (dupes if topic.key in seen else seen).add(topic.key)
        if dupes:
            raise ValueError(f"duplicate topic keys: {sorted(set(dupes))}")
        return self


class Taxonomy:
    """A validated taxonomy. Build it with `Taxonomy.load(path)` or `Taxonomy.from_dict(data)`."""

    def __init__(self, parsed: _TaxonomyFile) -> None:
        self._parsed = parsed
        self._by_key = {t.key: t for t in parsed.topics}

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> Taxonomy:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TaxonomyError(f"cannot read taxonomy file {path}: {exc}") from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise TaxonomyError(f"taxonomy file {path} is not valid YAML: {exc}") from exc
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<taxonomy>") -> Taxonomy:
        if not isinstance(data, dict):
            raise TaxonomyError(f"{source}: expected a mapping with `version` and `topics`")
        if isinstance(data.get("version"), int | float):
            data = {**data, "version": str(data["version"])}  # `version: 2` in YAML is an int
        try:
            return cls(_TaxonomyFile.model_validate(data))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
                for err in exc.errors()
            )
            raise TaxonomyError(f"{source} is not a valid taxonomy: {problems}") from None

    # -- accessors ----------------------------------------------------------------------------
    @property
    def declared_version(self) -> str:
        """The `version:` string exactly as the file gives it."""
        return self._parsed.version

    @cached_property
    def content_hash(self) -> str:
        canonical = json.dumps(
            self._parsed.model_dump(mode="json"), sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def version(self) -> str:
        """`<declared version>+<8 hex of the content hash>`, e.g. `2025.1+3fa2b0c1`."""
        return f"{self._parsed.version}+{self.content_hash[:8]}"

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._by_key)

    @property
    def topics(self) -> tuple[Topic, ...]:
        return self._parsed.topics

    def with_topics(self, extra: Sequence[dict], *, source: str = "promoted topics") -> Taxonomy:
        """This taxonomy plus `extra` topics (staff-promoted ones), validated as one file, so a
        promoted topic changes the version that keys the label cache like an edit would."""
        if not extra:
            return self
        data = self._parsed.model_dump(mode="json")
        return Taxonomy.from_dict({**data, "topics": [*data["topics"], *extra]}, source=source)

    def get(self, key: str) -> Topic | None:
        return self._by_key.get(key)

    def __getitem__(self, key: str) -> Topic:
        return self._by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[Topic]:
        return iter(self._parsed.topics)

    def __len__(self) -> int:
        return len(self._by_key)

    def __repr__(self) -> str:
        return f"Taxonomy(version={self.version!r}, topics={len(self)})"


def is_topic_key(value: str) -> bool:
    return re.fullmatch(KEY_PATTERN, value) is not None
