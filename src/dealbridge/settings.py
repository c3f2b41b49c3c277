"""Configuration, read from ``DEALBRIDGE_*`` environment variables and secret files.

Nested groups use a double underscore: ``DEALBRIDGE_NETSUITE__ACCOUNT=1234567_SB1``. Every secret is
a ``SecretStr`` so it never shows in a repr, a log line or an error; a secret may also be given as a
path in the matching ``*_FILE`` variable (e.g. ``DEALBRIDGE_NETSUITE__TOKEN_SECRET_FILE``), which is
how container platforms mount them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dealbridge.errors import ConfigError

NetSuiteAuthMode = Literal["oauth2", "tba"]
JwtAlgorithm = Literal["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


def _load_secret_files(values: dict[str, Any], secret_fields: tuple[str, ...]) -> dict[str, Any]:
    """Fill ``name`` from the file named by ``name_file`` when ``name`` itself is not set."""
    for name in secret_fields:
        path = values.get(f"{name}_file")
        if path and not values.get(name):
            try:
                values[name] = Path(path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read the secret file for {name}: {path}: {exc}") from exc
    return values


class NetSuiteSettings(BaseModel):
    """How to reach one NetSuite account."""

    account: str = Field(default="", description="Account id, e.g. 1234567 or 1234567_SB1")
    base_url: str | None = Field(
        default=None,
        description="Override of https://<account>.suitetalk.api.netsuite.com/services/rest "
        "(the emulator, a proxy)",
    )
    auth_mode: NetSuiteAuthMode = "oauth2"
    # OAuth 2.0 client credentials (machine to machine), contracts/netsuite.md §7.2
    client_id: str = ""
    certificate_id: str = ""
    private_key: SecretStr | None = None
    private_key_file: str | None = None
    jwt_algorithm: JwtAlgorithm = "PS256"
    scopes: list[str] = Field(default_factory=lambda: ["rest_webservices"])
    # Token-based authentication (OAuth 1.0a HMAC-SHA256), contracts/netsuite.md §7.1
    consumer_key: str = ""
    consumer_secret: SecretStr | None = None
    consumer_secret_file: str | None = None
    token_id: str = ""
    token_secret: SecretStr | None = None
    token_secret_file: str | None = None
    # Governance, contracts/netsuite.md §6
    concurrency_limit: int = Field(default=5, ge=1, le=1000)
    read_governance_limits: bool = False
    timeout_seconds: float = Field(default=60.0, gt=0, le=900)
    max_attempts: int = Field(default=6, ge=1, le=50)
    backoff_base_seconds: float = Field(default=0.5, ge=0, le=60)
    backoff_max_seconds: float = Field(default=30.0, ge=0, le=3600)

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return _load_secret_files(values, ("private_key", "consumer_secret", "token_secret"))
        return values


class SalesforceSettings(BaseModel):
    """How to reach one Salesforce org (contracts/salesforce.md §1, §2)."""

    instance_url: str = Field(default="", description="https://<MyDomain>.my.salesforce.com")
    login_url: str = Field(
        default="https://login.salesforce.com",
        description="Token endpoint host: login, test, or the My Domain URL",
    )
    api_version: str = Field(default="65.0", pattern=r"^\d{2,3}\.0$")
    auth_mode: Literal["jwt", "client_credentials"] = "jwt"
    # JWT bearer: External Client App consumer key, integration user, RS256 private key (§2)
    consumer_key: str = ""
    username: str = ""
    private_key: SecretStr | None = None
    private_key_file: str | None = None
    audience: str | None = Field(
        default=None, description="JWT aud; defaults to login_url"
    )
    # Client credentials (§2): runs as the app's run-as user
    client_id: str = ""
    client_secret: SecretStr | None = None
    client_secret_file: str | None = None
    ca_bundle: str | None = Field(
        default=None, description="PEM file of extra CAs to trust (the emulator's, a proxy's)"
    )
    org_id: str = Field(default="", description="Expected OrganizationId of Outbound Messages")
    timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    max_attempts: int = Field(default=5, ge=1, le=50)
    backoff_base_seconds: float = Field(default=0.5, ge=0, le=60)
    backoff_max_seconds: float = Field(default=60.0, ge=0, le=3600)
    # Daily API allocation guard (§5): non-urgent work stops above this share of the allocation
    api_usage_guard_ratio: float = Field(default=0.8, gt=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return _load_secret_files(values, ("private_key", "client_secret"))
        return values


class Settings(BaseSettings):
    """All of dealbridge's settings."""

    def resolved_database_url(self) -> str:
        """The ledger's database URL: the setting, or a SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dealbridge.sqlite3').resolve()}"

    model_config = SettingsConfigDict(
        env_prefix="DEALBRIDGE_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    data_dir: Path = Path(".dealbridge")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the ledger and the engine's state; "
        "default sqlite under data_dir (one process only); postgresql://… for production",
    )
    netsuite: NetSuiteSettings = Field(default_factory=NetSuiteSettings)
    salesforce: SalesforceSettings = Field(default_factory=SalesforceSettings)
