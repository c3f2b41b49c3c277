"""Key loading and auth settings: every mistake names the setting to fix (§7)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest.mock import patch

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from dealbridge.connectors.netsuite import keys
from dealbridge.connectors.netsuite.auth import NetSuiteOAuth2Auth, build_auth
from dealbridge.connectors.netsuite.keys import load_private_key
from dealbridge.errors import ConfigError
from tests.unit.netsuite_client.conftest import BASE, oauth2_settings, pem_of

load_pem = serialization.load_pem_private_key


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


# -- the parsed-key cache --------------------------------------------------------------------------


def test_a_key_is_parsed_once_per_process(tmp_path: Any) -> None:
    new_key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "key.pem"
    path.write_text(pem_of(new_key))
    inline = oauth2_settings(new_key, jwt_algorithm="ES256")
    from_file = oauth2_settings(new_key, jwt_algorithm="ES256", private_key=None)
    from_file.private_key_file = str(path)
    with patch.object(serialization, "load_pem_private_key", wraps=load_pem) as parse:
        first = load_private_key(inline)
        assert load_private_key(inline) is first
        assert load_private_key(from_file) is first  # same PEM text, wherever it came from
    assert parse.call_count == 1


def test_a_key_file_rewritten_in_place_is_parsed_again(tmp_path: Any) -> None:
    old, new = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    path = tmp_path / "key.pem"
    settings = oauth2_settings(old, jwt_algorithm="ES256", private_key=None)
    settings.private_key_file = str(path)
    path.write_text(pem_of(old))
    assert load_private_key(settings).private_numbers() == old.private_numbers()
    path.write_text(pem_of(new))  # possibly within the same mtime tick
    assert load_private_key(settings).private_numbers() == new.private_numbers()


def test_a_cached_key_is_still_checked_against_the_algorithm(ec_key: Any) -> None:
    load_private_key(oauth2_settings(ec_key, jwt_algorithm="ES256"))
    with pytest.raises(ConfigError, match=r"jwt_algorithm PS256 needs an RSA key"):
        load_private_key(oauth2_settings(ec_key, jwt_algorithm="PS256"))


def test_garbage_is_refused_every_time_and_never_cached(rsa_key: Any) -> None:
    garbage = "-----BEGIN PRIVATE KEY-----\nnot-a-key-SECRETSTUFF\n-----END PRIVATE KEY-----"
    for _ in range(2):
        with pytest.raises(ConfigError, match=r"netsuite\.private_key "):
            load_private_key(oauth2_settings(rsa_key, private_key=garbage))
    assert keys._PARSED_KEYS.get(keys._PARSED_KEYS.fingerprint(garbage)) is None


def test_the_cache_keeps_the_most_recently_used_and_no_pem_text(ec_key: Any) -> None:
    cache = keys._ParsedKeys(size=2)
    pem = pem_of(ec_key)
    prints = [cache.fingerprint(pem), cache.fingerprint(pem + "x"), cache.fingerprint("x")]
    assert prints[0] == cache.fingerprint(pem.strip()) != prints[1]
    assert keys._ParsedKeys().fingerprint(pem) != prints[0]  # salted per cache
    cache.put(prints[0], "key 0")
    cache.put(prints[1], "key 1")
    assert cache.get(prints[0]) == "key 0"  # now the most recently used
    cache.put(prints[2], "key 2")
    assert (cache.get(prints[1]), len(cache)) == (None, 2)
    assert {len(fingerprint) for fingerprint in cache._keys} == {32}  # digests, not PEM text


def test_concurrent_loads_agree(ec_key: Any) -> None:
    settings = oauth2_settings(ec_key, jwt_algorithm="ES256")
    with ThreadPoolExecutor(max_workers=8) as pool:
        loaded = list(pool.map(lambda _: load_private_key(settings), range(32)))
    assert {key.private_numbers() for key in loaded} == {ec_key.private_numbers()}
