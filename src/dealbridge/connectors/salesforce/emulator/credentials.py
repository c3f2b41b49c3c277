"""The emulated org's identity and its External Client App: ids, keys and the JWT certificate.

Generated once per state directory and persisted there, so a restart on the same directory keeps
every credential a client may have cached. For the JWT bearer flow an admin uploads a
certificate to the app and keeps the private key (contracts §2); here both are generated — the
key as a PEM file only its owner can read (0600), the certificate beside it — and the emulator
verifies assertions with the certificate's public key. One app serves both flows, as in a real
org: its consumer key is the JWT ``iss`` and the client-credentials ``client_id``.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import string
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pydantic import BaseModel, ConfigDict

from dealbridge.connectors.salesforce.models import to_id18

CREDENTIALS_FILE = "credentials.json"
PRIVATE_KEY_FILE = "jwt_private_key.pem"
CERTIFICATE_FILE = "jwt_certificate.pem"
USERNAME = "integration@dealbridge.example"
_RSA_BITS = 2048  # what Salesforce's JWT guide generates
_ALNUM = string.ascii_letters + string.digits


class OrgCredentials(BaseModel):
    """Everything persisted in ``credentials.json``.

    Attributes:
        org_id: 18-character ``00D…`` organization id.
        user_id: 18-character ``005…`` id of the integration user.
        username: The integration user's username: the JWT ``sub``.
        consumer_key: The app's consumer key: JWT ``iss`` and client-credentials ``client_id``.
        client_secret: The app's consumer secret (client credentials).
        private_key: Path of the app's RSA private key (PEM, PKCS#8).
        certificate: Path of the certificate uploaded to the app (PEM).
    """

    model_config = ConfigDict(frozen=True)

    org_id: str
    user_id: str
    username: str
    consumer_key: str
    client_secret: str
    private_key: str
    certificate: str

    def public_key(self) -> rsa.RSAPublicKey:
        """The key JWT assertions must be signed with, from the uploaded certificate."""
        cert = x509.load_pem_x509_certificate(Path(self.certificate).read_bytes())
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):  # pragma: no cover - we generate RSA
            raise TypeError("the JWT certificate must hold an RSA key")
        return key


def load_or_create_credentials(state_dir: Path) -> OrgCredentials:
    """Read the credentials of ``state_dir``, generating them on first use."""
    path = state_dir / CREDENTIALS_FILE
    if path.exists():
        return OrgCredentials.model_validate_json(path.read_text(encoding="utf-8"))
    state_dir.mkdir(parents=True, exist_ok=True)
    credentials = _generate(state_dir)
    write_private(path, credentials.model_dump_json(indent=2).encode())
    return credentials


def _generate(state_dir: Path) -> OrgCredentials:
    key = rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS)
    key_path = state_dir / PRIVATE_KEY_FILE
    cert_path = state_dir / CERTIFICATE_FILE
    write_private(key_path, private_pem(key))
    cert_path.write_bytes(_self_signed(key).public_bytes(serialization.Encoding.PEM))
    return OrgCredentials(
        org_id=_record_id("00D"),
        user_id=_record_id("005"),
        username=USERNAME,
        # Salesforce consumer keys start "3MVG9" and run to 85 characters of [A-Za-z0-9._].
        consumer_key="3MVG9" + _random(80),
        client_secret=secrets.token_hex(32).upper(),
        private_key=str(key_path),
        certificate=str(cert_path),
    )


def _record_id(prefix: str) -> str:
    return to_id18(prefix + "Dm" + _random(10))


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    """PKCS#8 PEM without a passphrase (what simple-salesforce's ``privatekey_file`` reads)."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def _self_signed(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dealbridge JWT bearer")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` owner-read/write only, from the first byte (no chmod-after window)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
