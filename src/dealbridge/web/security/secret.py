"""The key that signs session cookies: from settings, or generated once and kept under data_dir.

Why generate it: a fresh install should be secure without a step someone can forget, and a key
that changed at every restart would sign everyone out. The file is created with mode 0600 in one
``O_CREAT | O_EXCL`` call, so two processes starting together agree on one key and no other user
of the machine can read it. The key is never logged; callers get bytes, not a printable setting.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dealbridge.errors import ConfigError
from dealbridge.settings import Settings

SECRET_FILE_NAME = "session_secret"  # noqa: S105 - a file name, not a secret
MIN_SECRET_LENGTH = 32


def session_secret(settings: Settings) -> bytes:
    """The signing key: ``web.session_secret`` if set, else the one stored under ``data_dir``."""
    configured = settings.web.session_secret
    if configured is not None and configured.get_secret_value():
        value = configured.get_secret_value()
        if len(value) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"web.session_secret must have at least {MIN_SECRET_LENGTH} characters"
            )
        return value.encode("utf-8")
    return stored_secret(Path(settings.data_dir) / SECRET_FILE_NAME)


def stored_secret(path: Path) -> bytes:
    """Read the key at ``path``, creating it (0600) on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_existing(path)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(48))
    return _read_existing(path)


def _read_existing(path: Path) -> bytes:
    """The stored key; a file others can read is tightened first (it may predate us)."""
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < MIN_SECRET_LENGTH:
        raise ConfigError(f"the session secret file {path} is empty or too short; delete it")
    return value.encode("utf-8")
