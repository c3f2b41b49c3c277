"""``dealbridge db …``: bring the ledger's schema up to date, or say where it stands.

The database is ``--url``, else the settings (``DEALBRIDGE_DATABASE_URL``, or a SQLite file under
``DEALBRIDGE_DATA_DIR``). Passwords in URLs are never printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from dealbridge.settings import Settings

db_app = typer.Typer(help="Manage the ledger database.", no_args_is_help=True)

UrlOption = Annotated[
    str | None,
    typer.Option(help="SQLAlchemy URL of the ledger (default: from settings).", show_default=False),
]


@db_app.command("upgrade")
def db_upgrade(
    url: UrlOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply pending migrations (safe to run from several processes at once)."""
    from dealbridge.db.migrate import upgrade

    target = _url(url)
    with _reporting(target):
        reached = upgrade(target, revision)
    typer.echo(f"{_shown(target)}: at revision {reached or 'none'}")


@db_app.command("current")
def db_current(url: UrlOption = None) -> None:
    """Print the ledger's revision and whether it is the newest this version ships."""
    from dealbridge.db.migrate import current, head

    target = _url(url)
    with _reporting(target):
        revision, newest = current(target), head()
    state = "up to date" if revision == newest else f"behind, head is {newest}"
    typer.echo(f"{_shown(target)}: at revision {revision or 'none'} ({state})")
    if revision != newest:
        raise typer.Exit(code=1)


def _url(url: str | None) -> str:
    return url or Settings().resolved_database_url()


@contextmanager
def _reporting(url: str) -> Iterator[None]:
    """A database failure as one line naming the database (no traceback, no password)."""
    try:
        yield
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        typer.echo(f"{_shown(url)}: {type(reason).__name__}: {reason}".rstrip(), err=True)
        raise typer.Exit(code=2) from None


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
