"""The emulator's integration record: TBA keys, the OAuth 2.0 client and its certificates.

Generated once per state directory and persisted there, so a restart on the same directory keeps
every credential a client may have cached. Secrets and private keys are written owner-only (0600):
the state directory is a test fixture, but the habit matters.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from pydantic import BaseModel, ConfigDict

CREDENTIALS_FILE = "credentials.json"
_RSA_BITS = 3072  # §7.2: NetSuite takes RSA 3072/4096 or EC P-256/384/521 certificates


class TbaCredentials(BaseModel):
    """One consumer (integration record) and one access token (§7.1)."""

    model_config = ConfigDict(frozen=True)

    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


class ClientCertificate(BaseModel):
    """A certificate uploaded for the OAuth 2.0 client; ``certificate_id`` is the JWT ``kid``."""

    model_config = ConfigDict(frozen=True)

    certificate_id: str
    algorithm: str
    private_key_pem: str


class Credentials(BaseModel):
    """Everything a client needs to authenticate, as persisted in ``credentials.json``."""

    model_config = ConfigDict(frozen=True)

    tba: TbaCredentials
    client_id: str
    certificates: tuple[ClientCertificate, ...]

    def certificate_for(self, algorithm: str) -> ClientCertificate:
        """The certificate whose key signs with ``algorithm`` (PS256 or ES256)."""
        return next(cert for cert in self.certificates if cert.algorithm == algorithm)

    def public_keys(self) -> dict[str, PublicKeyTypes]:
        """``kid`` → public key, for verifying client assertions."""
        return {
            cert.certificate_id: _load_public_key(cert.private_key_pem)
            for cert in self.certificates
        }


def load_or_create_credentials(state_dir: Path) -> Credentials:
    """Read the credentials of ``state_dir``, generating them on first use."""
    path = state_dir / CREDENTIALS_FILE
    if path.exists():
        return Credentials.model_validate_json(path.read_text(encoding="utf-8"))
    state_dir.mkdir(parents=True, exist_ok=True)
    credentials = _generate(state_dir)
    _write_private(path, json.dumps(credentials.model_dump(mode="json"), indent=2).encode())
    return credentials


def _generate(state_dir: Path) -> Credentials:
    # NetSuite shows consumer keys and token ids as 64 hex digits; certificate ids are
    # URL-safe strings. The format matters only in that clients must not assume more.
    tba = TbaCredentials(
        consumer_key=secrets.token_hex(32),
        consumer_secret=secrets.token_hex(32),
        token_id=secrets.token_hex(32),
        token_secret=secrets.token_hex(32),
    )
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    return Credentials(
        tba=tba,
        client_id=secrets.token_hex(32),
        certificates=(
            _certificate(state_dir / "oauth2_ps256.pem", rsa_key, "PS256"),
            _certificate(state_dir / "oauth2_es256.pem", ec_key, "ES256"),
        ),
    )


def _certificate(
    path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, algorithm: str
) -> ClientCertificate:
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    _write_private(path, pem)
    return ClientCertificate(
        certificate_id=secrets.token_urlsafe(32), algorithm=algorithm, private_key_pem=str(path)
    )


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` owner-read/write only, from the first byte (no chmod-after window)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _load_public_key(pem_path: str) -> PublicKeyTypes:
    private: PrivateKeyTypes = serialization.load_pem_private_key(
        Path(pem_path).read_bytes(), password=None
    )
    return private.public_key()
