"""The one query runner: it alone owns the Neo4j driver.

Every query is a named ``Query`` constant defined beside the function that runs it; values
travel only as ``$parameters``. Reads and writes run in transaction functions (so the
driver's retries are safe); multi-statement batches get one explicit transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import neo4j
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired, TransientError

from fraudgraph.settings import Settings


@dataclass(frozen=True)
class Query:
    """A named Cypher statement."""

    name: str
    text: str


class QueryError(RuntimeError):
    """A query failed; the message names the query and shows its text."""

    def __init__(self, query: Query, cause: Exception) -> None:
        super().__init__(f"query {query.name!r} failed: {cause}\n--- cypher ---\n{query.text}")
        self.query = query
        self.cause = cause


class DatabaseUnavailable(RuntimeError):
    """Neo4j does not answer."""


Row = dict[str, Any]


class Transaction:
    """An explicit transaction: several named statements that commit together."""

    def __init__(self, tx: neo4j.Transaction | neo4j.ManagedTransaction) -> None:
        self._tx = tx

    def run(self, query: Query, **params: Any) -> list[Row]:
        return self._rows(query, params, neo4j.Record.data)

    def _rows(self, query: Query, params: dict[str, Any],
              convert: Callable[[neo4j.Record], Row]) -> list[Row]:
        try:
            return [convert(record) for record in self._tx.run(query.text, params)]
        except TransientError:
            raise  # a deadlock or lock timeout: ``QueryRunner.write_work`` retries on these
        except Neo4jError as exc:
            raise QueryError(query, exc) from exc

    # The runner's read and write calls, answered inside this transaction: code written
    # against a runner (the decision's scorers) can run in it and see its uncommitted
    # writes (the application a submission has just upserted).
    read = run
    write = run

    def read_plain(self, query: Query, **params: Any) -> list[Row]:
        """``QueryRunner.read_plain`` in this transaction: rows as the driver decoded them."""
        return self._rows(query, params, dict)


T = TypeVar("T")


class QueryRunner:
    """Runs named queries against one Neo4j database."""

    def __init__(self, uri: str, user: str, password: str, database: str = "neo4j") -> None:
        # Server notifications ("index already exists", "property not seen yet") are
        # expected here (idempotent schema setup, optional properties) and would flood logs.
        self._auth = (user, password)
        self._driver = self._connect(uri)
        self.database = database
        self.uri = uri

    def _connect(self, uri: str) -> neo4j.Driver:
        return neo4j.GraphDatabase.driver(uri, auth=self._auth, notifications_min_severity="OFF")

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryRunner:
        return cls(
            settings.bolt_uri,
            settings.neo4j_user,
            settings.neo4j_password.get_secret_value(),
            settings.neo4j_database,
        )

    def close(self) -> None:
        self._driver.close()

    def reconnect(self) -> None:
        """A new driver after the server was restarted (a bulk load stops and starts it):
        the old one's pooled connections are dead."""
        self._driver.close()
        self._driver = self._connect(self.uri)

    def __enter__(self) -> QueryRunner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def ping(self) -> None:
        """Raise ``DatabaseUnavailable`` unless the server answers a query."""
        try:
            self._driver.verify_connectivity()
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            raise DatabaseUnavailable(f"Neo4j at {self.uri} does not answer: {exc}") from exc

    def read(self, query: Query, **params: Any) -> list[Row]:
        return self._execute(query, params, neo4j.READ_ACCESS)

    def write(self, query: Query, **params: Any) -> list[Row]:
        return self._execute(query, params, neo4j.WRITE_ACCESS)

    def read_plain(self, query: Query, **params: Any) -> list[Row]:
        """``read`` for bulk answers of plain values (numbers, strings, lists of them), rows
        as the driver decoded them. ``Record.data()`` converts every list element in Python
        (about 2 µs each): most of the time of reading a million-element column (rings)."""
        def work(tx: neo4j.ManagedTransaction) -> list[Row]:
            return [dict(record) for record in tx.run(query.text, params)]

        try:
            with self._driver.session(database=self.database,
                                      default_access_mode=neo4j.READ_ACCESS) as session:
                return session.execute_read(work)
        except (ServiceUnavailable, SessionExpired) as exc:
            raise DatabaseUnavailable(f"Neo4j at {self.uri} does not answer: {exc}") from exc
        except Neo4jError as exc:
            raise QueryError(query, exc) from exc

    def _execute(self, query: Query, params: Mapping[str, Any], mode: str) -> list[Row]:
        def work(tx: neo4j.ManagedTransaction) -> list[Row]:
            return [record.data() for record in tx.run(query.text, params)]

        try:
            with self._driver.session(database=self.database, default_access_mode=mode) as s:
                if mode == neo4j.READ_ACCESS:
                    return s.execute_read(work)
                return s.execute_write(work)
        except (ServiceUnavailable, SessionExpired) as exc:
            raise DatabaseUnavailable(f"Neo4j at {self.uri} does not answer: {exc}") from exc
        except Neo4jError as exc:
            raise QueryError(query, exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One explicit write transaction; commits on leaving, rolls back on an error."""
        try:
            with self._driver.session(database=self.database) as session:
                with session.begin_transaction() as tx:
                    yield Transaction(tx)
                    tx.commit()
        except (ServiceUnavailable, SessionExpired) as exc:
            raise DatabaseUnavailable(f"Neo4j at {self.uri} does not answer: {exc}") from exc

    def write_work(self, work: Callable[[Transaction], T]) -> T:
        """Run ``work`` as one write transaction that the driver retries as a whole on
        transient failures: concurrent writers merging the same node (two submissions at
        one new dealer) can deadlock, and one of them must simply run again. ``work`` may
        be called more than once, so it must touch nothing but its ``Transaction``."""
        try:
            with self._driver.session(database=self.database) as session:
                return session.execute_write(lambda tx: work(Transaction(tx)))
        except (ServiceUnavailable, SessionExpired) as exc:
            raise DatabaseUnavailable(f"Neo4j at {self.uri} does not answer: {exc}") from exc

    def stream(self, query: Query, **params: Any) -> Iterator[Row]:
        """Rows of a large read, one at a time, without holding them all in memory."""
        try:
            with self._driver.session(database=self.database) as session:
                for record in session.run(query.text, params):
                    yield record.data()
        except Neo4jError as exc:
            raise QueryError(query, exc) from exc
