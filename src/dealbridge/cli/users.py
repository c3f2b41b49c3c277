"""``dealbridge users …`` and ``dealbridge tokens …``: console logins and API tokens.

Passwords are read from a hidden prompt (asked twice) or, for scripts, from standard input with
``--password-stdin``; never from an argument, which would land in shell history and ``ps``.
A token's value is printed once, at creation, and only its hash is stored. Each change is in the
audit log with the actor ``cli:<os user>``. The ledger is brought up to date first, so these
work on a fresh install.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from dealbridge.errors import DealbridgeError
from dealbridge.settings import Settings

users_app = typer.Typer(help="Manage console users.", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


class Role(StrEnum):
    """The roles, strongest first."""

    admin = "admin"
    operator = "operator"
    viewer = "viewer"


UrlOption = Annotated[
    str | None,
    typer.Option(help="SQLAlchemy URL of the ledger (default: from settings).", show_default=False),
]
RoleOption = Annotated[Role, typer.Option("--role", help="admin, operator or viewer.")]


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: RoleOption,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    url: UrlOption = None,
) -> None:
    """Add a console user (the password is asked twice, hidden)."""
    from dealbridge.web.security.accounts import add_user
    from dealbridge.web.security.passwords import Passwords

    password = _read_password(password_stdin)
    with _ledger(url) as session:
        add_user(
            session,
            username=username,
            password=password,
            role=role.value,
            actor=_actor(),
            passwords=Passwords(),
        )
    typer.echo(f"added {username} ({role.value})")


@users_app.command("list")
def users_list(url: UrlOption = None) -> None:
    """List users with their role and state."""
    from dealbridge.db.users import is_locked, list_users

    table = Table("username", "role", "state", "last login")
    with _ledger(url) as session:
        for user in list_users(session):
            state = "disabled" if user.disabled else "locked" if is_locked(user) else "active"
            table.add_row(user.username, user.role, state, _when(user.last_login_at))
    Console().print(table)


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="Login name.")], url: UrlOption = None
) -> None:
    """Stop a user from signing in (their sessions end at their next request)."""
    from dealbridge.web.security.accounts import disable_user

    with _ledger(url) as session:
        disable_user(session, username, actor=_actor())
    typer.echo(f"disabled {username}")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'ci-dashboard'.")],
    role: RoleOption,
    url: UrlOption = None,
) -> None:
    """Create an API token and print it once; only its hash is kept."""
    from dealbridge.web.security.tokens import issue_token

    with _ledger(url) as session:
        issued = issue_token(session, name=name, role=role.value, actor=_actor())
        token_id = issued.row.id
    typer.echo(f"token {token_id} ({name}, {role.value}); it is shown only now, store it safely:")
    typer.echo(issued.value)


@tokens_app.command("list")
def tokens_list(
    show_all: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    url: UrlOption = None,
) -> None:
    """List API tokens (never their values)."""
    from dealbridge.db.users import list_tokens

    table = Table("id", "name", "role", "created by", "created", "last used", "revoked")
    with _ledger(url) as session:
        for token in list_tokens(session, include_revoked=show_all):
            table.add_row(
                str(token.id),
                token.name,
                token.role,
                token.created_by,
                _when(token.created_at),
                _when(token.last_used_at),
                _when(token.revoked_at),
            )
    Console().print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `tokens list`).")],
    url: UrlOption = None,
) -> None:
    """Revoke an API token; requests bearing it are refused from now on."""
    from dealbridge.web.security.tokens import revoke_token

    with _ledger(url) as session:
        revoke_token(session, token_id, actor=_actor())
    typer.echo(f"revoked token {token_id}")


@contextmanager
def _ledger(url: str | None) -> Iterator[Session]:
    """A migrated ledger session; a dealbridge error becomes a one-line message and exit 1."""
    from dealbridge.db.migrate import upgrade
    from dealbridge.db.session import make_engine, make_session_factory, session_scope

    target = url or Settings().resolved_database_url()
    try:
        upgrade(target)
        engine = make_engine(target)
        try:
            with session_scope(make_session_factory(engine)) as session:
                yield session
        finally:
            engine.dispose()
    except DealbridgeError as exc:
        typer.echo(f"error: {exc.user_message}", err=True)
        raise typer.Exit(code=1) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in this environment (some containers)
        return "cli"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"
