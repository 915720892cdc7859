"""The one configuration object, read from the environment.

Priority, highest first: process environment, then ``var/fraudgraph.env`` (written by
``./run`` on first use with fresh random keys), then the defaults below. No other module
reads ``os.environ``; everything takes a ``Settings`` (or the piece of it it needs).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = REPO_ROOT / "var"


class Settings(BaseSettings):
    """Runtime configuration of every fraudgraph component."""

    model_config = SettingsConfigDict(
        env_file=(DEFAULT_VAR_DIR / "fraudgraph.env",),
        env_file_encoding="utf-8",
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
    )

    # Neo4j. When NEO4J_URI is set, that server is used and nothing is started.
    neo4j_uri: str | None = Field(default=None, validation_alias="NEO4J_URI")
    neo4j_user: str = Field(default="neo4j", validation_alias="NEO4J_USER")
    neo4j_password: SecretStr = Field(
        default=SecretStr(""), validation_alias="NEO4J_PASSWORD"
    )
    neo4j_database: str = Field(default="neo4j", validation_alias="NEO4J_DATABASE")
    neo4j_host: str = Field(default="127.0.0.1", validation_alias="FRAUDGRAPH_NEO4J_HOST")
    neo4j_port: int = Field(default=7687, validation_alias="FRAUDGRAPH_NEO4J_PORT")
    neo4j_heap: str = Field(default="2g", validation_alias="FRAUDGRAPH_NEO4J_HEAP")
    neo4j_pagecache: str = Field(default="1g", validation_alias="FRAUDGRAPH_NEO4J_PAGECACHE")
    # How long a Cypher plan is kept before Neo4j may plan it again (its default: 10 s).
    # Labels that start small (cases, decisions) keep changing by more than the divergence
    # threshold, so the decision's statements were re-planned as often as every 10 s,
    # 30-600 ms each time, inside whichever request ran them next (graph.server).
    neo4j_min_replan_interval_s: int = Field(
        default=600, ge=0, le=86_400, validation_alias="FRAUDGRAPH_NEO4J_MIN_REPLAN_INTERVAL")
    neo4j_home: Path | None = Field(default=None, validation_alias="FRAUDGRAPH_NEO4J_HOME")

    # Personal data: keyed hash for matching, AES-256-GCM for the clear value at rest.
    hash_key: SecretStr = Field(default=SecretStr(""), validation_alias="FRAUDGRAPH_HASH_KEY")
    encryption_key: SecretStr = Field(
        default=SecretStr(""), validation_alias="FRAUDGRAPH_ENCRYPTION_KEY"
    )

    var_dir: Path = Field(default=DEFAULT_VAR_DIR, validation_alias="FRAUDGRAPH_VAR_DIR")
    ingest_batch_size: int = Field(default=2000, ge=1, validation_alias="FRAUDGRAPH_BATCH_SIZE")

    # --- api (issue 6): fields below this line
    # Signs the API's bearer tokens (HS256); 32+ random bytes. ./run writes one.
    jwt_secret: SecretStr = Field(default=SecretStr(""), validation_alias="FRAUDGRAPH_JWT_SECRET")
    token_minutes: int = Field(default=480, ge=1, validation_alias="FRAUDGRAPH_TOKEN_MINUTES")
    # How long a client should wait before retrying while Neo4j does not answer.
    retry_after_s: int = Field(default=5, ge=1, validation_alias="FRAUDGRAPH_RETRY_AFTER")
    # Where the console finds the API (the console never opens its own path to Neo4j).
    console_api_url: str = Field(default="http://127.0.0.1:8000",
                                 validation_alias="FRAUDGRAPH_API_URL")
    # How long the API keeps figures that read the whole portfolio (dealers league).
    api_cache_seconds: float = Field(default=300.0, ge=0,
                                     validation_alias="FRAUDGRAPH_API_CACHE_SECONDS")

    # Submissions decided together in one transaction, at most (1: each on its own), and
    # the threads that decide them (api.batching).
    api_batch_max: int = Field(default=16, ge=1, le=256,
                               validation_alias="FRAUDGRAPH_API_BATCH_MAX")
    api_batch_workers: int = Field(default=2, ge=1, le=16,
                                   validation_alias="FRAUDGRAPH_API_BATCH_WORKERS")

    # --- rings (issue 3): fields below this line
    # A TOML or JSON file overriding rings.config.RingConfig (weights per link kind...).
    ring_config_file: Path | None = Field(default=None,
                                          validation_alias="FRAUDGRAPH_RING_CONFIG")

    # --- gnn (issue 4): fields below this line
    # Where versioned models live; None means var_dir / "models".
    gnn_model_dir: Path | None = Field(default=None, validation_alias="FRAUDGRAPH_MODEL_DIR")
    # Neighbours read per identifier when one application is scored from Neo4j.
    gnn_score_fanout: int = Field(default=10, ge=1, validation_alias="FRAUDGRAPH_GNN_FANOUT")
    # Identifiers with more links than this take span and dealer count from a cache.
    gnn_hub_cap: int = Field(default=200, ge=1, validation_alias="FRAUDGRAPH_GNN_HUB_CAP")
    # torch's intra-op threads for the decision's GNN score: one application's
    # neighbourhood is too small to split across cores.
    gnn_score_threads: int = Field(default=1, ge=1,
                                   validation_alias="FRAUDGRAPH_GNN_SCORE_THREADS")

    # --- lifecycle (issue 5): fields below this line
    lifecycle_policy_path: Path | None = Field(
        default=None, validation_alias="FRAUDGRAPH_POLICY_PATH")
    lifecycle_sla_working_days: int = Field(
        default=2, ge=1, validation_alias="FRAUDGRAPH_REVIEW_SLA_DAYS")

    @field_validator("neo4j_uri", mode="before")
    @classmethod
    def _blank_uri_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def manages_neo4j(self) -> bool:
        """True when the project starts its own Neo4j (no NEO4J_URI given)."""
        return self.neo4j_uri is None

    @property
    def bolt_uri(self) -> str:
        return self.neo4j_uri or f"bolt://{self.neo4j_host}:{self.neo4j_port}"

    @property
    def neo4j_home_dir(self) -> Path:
        return self.neo4j_home or self.var_dir / "neo4j"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use (never at import time)."""
    return Settings()
