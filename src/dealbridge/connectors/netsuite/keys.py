"""The OAuth 2.0 signing key: loaded from settings, checked against the JWT algorithm.

Why its own module: a bad key is the most common setup mistake, and the error must name the
setting to fix without ever echoing key material (contracts/netsuite.md §7.2: RSA for PS*, EC for
ES*).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from dealbridge.errors import ConfigError
from dealbridge.settings import NetSuiteSettings


def load_private_key(settings: NetSuiteSettings) -> Any:
    """The OAuth 2.0 signing key, checked against ``jwt_algorithm``.

    Raises:
        ConfigError: Naming the setting that is missing or holds something unusable.
    """
    pem = settings.private_key.get_secret_value() if settings.private_key else ""
    setting = "private_key"
    if not pem and settings.private_key_file:
        setting, pem = "private_key_file", _read_key_file(settings.private_key_file)
    if not pem.strip():
        raise ConfigError(
            "NetSuite OAuth 2.0 needs a private key: set netsuite.private_key or "
            "netsuite.private_key_file (DEALBRIDGE_NETSUITE__PRIVATE_KEY[_FILE])"
        )
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # No exception chaining: the parser's message could quote key material.
        raise ConfigError(
            f"netsuite.{setting} is not a PEM private key without a passphrase"
        ) from None
    return _check_key_type(key, settings.jwt_algorithm, setting)


def _read_key_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read netsuite.private_key_file {path}: {exc}") from exc


def _check_key_type(key: Any, algorithm: str, setting: str) -> Any:
    """PS* needs an RSA key and ES* an EC key (§7.2)."""
    wanted = rsa.RSAPrivateKey if algorithm.startswith("PS") else ec.EllipticCurvePrivateKey
    if not isinstance(key, wanted):
        kind = "RSA" if wanted is rsa.RSAPrivateKey else "EC"
        raise ConfigError(
            f"netsuite.jwt_algorithm {algorithm} needs an {kind} key in netsuite.{setting}"
        )
    return key
