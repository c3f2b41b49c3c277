"""Alembic environment of the ledger.

Three ways in: ``dealbridge.db.migrate`` passes an open connection (inside its locked
transaction) in ``config.attributes["connection"]``; ``alembic -c alembic.ini upgrade head`` from
the repository gives a URL (``-x url=…``, ``sqlalchemy.url``, or the ``DEALBRIDGE_*`` settings);
``--sql`` renders the SQL offline.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from dealbridge.db.migrate import VERSION_TABLE, lock_for_migrations
from dealbridge.db.models import Base
from dealbridge.db.session import make_engine, normalise_url
from dealbridge.settings import Settings

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    """The database to migrate when no connection was handed over."""
    url = context.get_x_argument(as_dictionary=True).get("url")
    url = url or config.get_main_option("sqlalchemy.url") or Settings().resolved_database_url()
    return normalise_url(url).render_as_string(hide_password=False)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by rebuilding
        compare_type=True,
    )


def run_offline() -> None:
    """Print the SQL instead of running it (``alembic upgrade head --sql``)."""
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate on the given connection, or on a new one holding the migration lock."""
    given = config.attributes.get("connection")
    if given is not None:
        _configure(given)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url(), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            lock_for_migrations(connection)
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_offline()
else:
    run_online()
