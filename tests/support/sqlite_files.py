"""What a SQLite database file itself holds, its write-ahead log ignored."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def rows_in_database_file(path: Path, table: str) -> int:
    """Rows of ``table`` in the file, not the log: what checkpoints have copied so far."""
    reader = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        return int(reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608 - a test's own table name
    finally:
        reader.close()
