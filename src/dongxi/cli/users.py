"""CLI commands ``dongxi user …`` and ``dongxi token …``: accounts of the service.

The command line acts as the local operator (the operating-system user, role admin). Passwords
are read from a prompt (not echoed) or from standard input with ``--password-stdin``; they never
appear in arguments, logs or output. ``dongxi token create`` prints one bearer token on stdout and
nothing else.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dongxi.cli._present import console

__all__ = ["register"]


UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (one line)."),
]

user_app = typer.Typer(
    name="user", help="Users of the service (dongxi serve).", no_args_is_help=True
)
token_app = typer.Typer(name="token", help="Bearer tokens for the API.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("password", hide_input=True)
    again = typer.prompt("password (again)", hide_input=True)
    if first != again:
        from dongxi.errors import InputError

        raise InputError(
            "The two passwords differ.", rule="password_confirm", fix="Type the same one twice."
        )
    return str(first)


@user_app.command("add")
def add_command(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, . - _).")],
    role: Annotated[str, typer.Option(help="admin, village_officer … auditor (docs/service.md).")],
    region: Annotated[
        str | None, typer.Option(help="Division code of the user's scope (officers).")
    ] = None,
    partner: Annotated[str | None, typer.Option(help="Partner code (east partners).")] = None,
    password_stdin: PasswordStdin = False,
    url: UrlOption = None,
) -> None:
    """Create a user with a role and a scope."""
    from dongxi.services import accounts
    from dongxi.services.principal import Principal

    password = _password(password_stdin)
    with accounts.registry_session(url) as session:
        view = accounts.add_user(
            session,
            Principal.local_operator(),
            username=username,
            password=password,
            role=role,
            region=region,
            partner=partner,
        )
    scope = view.region_prefix or view.partner_code or "everything"
    console().print(f"user {view.username} added: role {view.role}, scope {scope}")


@user_app.command("list")
def list_command(url: UrlOption = None) -> None:
    """List users with role, scope and state."""
    from rich.table import Table

    from dongxi.services import accounts
    from dongxi.services.principal import Principal

    with accounts.registry_session(url) as session:
        users = accounts.list_users(session, Principal.local_operator())
    table = Table(title="users")
    for column in ("user", "role", "region", "partner", "state"):
        table.add_column(column)
    for u in users:
        state = "disabled" if u.disabled else ("locked" if u.locked_until else "active")
        table.add_row(u.username, u.role, u.region_prefix or "", u.partner_code or "", state)
    console().print(table)


@user_app.command("disable")
def disable_command(
    username: Annotated[str, typer.Argument(help="The user to disable.")], url: UrlOption = None
) -> None:
    """Disable a user: no login; tokens revoked; open sessions stop working."""
    from dongxi.services import accounts
    from dongxi.services.principal import Principal

    with accounts.registry_session(url) as session:
        accounts.disable_user(session, Principal.local_operator(), username=username)
    console().print(f"user {username} disabled")


@user_app.command("reset-password")
def reset_command(
    username: Annotated[str, typer.Argument(help="The user.")],
    password_stdin: PasswordStdin = False,
    url: UrlOption = None,
) -> None:
    """Set a new password (also lifts a lock-out)."""
    from dongxi.services import accounts
    from dongxi.services.principal import Principal

    password = _password(password_stdin)
    with accounts.registry_session(url) as session:
        accounts.reset_password(
            session, Principal.local_operator(), username=username, password=password
        )
    console().print(f"password of {username} reset")


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
    url: UrlOption = None,
) -> None:
    """Print one new bearer token on stdout (nothing else; only its hash is stored)."""
    from dongxi.services import accounts
    from dongxi.services.principal import Principal

    with accounts.registry_session(url) as session:
        token = accounts.create_token(
            session, Principal.local_operator(), username=username, label=label
        )
    sys.stdout.write(token + "\n")


@token_app.command("revoke")
def token_revoke(
    username: Annotated[str, typer.Argument(help="Whose tokens.")],
    prefix: Annotated[
        str | None, typer.Option(help="Only the token whose hash starts with this (hex).")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Revoke a user's tokens (all of them unless --prefix)."""
    from dongxi.services import accounts
    from dongxi.services.principal import Principal

    with accounts.registry_session(url) as session:
        n = accounts.revoke_tokens(
            session, Principal.local_operator(), username=username, prefix=prefix
        )
    console().print(f"{n} token(s) of {username} revoked")


def register(app: typer.Typer) -> None:
    """Add the account commands to the main app."""
    app.add_typer(user_app)
    app.add_typer(token_app)
