import stat
from pathlib import Path

import pytest

from dealbridge.errors import ConfigError
from dealbridge.settings import Settings
from dealbridge.web.security.secret import SECRET_FILE_NAME, session_secret


def test_generated_once_with_private_permissions(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = session_secret(settings)
    path = tmp_path / "data" / SECRET_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 48
    assert session_secret(settings) == first


def test_configured_secret_wins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, web={"session_secret": "s" * 40})
    assert session_secret(settings) == b"s" * 40
    assert not (tmp_path / SECRET_FILE_NAME).exists()


def test_secret_file_setting(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("f" * 40 + "\n")
    settings = Settings(data_dir=tmp_path, web={"session_secret_file": str(tmp_path / "key")})
    assert session_secret(settings) == b"f" * 40


def test_short_configured_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        session_secret(Settings(data_dir=tmp_path, web={"session_secret": "short"}))


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / SECRET_FILE_NAME
    path.write_text("z" * 64)
    path.chmod(0o644)
    assert session_secret(Settings(data_dir=tmp_path)) == b"z" * 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE_NAME).write_text("")
    with pytest.raises(ConfigError, match="too short"):
        session_secret(Settings(data_dir=tmp_path))


def test_secret_never_in_settings_repr(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, web={"session_secret": "s3cr3t" * 8})
    assert "s3cr3t" not in repr(settings)
    assert "s3cr3t" not in str(settings.model_dump())
