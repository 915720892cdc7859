"""The lifecycle commands against the test database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fraudgraph.cli import app
from fraudgraph.settings import Settings, get_settings
from tests.lifecycle.conftest import app as stored_app
from tests.utils import application_row


@pytest.fixture
def cli_env(runner, neo4j_settings: Settings, monkeypatch) -> Iterator[CliRunner]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.bolt_uri)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.neo4j_password.get_secret_value())
    monkeypatch.setenv("FRAUDGRAPH_HASH_KEY", neo4j_settings.hash_key.get_secret_value())
    monkeypatch.setenv("FRAUDGRAPH_ENCRYPTION_KEY",
                       neo4j_settings.encryption_key.get_secret_value())
    monkeypatch.setenv("FRAUDGRAPH_MODEL_DIR", str(Path("/nonexistent-models")))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_decide_servicing_and_errors_from_the_command_line(cli_env: CliRunner, runner,  # type: ignore[no-untyped-def]
                                                           tmp_path: Path) -> None:
    row = tmp_path / "row.json"
    row.write_text(json.dumps(application_row(1)), encoding="utf-8")
    result = cli_env.invoke(app, ["decide", str(row)])
    assert result.exit_code == 0, result.output
    assert '"tier": "A"' in result.output
    assert stored_app(runner, "APP000001")["status"] == "approved"

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(application_row(2, term_months="99")), encoding="utf-8")
    result = cli_env.invoke(app, ["decide", str(bad)])
    assert result.exit_code == 1 and "term_months" in result.output
    assert stored_app(runner, "APP000002") == {}

    result = cli_env.invoke(app, ["servicing", "run", "--as-of", "2026-06-01"])
    assert result.exit_code == 0 and '"loans": 0' in result.output
    result = cli_env.invoke(app, ["approvals", "approve", "APR-missing", "--by", "x"])
    assert result.exit_code == 1 and "NotFound" in result.output
