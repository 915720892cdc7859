"""`fraudgraph` commands of the lifecycle package: decisions, servicing, cases, watchlist,
four-eyes approvals, portfolio figures and the replay measurement."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
servicing_app = typer.Typer(help="Loan servicing: stages and collection.", no_args_is_help=True)
cases_app = typer.Typer(help="Review cases.", no_args_is_help=True)
watchlist_app = typer.Typer(help="The watchlist (blacklist).", no_args_is_help=True)
approvals_app = typer.Typer(help="Four-eyes approvals.", no_args_is_help=True)
policy_app = typer.Typer(help="The decision policy.", no_args_is_help=True)


@contextmanager
def _context(with_scorers: bool = True):  # type: ignore[no-untyped-def]
    from fraudgraph.settings import get_settings
    from graph.privacy import Pseudonymiser
    from graph.runner import QueryRunner
    from lifecycle.context import Lifecycle
    from lifecycle.scorers import default_scorers

    settings = get_settings()
    pseudo = Pseudonymiser(settings.hash_key.get_secret_value(),
                           settings.encryption_key.get_secret_value())
    with QueryRunner.from_settings(settings) as runner:
        yield Lifecycle(runner=runner, pseudo=pseudo,
                        scorers=default_scorers(settings) if with_scorers else [],
                        policy_file=settings.lifecycle_policy_path,
                        sla_working_days=settings.lifecycle_sla_working_days)


def _print(data: Any) -> None:
    console.print_json(json.dumps(data, default=str, ensure_ascii=False))


def _guard(fn):  # type: ignore[no-untyped-def]
    """Turn lifecycle errors into a one-line message and exit status 1."""
    from functools import wraps

    @wraps(fn)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        from lifecycle.errors import LifecycleError

        try:
            return fn(*args, **kwargs)
        except LifecycleError as exc:
            console.print(f"[red]error:[/red] {type(exc).__name__}: {exc}", highlight=False)
            raise typer.Exit(1) from None
    return wrapper


def decide_cmd(
    row_file: Annotated[Path, typer.Argument(help="JSON object: one applications row.")],
    actor: Annotated[str, typer.Option(help="Who submits.")] = "system:origination",
) -> None:
    """Submit one application (contract fields) and print its decision."""
    from lifecycle.decision import submit_application

    row = json.loads(row_file.read_text(encoding="utf-8"))
    with _context() as ctx:
        d = submit_application(ctx, {k: None if v is None else str(v) for k, v in row.items()},
                               actor=actor)
    _print(d.model_dump(mode="json", exclude={"signals"}))


@servicing_app.command("run")
@_guard
def servicing_run(
    as_of: Annotated[str, typer.Option("--as-of", help="Servicing date, YYYY-MM-DD.")],
) -> None:
    """Move every active loan to its stage on --as-of (idempotent)."""
    from lifecycle.servicing import run_servicing

    with _context(with_scorers=False) as ctx:
        report = run_servicing(ctx, date.fromisoformat(as_of))
    _print(report.model_dump(mode="json"))


@servicing_app.command("queue")
@_guard
def servicing_queue(limit: Annotated[int, typer.Option(min=1)] = 50) -> None:
    """The collection queue, by graph risk as well as amount."""
    from lifecycle.collection_graph import collection_queue

    with _context(with_scorers=False) as ctx:
        _print([q.model_dump() for q in collection_queue(ctx.runner, limit)])


@cases_app.command("sla")
@_guard
def cases_sla(now: Annotated[str | None, typer.Option(help="ISO datetime; default now.")]
              = None) -> None:
    """Update warning / breach / escalation of every live case."""
    from lifecycle.cases import sla_sweep
    from lifecycle.clock import SHANGHAI

    with _context(with_scorers=False) as ctx:
        when = datetime.fromisoformat(now) if now else None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=SHANGHAI)
        _print(sla_sweep(ctx, when).model_dump())


@cases_app.command("queue")
@_guard
def cases_queue() -> None:
    """Live review cases, riskiest first."""
    from lifecycle.cases import queue

    with _context(with_scorers=False) as ctx:
        _print(queue(ctx.runner))


@cases_app.command("human-review")
@_guard
def cases_human_review(application_id: str, reason: Annotated[str, typer.Option()],
                       by: Annotated[str, typer.Option()]) -> None:
    """PIPL Art. 24: open a human review of an automatic decline."""
    from lifecycle.cases import request_human_review

    with _context(with_scorers=False) as ctx:
        console.print(request_human_review(ctx, application_id, requested_by=by,
                                           reason=reason))


@watchlist_app.command("add")
@_guard
def watchlist_add(kind: str, value: str, reason: Annotated[str, typer.Option()],
                  by: Annotated[str, typer.Option(help="The maker.")]) -> None:
    """Request a watchlist entry (id_number, phone, device, bank_account); a second person
    approves it with `fraudgraph approvals approve`."""
    from lifecycle.watchlist import request_add

    with _context(with_scorers=False) as ctx:
        approval = request_add(ctx, kind, value, reason=reason, requested_by=by)
    console.print(f"pending approval {approval.approval_id} "
                  f"({approval.params['masked']}); a different person must approve it")


@watchlist_app.command("list")
@_guard
def watchlist_list(all_: Annotated[bool, typer.Option("--all")] = False) -> None:
    """Watchlist entries (masked)."""
    from lifecycle.watchlist import entries

    with _context(with_scorers=False) as ctx:
        _print([e.model_dump(mode="json") for e in entries(ctx.runner, all_)])


@approvals_app.command("list")
@_guard
def approvals_list() -> None:
    """Pending four-eyes requests."""
    from lifecycle.approvals import pending

    with _context(with_scorers=False) as ctx:
        _print([a.model_dump(mode="json", exclude={"params"}) for a in pending(ctx.runner)])


@approvals_app.command("request")
@_guard
def approvals_request(action: str, reason: Annotated[str, typer.Option()],
                      by: Annotated[str, typer.Option(help="The maker.")],
                      param: Annotated[list[str] | None, typer.Option(
                          help="key=value, repeatable (e.g. version=v3).")] = None) -> None:
    """Open a four-eyes request (e.g. promote_model --param version=V); another person
    approves it."""
    from lifecycle.approvals import request
    from lifecycle.errors import InvalidInput

    params: dict[str, str] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput("param", f"{item!r} is not key=value")
        params[key] = value
    with _context(with_scorers=False) as ctx:
        made = request(ctx.runner, action, params, requested_by=by, reason=reason,
                       at=ctx.clock())
    _print(made.model_dump(mode="json"))


@approvals_app.command("approve")
@_guard
def approvals_approve(approval_id: str, by: Annotated[str, typer.Option()]) -> None:
    """Approve a request (the checker must not be the maker)."""
    from lifecycle.approvals import approve

    with _context(with_scorers=False) as ctx:
        _print(approve(ctx, approval_id, by).model_dump(mode="json", exclude={"params"}))


@approvals_app.command("reject")
@_guard
def approvals_reject(approval_id: str, by: Annotated[str, typer.Option()]) -> None:
    """Reject a request."""
    from lifecycle.approvals import reject

    with _context(with_scorers=False) as ctx:
        result = reject(ctx.runner, approval_id, by, ctx.clock())
    _print(result.model_dump(mode="json", exclude={"params"}))


@policy_app.command("show")
@_guard
def policy_show() -> None:
    """The active decision policy (graph, else FRAUDGRAPH_POLICY_PATH, else default)."""
    from lifecycle.policy_store import active_policy

    with _context(with_scorers=False) as ctx:
        _print(active_policy(ctx.runner, ctx.policy_file).model_dump(mode="json"))


@policy_app.command("propose")
@_guard
def policy_propose(policy_file: Path, reason: Annotated[str, typer.Option()],
                   by: Annotated[str, typer.Option(help="The maker.")]) -> None:
    """Propose a new policy version (JSON); a second person approves it."""
    from lifecycle.approvals import Action, request
    from lifecycle.policy import load_policy

    policy = load_policy(policy_file)
    with _context(with_scorers=False) as ctx:
        approval = request(ctx.runner, Action.CHANGE_POLICY,
                           {"policy": policy.model_dump(mode="json")}, requested_by=by,
                           reason=reason, at=ctx.clock())
    console.print(f"pending approval {approval.approval_id} for policy {policy.version}")


def portfolio_cmd() -> None:
    """Funnel, tier mix, rates by dealer and agent, delinquency, cut by ring risk."""
    from lifecycle.portfolio import portfolio_figures

    with _context(with_scorers=False) as ctx:
        figures = portfolio_figures(ctx.runner)
    _print(figures.model_dump())


def replay_cmd(
    export: Annotated[Path | None, typer.Option(help="A generated CSV export with truth/; "
                                                      "generated when absent.")] = None,
    applications: Annotated[int, typer.Option(min=100)] = 10_000,
    seed: Annotated[int, typer.Option()] = 7,
    preload: Annotated[float, typer.Option(help="Share loaded first, by time.")] = 0.5,
    limit: Annotated[int | None, typer.Option(help="Submit at most this many.")] = None,
    work_dir: Annotated[Path, typer.Option()] = Path("var/replay"),
    wipe: Annotated[bool, typer.Option(help="Empty a database that holds data first.")]
    = False,
    scorers: Annotated[bool, typer.Option(help="Use the ring and GNN scorers.")] = True,
    review: Annotated[bool, typer.Option(help="Close tier-B cases with the truth's "
                                              "disposition, feeding labels back.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write the JSON report here.")] = None,
) -> None:
    """Replay a generated portfolio in time order through the decision path and measure
    it. Writes into the configured database: point it at a scratch Neo4j."""
    from lifecycle.replay import replay

    if export is None:
        from synthetic import generate_portfolio

        export = work_dir / f"export-{applications}-{seed}"
        if not (export / "truth" / "applications.csv").exists():
            generate_portfolio(export, applications=applications, seed=seed)
    with _context(with_scorers=scorers) as ctx:
        result = replay(ctx.runner, ctx.pseudo, export, work_dir, preload=preload,
                        scorers=ctx.scorers, wipe=wipe, policy_file=ctx.policy_file,
                        limit=limit, review=review)
    data = result.model_dump(mode="json")
    if report:
        report.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    data["rings"] = f"{len(result.rings)} rings (in --report)"
    _print(data)


def register(app: typer.Typer) -> None:
    """Add this package's commands to the `fraudgraph` command line."""
    app.add_typer(servicing_app, name="servicing")
    app.add_typer(cases_app, name="cases")
    app.add_typer(watchlist_app, name="watchlist")
    app.add_typer(approvals_app, name="approvals")
    app.add_typer(policy_app, name="policy")
    app.command("decide")(_guard(decide_cmd))
    app.command("portfolio")(_guard(portfolio_cmd))
    app.command("replay")(_guard(replay_cmd))
