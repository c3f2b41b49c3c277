"""The OAuth 2.0 signing key: loaded from settings, checked against the JWT algorithm.

Why its own module: a bad key is the most common setup mistake, and the error must name the
setting to fix without ever echoing key material (contracts/netsuite.md §7.2: RSA for PS*, EC for
ES*).

Why a cache: parsing an RSA-3072 key costs ~0.3 s of CPU (cryptography validates it), paid by
every new client. Parsed keys are kept in a small LRU keyed by a salted digest of the PEM text,
so a process that builds many clients (tests, the CLI) parses each key once, and the cache never
holds the PEM text itself. A key file is read on every load and keyed by its content, not its
path and modification time: rotating the file in place is seen at once, whatever the file
system's timestamp resolution.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from dealbridge.errors import ConfigError
from dealbridge.settings import NetSuiteSettings

_CACHED_KEYS = 16


class _ParsedKeys:
    """A thread-safe LRU of parsed private keys by PEM fingerprint.

    The fingerprint is a BLAKE2b digest keyed with a random per-process salt: it identifies a
    PEM within this process and is worthless outside it.
    """

    def __init__(self, size: int = _CACHED_KEYS) -> None:
        self.size = size
        self._salt = os.urandom(16)
        self._keys: OrderedDict[bytes, Any] = OrderedDict()
        self._lock = threading.Lock()

    def fingerprint(self, pem: str) -> bytes:
        """The salted digest the cache files ``pem`` under (surrounding whitespace ignored)."""
        return hashlib.blake2b(pem.strip().encode(), key=self._salt, digest_size=32).digest()

    def get(self, fingerprint: bytes) -> Any | None:
        """The key parsed from that PEM, or None; a hit becomes the most recently used."""
        with self._lock:
            key = self._keys.get(fingerprint)
            if key is not None:
                self._keys.move_to_end(fingerprint)
            return key

    def put(self, fingerprint: bytes, key: Any) -> None:
        """Keep ``key``, dropping the least recently used beyond ``size``."""
        with self._lock:
            self._keys[fingerprint] = key
            self._keys.move_to_end(fingerprint)
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._keys)


_PARSED_KEYS = _ParsedKeys()


def load_private_key(settings: NetSuiteSettings) -> Any:
    """The OAuth 2.0 signing key, checked against ``jwt_algorithm``.

    Raises:
        ConfigError: Naming the setting that is missing or holds something unusable.
    """
    setting, pem = _configured_pem(settings)
    return _check_key_type(_parse(pem, setting), settings.jwt_algorithm, setting)


def _configured_pem(settings: NetSuiteSettings) -> tuple[str, str]:
    """The setting that holds the key, and its PEM text (an inline key wins over a file)."""
    pem = settings.private_key.get_secret_value() if settings.private_key else ""
    setting = "private_key"
    if not pem and settings.private_key_file:
        setting, pem = "private_key_file", _read_key_file(settings.private_key_file)
    if not pem.strip():
        raise ConfigError(
            "NetSuite OAuth 2.0 needs a private key: set netsuite.private_key or "
            "netsuite.private_key_file (DEALBRIDGE_NETSUITE__PRIVATE_KEY[_FILE])"
        )
    return setting, pem


def _parse(pem: str, setting: str) -> Any:
    """The parsed key, from the cache if this PEM was parsed before; failures are not kept."""
    fingerprint = _PARSED_KEYS.fingerprint(pem)
    key = _PARSED_KEYS.get(fingerprint)
    if key is None:
        # Parsed outside the lock: two threads may both parse a new key, but neither waits
        # for the other's 0.3 s.
        key = _parse_uncached(pem, setting)
        _PARSED_KEYS.put(fingerprint, key)
    return key


def _parse_uncached(pem: str, setting: str) -> Any:
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # No exception chaining: the parser's message could quote key material.
        raise ConfigError(
            f"netsuite.{setting} is not a PEM private key without a passphrase"
        ) from None


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
