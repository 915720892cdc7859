"""The project's own Neo4j: idempotent start, data kept across stop and start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fraudgraph.settings import Settings
from graph import server
from graph.runner import Query, QueryRunner

CREATE = Query("test.create_marker", "CREATE (:TestMarker {value: $value})")
READ = Query("test.read_marker", "MATCH (m:TestMarker) RETURN m.value AS value")


def test_start_twice_is_one_server(neo4j_server: Settings) -> None:
    first = server.status(neo4j_server)
    again = server.start(neo4j_server)
    assert first.running and again.running
    assert again.pid == first.pid


def test_stop_keeps_the_data_for_the_next_start(runner: QueryRunner,
                                                neo4j_server: Settings) -> None:
    runner.write(CREATE, value="kept")
    stopped = server.stop(neo4j_server)
    assert not stopped.running
    assert not server.status(neo4j_server).running
    started = server.start(neo4j_server)
    assert started.running
    assert [row["value"] for row in runner.read(READ)] == ["kept"]


def test_an_external_server_is_used_as_it_is(neo4j_server: Settings) -> None:
    external = neo4j_server.model_copy(update={"neo4j_uri": neo4j_server.bolt_uri})
    assert not external.manages_neo4j
    state = server.start(external)
    assert state.running and not state.managed and state.pid is None


SETTINGS = Query("test.replan_settings",
                 "SHOW SETTINGS YIELD name, value WHERE name = $name RETURN value")


def test_the_server_keeps_cypher_plans_for_the_configured_interval(
        runner: QueryRunner, neo4j_server: Settings) -> None:
    # Neo4j's own default is 10 s; the project starts its server with its setting.
    assert neo4j_server.neo4j_min_replan_interval_s == 600
    [row] = runner.read(SETTINGS, name="dbms.cypher.min_replan_interval")
    assert row["value"] == "10m"


def test_a_replan_interval_that_is_not_whole_seconds_in_range_is_refused() -> None:
    for bad in ("-1", "86401", "ten", "1.5"):
        with pytest.raises(ValidationError, match="FRAUDGRAPH_NEO4J_MIN_REPLAN_INTERVAL"):
            Settings(_env_file=None, FRAUDGRAPH_NEO4J_MIN_REPLAN_INTERVAL=bad)  # type: ignore[call-arg]
