"""Key loading and auth settings: every mistake names the setting to fix (§7)."""

from __future__ import annotations

from typing import Any

import pytest

from dealbridge.connectors.netsuite.auth import NetSuiteOAuth2Auth, build_auth
from dealbridge.connectors.netsuite.keys import load_private_key
from dealbridge.errors import ConfigError
from tests.unit.netsuite_client.conftest import BASE, oauth2_settings, pem_of


def test_private_key_missing_names_the_settings(rsa_key: Any) -> None:
    with pytest.raises(ConfigError, match=r"netsuite\.private_key or netsuite\.private_key_file"):
        load_private_key(oauth2_settings(rsa_key, private_key=None))


def test_private_key_garbage_is_named_and_not_echoed(rsa_key: Any) -> None:
    garbage = "-----BEGIN PRIVATE KEY-----\nnot-a-key-SECRETSTUFF\n-----END PRIVATE KEY-----"
    with pytest.raises(ConfigError, match=r"netsuite\.private_key ") as caught:
        load_private_key(oauth2_settings(rsa_key, private_key=garbage))
    assert "SECRETSTUFF" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_private_key_from_file(rsa_key: Any, tmp_path: Any) -> None:
    path = tmp_path / "key.pem"
    path.write_text(pem_of(rsa_key))
    settings = oauth2_settings(rsa_key, private_key=None, private_key_file=str(path))
    assert load_private_key(settings).private_numbers() == rsa_key.private_numbers()


def test_private_key_file_unreadable_is_config_error(rsa_key: Any, tmp_path: Any) -> None:
    settings = oauth2_settings(rsa_key, private_key=None)
    settings.private_key_file = str(tmp_path / "missing.pem")
    with pytest.raises(ConfigError, match="private_key_file"):
        load_private_key(settings)


def test_key_type_must_match_algorithm(ec_key: Any) -> None:
    with pytest.raises(ConfigError, match=r"jwt_algorithm PS256 needs an RSA key"):
        load_private_key(oauth2_settings(ec_key, jwt_algorithm="PS256"))


def test_oauth2_missing_client_id_is_named(rsa_key: Any) -> None:
    with pytest.raises(ConfigError, match=r"netsuite\.client_id"):
        build_auth(oauth2_settings(rsa_key, client_id=""), base_url=BASE)


def test_token_url_follows_base_url(rsa_key: Any) -> None:
    auth = build_auth(oauth2_settings(rsa_key), base_url="http://127.0.0.1:8001/services/rest/")
    assert isinstance(auth, NetSuiteOAuth2Auth)
    assert auth.token_url == "http://127.0.0.1:8001/services/rest/auth/oauth2/v1/token"
