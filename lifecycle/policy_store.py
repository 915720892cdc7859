"""Policies in the graph: every policy a decision used is stored under its version
(immutable), and one is active. A threshold change goes through four eyes
(action ``change_policy``) and activates a new version."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from graph.runner import Query, QueryRunner, Transaction
from graph.schema import Label
from lifecycle.errors import PolicyError
from lifecycle.policy import DEFAULT_POLICY, Policy, load_policy, parse_policy

P = Label.POLICY.value

ACTIVE = Query("lifecycle.policy.active",
               f"MATCH (p:{P}) WHERE p.active RETURN p.body AS body LIMIT 1")
GET = Query("lifecycle.policy.get",
            f"MATCH (p:{P} {{version: $version}}) RETURN p.body AS body")
REMEMBER = Query(
    "lifecycle.policy.remember",
    f"MERGE (p:{P} {{version: $version}}) ON CREATE SET p.body = $body, p.created_at = $at, "
    "p.active = false RETURN p.body AS body",
)
ACTIVATE = Query(
    "lifecycle.policy.activate",
    f"MATCH (p:{P}) WHERE p.active AND p.version <> $version SET p.active = false "
    f"WITH count(*) AS _ MATCH (n:{P} {{version: $version}}) "
    "SET n.active = true, n.activated_at = $at, n.activated_by = $by, "
    "n.approved_by = $approved_by",
)


def active_policy(runner: QueryRunner, policy_file: Path | None = None) -> Policy:
    """The active policy in the graph, else the configured file, else the default."""
    rows = runner.read(ACTIVE)
    if rows:
        return parse_policy(rows[0]["body"])
    if policy_file is not None:
        return load_policy(policy_file)
    return DEFAULT_POLICY


def get_policy(runner: QueryRunner, version: str) -> Policy | None:
    rows = runner.read(GET, version=version)
    return parse_policy(rows[0]["body"]) if rows else None


def remember(tx: Transaction, policy: Policy, at: datetime) -> None:
    """Store a policy under its version; a different body under a used version is refused."""
    body = policy.to_json()
    stored = tx.run(REMEMBER, version=policy.version, body=body, at=at)[0]["body"]
    if parse_policy(stored) != policy:
        raise PolicyError(f"policy version {policy.version!r} exists with a different body; "
                          "give the changed policy a new version")


def activate(tx: Transaction, policy: Policy, *, by: str, approved_by: str,
             at: datetime) -> None:
    remember(tx, policy, at)
    tx.run(ACTIVATE, version=policy.version, by=by, approved_by=approved_by, at=at)
