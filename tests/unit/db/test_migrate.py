"""Migrations run from the installed package, without alembic.ini, and from the repo's ini."""

from __future__ import annotations

import configparser
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import dealbridge
from dealbridge.db.migrate import (
    SCRIPT_LOCATION,
    VERSION_TABLE,
    alembic_config,
    current,
    head,
    upgrade,
)
from dealbridge.db.models import Base
from dealbridge.db.session import make_engine

REPO = Path(__file__).resolve().parents[3]


def test_empty_database_has_no_revision(tmp_path: Path) -> None:
    assert current(f"sqlite:///{tmp_path / 'empty.sqlite3'}") is None


def test_upgrade_to_head_creates_every_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    assert upgrade(url) == head() == "0004"
    assert current(url) == "0004"
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert tables == set(Base.metadata.tables) | {VERSION_TABLE}


def test_upgrade_twice_is_a_no_op(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    upgrade(url)
    assert upgrade(url) == "0004"


def test_upgrade_to_base_is_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    assert upgrade(url, "base") is None


def test_script_location_is_inside_the_package() -> None:
    package = Path(dealbridge.__file__).resolve().parent
    assert SCRIPT_LOCATION == package / "db" / "migrations"
    assert (SCRIPT_LOCATION / "env.py").is_file()
    assert alembic_config().get_main_option("script_location") == str(SCRIPT_LOCATION)


def test_alembic_ini_points_at_the_same_migrations() -> None:
    ini = configparser.ConfigParser()
    ini.read(REPO / "alembic.ini")
    assert (REPO / ini["alembic"]["script_location"]).resolve() == SCRIPT_LOCATION
    config = Config(str(REPO / "alembic.ini"))
    config.set_main_option("script_location", str(REPO / ini["alembic"]["script_location"]))
    assert ScriptDirectory.from_config(config).get_current_head() == head()


def test_history_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert [rev.revision for rev in script.walk_revisions()][-1] == "0001"
