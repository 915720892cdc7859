"""One real Neo4j for the whole test session; every test that uses it starts clean.

The tests run their own server (port 7697, data under var/test-neo4j-PORT), never the
developer's database. FRAUDGRAPH_TEST_NEO4J_PORT moves it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from fraudgraph.settings import REPO_ROOT, Settings
from graph import server
from graph.constraints import ensure_schema
from graph.privacy import Pseudonymiser, new_key
from graph.runner import Query, QueryRunner

SAMPLE_EXPORT = REPO_ROOT.parent / "shared" / "sample-export"
TEST_PASSWORD = "fraudgraph-test-password"

WIPE = Query("test.wipe", "MATCH (n) DETACH DELETE n")

# CI explores the same examples every run, so a red build is reproducible; developers'
# runs keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
hypothesis_settings.register_profile("dev", deadline=None)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def neo4j_settings() -> Settings:
    port = int(os.environ.get("FRAUDGRAPH_TEST_NEO4J_PORT", "7697"))
    return Settings(
        neo4j_uri=None,
        neo4j_password=TEST_PASSWORD,
        neo4j_port=port,
        neo4j_heap="1g",
        neo4j_pagecache="256m",
        neo4j_home=REPO_ROOT / "var" / f"test-neo4j-{port}",
        var_dir=REPO_ROOT / "var" / "test",
        hash_key=new_key(),
        encryption_key=new_key(),
    )


@pytest.fixture(scope="session")
def neo4j_server(neo4j_settings: Settings) -> Iterator[Settings]:
    server.start(neo4j_settings)
    yield neo4j_settings
    server.stop(neo4j_settings)


@pytest.fixture(scope="session")
def _session_runner(neo4j_server: Settings) -> Iterator[QueryRunner]:
    runner = QueryRunner.from_settings(neo4j_server)
    ensure_schema(runner)
    yield runner
    runner.close()


@pytest.fixture
def runner(_session_runner: QueryRunner) -> QueryRunner:
    """The session's runner over an empty database (constraints kept)."""
    _session_runner.write(WIPE)
    return _session_runner


@pytest.fixture(scope="session")
def pseudo(neo4j_settings: Settings) -> Pseudonymiser:
    return Pseudonymiser(neo4j_settings.hash_key.get_secret_value(),
                         neo4j_settings.encryption_key.get_secret_value())


@pytest.fixture
def sample_export(tmp_path: Path) -> Path:
    """A private copy of shared/sample-export that a test may change."""
    target = tmp_path / "export"
    shutil.copytree(SAMPLE_EXPORT, target)
    return target
