"""`fraudgraph serve` and `fraudgraph users` commands."""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the API's commands to the `fraudgraph` command line."""
    users = typer.Typer(help="Users of the API and the console.", no_args_is_help=True)
    app.add_typer(users, name="users")

    @app.command("serve")
    def serve(host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
              port: Annotated[int, typer.Option(help="Port.")] = 8000) -> None:
        """Serve the API (OpenAPI document at /docs)."""
        import uvicorn

        from api.main import create_app
        from fraudgraph.settings import get_settings

        uvicorn.run(create_app(get_settings()), host=host, port=port, access_log=False)

    @users.command("add")
    def add(username: str,
            role: Annotated[str, typer.Option(help="underwriter, investigator, analyst, admin")],
            password_stdin: Annotated[bool, typer.Option(
                help="Read the password from standard input instead of prompting.")] = False,
            ) -> None:
        """Create a user, or reset an existing user's role and password."""
        from api.roles import Role
        from api.security import add_user
        from fraudgraph.settings import get_settings
        from graph.runner import QueryRunner

        try:
            parsed = Role(role)
        except ValueError:
            raise typer.BadParameter(f"{role!r} is not one of "
                                     f"{', '.join(r.value for r in Role)}") from None
        password = (sys.stdin.readline().rstrip("\n") if password_stdin
                    else typer.prompt("password", hide_input=True, confirmation_prompt=True))
        with QueryRunner.from_settings(get_settings()) as runner:
            try:
                add_user(runner, username, password, parsed)
            except ValueError as exc:
                raise typer.BadParameter(str(exc)) from None
        typer.echo(f"user {username} ({parsed.value}) saved")
