"""Alembic migrations of the ledger; run them with ``dealbridge.db.migrate.upgrade``."""
