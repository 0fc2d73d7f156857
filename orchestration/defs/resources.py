"""Resources: the warehouse, iMIS, the PII redactor, the enricher and dbt, built from EnvVar."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from connectors.imis import ImisClient
from orchestration.defs.transform.dbt_cli import DBT_EXECUTABLE, PulseDbtCliResource
from orchestration.defs.transform.project import dbt_project
from orchestration.lib.app_state import AppState
from orchestration.lib.config import Paths
from orchestration.lib.enrichment.base import Enricher
from orchestration.lib.enrichment.cache import LabelCache
from orchestration.lib.enrichment.factory import build_enricher
from orchestration.lib.redaction import KnownPeople, Redactor, load_allow_list
from orchestration.lib.taxonomy import Taxonomy
from orchestration.lib.warehouse import Warehouse

from .settings import settings


class WarehouseResource(dg.ConfigurableResource):
    """The working DuckDB warehouse; memory and threads are set explicitly (DuckDB's defaults
    take 80% of RAM and every core, which starves the rest of the pipeline on 2 cores)."""

    pulse_home: str
    memory_limit: str = "2GB"
    threads: int = 2

    def get(self) -> Warehouse:
        return Warehouse(Paths(Path(self.pulse_home)).warehouse, self.memory_limit, self.threads)

    @property
    def paths(self) -> Paths:
        return Paths(Path(self.pulse_home))


class ImisResource(dg.ConfigurableResource):
    """One iMIS REST API user: one cached token per process, one request at a time."""

    base_url: str
    username: str
    password: str
    page_size: int = 500
    min_interval_s: float = 0.0

    @contextmanager
    def client(self) -> Iterator[ImisClient]:
        with ImisClient(
            self.base_url,
            self.username,
            self.password,
            page_size=self.page_size,
            min_interval_s=self.min_interval_s,
        ) as client:
            yield client


class PiiResource(dg.ConfigurableResource):
    """The offline Presidio redactor, with known names and e-mails as keyed hashes only."""

    pulse_home: str
    hmac_secret: str
    vocabulary_file: str
    member_id_pattern: str | None = None
    ner_model: str | None = None

    @property
    def known_people_file(self) -> Path:
        return Paths(Path(self.pulse_home)).pii_dir / "known_people.sqlite"

    def known_people(self) -> KnownPeople:
        secret = self.hmac_secret.encode()
        if self.known_people_file.exists():
            return KnownPeople.load(self.known_people_file, secret)
        return KnownPeople(secret)

    def redactor(self) -> Redactor:
        return Redactor.build(
            known_people=self.known_people(),
            allow_list=load_allow_list(Path(self.vocabulary_file)),
            member_id_pattern=self.member_id_pattern,
            ner_model=self.ner_model,
        )


class EnrichmentResource(dg.ConfigurableResource):
    """The labelling model (`builtin`, or a litellm model id) and its label cache.

    The provider's key stays in its usual environment variable (OPENAI_API_KEY, ...), read by
    litellm at call time: it is never a resource field, so it never shows in the UI."""

    pulse_home: str
    taxonomy_file: str
    model: str = "builtin"
    api_base: str | None = None
    params: dict = Field(default_factory=dict)
    budget_usd: float | None = None

    def taxonomy(self) -> Taxonomy:
        promoted = AppState(Paths(Path(self.pulse_home)).app_state).promoted_topics()
        return Taxonomy.load(Path(self.taxonomy_file)).with_topics(promoted)

    def enricher(self) -> Enricher:
        return build_enricher(self.model, self.taxonomy(), self.api_base, self.params)

    def cache(self) -> LabelCache:
        return LabelCache(Paths(Path(self.pulse_home)).label_cache)


@dg.definitions
def resources() -> dg.Definitions:
    s = settings()
    home = str(s.home)
    return dg.Definitions(
        resources={
            "warehouse": WarehouseResource(
                pulse_home=home, memory_limit=s.duckdb_memory_limit, threads=s.duckdb_threads
            ),
            "imis": ImisResource(
                base_url=dg.EnvVar("IMIS_BASE_URL"),
                username=dg.EnvVar("IMIS_USERNAME"),
                password=dg.EnvVar("IMIS_PASSWORD"),
            ),
            "pii": PiiResource(
                pulse_home=home,
                hmac_secret=dg.EnvVar("PULSE_HMAC_SECRET"),
                vocabulary_file=str(s.vocabulary_file),
            ),
            "enrichment": EnrichmentResource(
                pulse_home=home,
                taxonomy_file=str(s.taxonomy_file),
                model=s.model,
                api_base=s.model_api_base,
                params=s.model_params,
                budget_usd=s.model_budget_usd,
            ),
            "dbt": PulseDbtCliResource(project_dir=dbt_project(), dbt_executable=DBT_EXECUTABLE),
        }
    )
