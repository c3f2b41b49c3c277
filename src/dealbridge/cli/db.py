"""``dealbridge db …``: bring the ledger's schema up to date, or say where it stands.

The database is ``--url``, else the settings (``DEALBRIDGE_DATABASE_URL``, or a SQLite file under
``DEALBRIDGE_DATA_DIR``). Passwords in URLs are never printed.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.engine import make_url

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
    reached = upgrade(target, revision)
    typer.echo(f"{_shown(target)}: at revision {reached or 'none'}")


@db_app.command("current")
def db_current(url: UrlOption = None) -> None:
    """Print the ledger's revision and whether it is the newest this version ships."""
    from dealbridge.db.migrate import current, head

    target = _url(url)
    revision, newest = current(target), head()
    state = "up to date" if revision == newest else f"behind, head is {newest}"
    typer.echo(f"{_shown(target)}: at revision {revision or 'none'} ({state})")
    if revision != newest:
        raise typer.Exit(code=1)


def _url(url: str | None) -> str:
    return url or Settings().resolved_database_url()


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
