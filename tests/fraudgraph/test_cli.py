"""The `fraudgraph` command line: exit statuses and messages of ingest, generate, neo4j."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fraudgraph.cli import app
from fraudgraph.settings import Settings, get_settings
from graph.runner import Query, QueryRunner
from tests.utils import application_row, export

COUNT = Query("test.count_nodes", "MATCH (n:Application) RETURN count(n) AS n")


@pytest.fixture
def cli_env(neo4j_server: Settings, runner: QueryRunner, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The CLI pointed at the test server through the environment, as a user would."""
    env = {
        "NEO4J_URI": neo4j_server.bolt_uri,
        "NEO4J_PASSWORD": neo4j_server.neo4j_password.get_secret_value(),
        "FRAUDGRAPH_HASH_KEY": neo4j_server.hash_key.get_secret_value(),
        "FRAUDGRAPH_ENCRYPTION_KEY": neo4j_server.encryption_key.get_secret_value(),
        "FRAUDGRAPH_VAR_DIR": str(tmp_path / "var"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_ingest_with_quarantined_rows_exits_1_and_names_the_files(
        cli_env: CliRunner, sample_export: Path, runner: QueryRunner) -> None:
    result = cli_env.invoke(app, ["ingest", str(sample_export)])
    assert result.exit_code == 1, result.output
    assert "quarantine_applications.csv" in result.output
    assert runner.read(COUNT) == [{"n": 40}]


def test_clean_folder_exits_0(cli_env: CliRunner, tmp_path: Path) -> None:
    folder = export(tmp_path / "e", [application_row(1), application_row(2)])
    result = cli_env.invoke(app, ["ingest", str(folder)])
    assert result.exit_code == 0, result.output


def test_unreadable_file_exits_2_and_writes_nothing(
        cli_env: CliRunner, tmp_path: Path, runner: QueryRunner) -> None:
    folder = export(tmp_path / "e", [application_row(1)])
    (folder / "applications.csv").write_bytes(b"application_id\nAPP1\n")
    result = cli_env.invoke(app, ["ingest", str(folder)])
    assert result.exit_code == 2
    assert "missing required column" in result.output and "nothing was written" in result.output
    assert runner.read(COUNT) == [{"n": 0}]


def test_missing_keys_are_a_clear_error(cli_env: CliRunner, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAUDGRAPH_HASH_KEY", "")
    get_settings.cache_clear()
    result = cli_env.invoke(app, ["ingest", str(tmp_path)])
    assert result.exit_code == 3
    assert "FRAUDGRAPH_HASH_KEY is not set" in result.output


def test_status_of_an_external_server(cli_env: CliRunner) -> None:
    result = cli_env.invoke(app, ["neo4j", "status"])
    assert result.exit_code == 0 and "external server" in result.output


def test_generate_then_ingest_round_trip(cli_env: CliRunner, tmp_path: Path,
                                         runner: QueryRunner) -> None:
    out = tmp_path / "portfolio"
    result = cli_env.invoke(app, ["generate", str(out), "--applications", "300", "--seed", "3"])
    assert result.exit_code == 0, result.output
    result = cli_env.invoke(app, ["ingest", str(out)])
    assert result.exit_code == 0, result.output  # generated data is clean
    assert runner.read(COUNT) == [{"n": 300}]


def test_bulk_load_into_an_external_server_exits_2_and_writes_nothing(
        cli_env: CliRunner, tmp_path: Path, runner: QueryRunner) -> None:
    folder = export(tmp_path / "e", [application_row(1)])
    result = cli_env.invoke(app, ["ingest", str(folder), "--bulk"])
    assert result.exit_code == 2, result.output
    assert "external server" in result.output and "without --bulk" in result.output
    assert runner.read(COUNT) == [{"n": 0}]
