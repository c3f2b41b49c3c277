"""Configuration, read from ``DEALBRIDGE_*`` environment variables and secret files.

Nested groups use a double underscore: ``DEALBRIDGE_NETSUITE__ACCOUNT=1234567_SB1``. Every secret is
a ``SecretStr`` so it never shows in a repr, a log line or an error; a secret may also be given as a
path in the matching ``*_FILE`` variable (e.g. ``DEALBRIDGE_NETSUITE__TOKEN_SECRET_FILE``), which is
how container platforms mount them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from dealbridge.errors import FAILURE_TYPES, ConfigError

TOML_FILE = Path("dealbridge.toml")  # optional, read from the working directory
NetSuiteAuthMode = Literal["oauth2", "tba"]
MIN_WEBHOOK_TOKEN_LENGTH = 16  # a path token is a password: long enough not to be guessed
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


def _address_list(text: str) -> list[str]:
    """A JSON list, or the friendlier ``a@example.com,b@example.com``."""
    if text.lstrip().startswith("["):
        try:
            return [str(item) for item in json.loads(text)]
        except json.JSONDecodeError as exc:
            raise ConfigError(f"email_to is not a JSON list: {exc}") from exc
    return [part.strip() for part in text.split(",") if part.strip()]


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
    # The account's limit, shared by every process (dealbridge.sync.budget splits it)
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
    audience: str | None = Field(default=None, description="JWT aud; defaults to login_url")
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


class WebSettings(BaseModel):
    """The console and API server (issue 6, DESIGN §8)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=1, le=65535)
    session_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs session cookies; generated once under data_dir when unset",
    )
    session_secret_file: str | None = None
    secure_cookies: bool = Field(
        default=False,
        description="Mark cookies Secure even when the request did not arrive over HTTPS "
        "(behind a TLS-terminating proxy without forwarded headers)",
    )
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=30 * 24)
    lockout_attempts: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=100 * 1_048_576)
    base_url: str = Field(
        default="http://127.0.0.1:8700",
        description="How people reach the console; links in alerts start with it. Default "
        "http://127.0.0.1:<web.port>; set it when people reach the console through a proxy, "
        "another host name or another port",
    )

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return _load_secret_files(values, ("session_secret",))
        return values

    @model_validator(mode="after")
    def _base_url_from_port(self) -> WebSettings:
        """Unset, ``base_url`` follows ``port``, so alert links reach a console on another port."""
        if "base_url" not in self.model_fields_set:
            self.base_url = f"http://127.0.0.1:{self.port}"
        elif not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"web.base_url={self.base_url!r} must start with http:// or https:// "
                "(alert links are built from it)"
            )
        return self


class AlertSettings(BaseModel):
    """Where alerts go and when they fire (issue 6); a channel with no destination is off."""

    enabled: bool = Field(
        default=True,
        description="Evaluate the alert rules on a schedule (they run only when a channel is set)",
    )
    interval_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="Seconds between alert evaluations; must divide a minute or an hour evenly "
        "(1-60 dividing 60, or whole minutes dividing 60)",
    )
    check_connections: bool = Field(
        default=True,
        description="Check Salesforce and NetSuite at every evaluation (one cheap call each) "
        "for the connection-failing alert; off, the rule reads the console's latest tests",
    )
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    smtp_password_file: str | None = None
    smtp_from: str = "dealbridge@localhost"
    email_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_url: SecretStr | None = Field(
        default=None, description="Slack-compatible incoming webhook; its URL is a credential"
    )
    webhook_url_file: str | None = None
    open_errors_threshold: int = Field(default=10, ge=1, le=1_000_000)
    missing_outcome_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    digest_minutes: int = Field(default=10, ge=0, le=24 * 60)
    repeat_minutes: int = Field(default=240, ge=1, le=30 * 24 * 60)

    @model_validator(mode="after")
    def _cron_expressible(self) -> AlertSettings:
        if not _is_even_interval(self.interval_seconds):
            raise ConfigError(
                f"alerts.interval_seconds={self.interval_seconds} does not divide a minute or "
                "an hour evenly (e.g. 10, 30, 60, 300, 600)"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, values: Any) -> Any:
        if isinstance(values, dict):
            values = _load_secret_files(values, ("smtp_password", "webhook_url"))
            if isinstance(values.get("email_to"), str):
                values["email_to"] = _address_list(values["email_to"])
        return values


class SyncSettings(BaseModel):
    """The sync engine: queue, step retries, write-back, flow (``dealbridge.sync``)."""

    flow_path: Path | None = Field(
        default=None, description="Flow file; default the shipped flows/cpq_closed_won.yaml"
    )
    queue_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=10_000,
        description="Deals in flight across all workers; default derived from "
        "netsuite.concurrency_limit (dealbridge.sync.runtime.deals_in_flight)",
    )
    queue_polling_interval_seconds: float = Field(
        default=0.05,
        gt=0,
        le=60,
        description="How often each process asks the deals queue for work: the wait between a "
        "trigger and its first step (latency bench, ratio to the critical path: 0.1 s → 1.12, "
        "0.05 s → 1.10) against a few small queries per interval while idle (~27 ms of CPU a "
        "second at 0.1 s, ~46 at 0.05 s); raise it where a few tens of ms per deal do not matter",
    )
    # A ~10-minute NetSuite outage is absorbed: waits of 2, 4, … 512 s sum to ~17 minutes.
    step_max_attempts: int = Field(default=10, ge=1, le=50)
    step_interval_seconds: float = Field(default=2.0, ge=0, le=3600)
    write_back: bool = Field(default=True, description="Write ids and status to Salesforce")
    record_call_bodies: bool = Field(
        default=True,
        description="Keep each API call's request and response bodies (redacted, at most 8 KiB "
        "each) in the run history (dealbridge.core.calls.capture_body)",
    )
    multi_currency: bool = Field(
        default=True, description="The org has multi-currency on (CurrencyIsoCode exists)"
    )
    shutdown_timeout_seconds: int = Field(default=30, ge=0, le=3600)
    event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop",
        description="The event loops of serve and worker: uvloop (a sixth less CPU per deal; "
        "asyncio's where uvloop is not installed) or asyncio (dealbridge.core.event_loops)",
    )
    # Scale-out on PostgreSQL (dealbridge.sync.reaper, dealbridge.sync.budget)
    reaper_interval_seconds: float = Field(
        default=2.0,
        gt=0,
        le=300,
        description="How often every process looks for dead executors' deals to recover and "
        "re-splits the NetSuite budget among the live ones",
    )
    stale_pending_minutes: int = Field(
        default=30,
        ge=1,
        le=7 * 24 * 60,
        description="A deal PENDING this long is reported: a reaper log line and the "
        "stale_pending alert (dealbridge.alerts.rules.stale_pending)",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_removed_settings(cls, values: Any) -> Any:
        """``sync.poll_interval_seconds`` duplicated ``poller.interval_seconds`` and did nothing."""
        if isinstance(values, dict) and "poll_interval_seconds" in values:
            raise ConfigError(
                "sync.poll_interval_seconds is gone: the poll interval is poller.interval_seconds "
                "(DEALBRIDGE_POLLER__INTERVAL_SECONDS)"
            )
        return values


def _is_even_interval(seconds: int) -> bool:
    """Whether ``seconds`` divides a minute, an hour or a day evenly (a cron step can say it)."""
    if seconds <= 60:
        return 60 % seconds == 0
    if seconds <= 3600:
        return seconds % 60 == 0 and 3600 % seconds == 0
    return seconds % 3600 == 0 and 86_400 % seconds == 0


class PollerSettings(BaseModel):
    """The safety-net poller (``dealbridge.sync.poller``): what Outbound Messages missed."""

    enabled: bool = True
    interval_seconds: int = Field(
        default=60,
        ge=1,
        le=86_400,
        description="Seconds between polls; must divide a minute, an hour or a day evenly "
        "(1-60 dividing 60, whole minutes dividing 60, whole hours dividing 24)",
    )
    overlap_seconds: int = Field(
        default=120,
        ge=1,
        le=86_400,
        description="How far before the watermark each poll looks again, for changes that "
        "committed late with an earlier SystemModstamp (at least 1: stamps have whole seconds)",
    )

    @model_validator(mode="after")
    def _cron_expressible(self) -> PollerSettings:
        if not _is_even_interval(self.interval_seconds):
            raise ConfigError(
                f"poller.interval_seconds={self.interval_seconds} does not divide a minute, "
                "an hour or a day evenly (e.g. 10, 30, 60, 300, 3600)"
            )
        return self


class AutoRetrySettings(BaseModel):
    """Errors of passing causes retried by the service (``dealbridge.sync.auto_retry``)."""

    enabled: bool = Field(
        default=True, description="Retry open errors of the classes below on a schedule"
    )
    classes: tuple[str, ...] = Field(
        default=("rate_limit", "remote_outage"),
        description="Failure classes retried without a person (an outage or a used-up "
        "allocation passes; a refused record or broken data does not)",
    )
    after_minutes: int = Field(
        default=30, ge=1, le=1440, description="Minutes an error waits after its last failure"
    )
    max_attempts: int = Field(
        default=6,
        ge=1,
        le=100,
        description="Automatic retries per error before it waits for a person",
    )
    interval_minutes: int = Field(
        default=10, ge=1, le=60, description="Minutes between looks for due errors; divides an hour"
    )

    @model_validator(mode="after")
    def _valid(self) -> AutoRetrySettings:
        unknown = sorted(set(self.classes) - set(FAILURE_TYPES))
        if unknown:
            raise ConfigError(
                f"auto_retry.classes has unknown failure classes {unknown}; "
                f"expected some of {', '.join(FAILURE_TYPES)}"
            )
        if 60 % self.interval_minutes:
            raise ConfigError(
                f"auto_retry.interval_minutes={self.interval_minutes} does not divide an hour "
                "evenly (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)"
            )
        return self


class ReconcileSettings(BaseModel):
    """The service's own reconciliation (``dealbridge.sync.reconcile_schedule``, issue 7)."""

    enabled: bool = Field(
        default=True, description="Reconcile on a schedule and keep each report for the console"
    )
    interval_hours: int = Field(
        default=24,
        ge=1,
        le=24,
        description="Hours between reconciliations; must divide a day (1, 2, 3, 4, 6, 8, 12, 24)",
    )
    at_minute: int = Field(
        default=30, ge=0, le=59, description="Minute of the hour each reconciliation starts"
    )
    since_days: int | None = Field(
        default=None,
        ge=1,
        le=36_500,
        description="Only deals closed in the last n days; default every won deal",
    )

    @model_validator(mode="after")
    def _divides_a_day(self) -> ReconcileSettings:
        if 24 % self.interval_hours:
            raise ConfigError(
                f"reconcile.interval_hours={self.interval_hours} does not divide a day evenly "
                "(1, 2, 3, 4, 6, 8, 12 or 24)"
            )
        return self


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
        toml_file=TOML_FILE,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then ``DEALBRIDGE_*`` variables, then ``./dealbridge.toml`` (no secrets)."""
        toml = _SecretFreeTomlSource(settings_cls)
        return (init_settings, env_settings, dotenv_settings, toml, file_secret_settings)

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
    executor_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._:-]{1,100}$",
        description="Stable id of this worker process (DBOS recovers only its own work); "
        "default on PostgreSQL <host>-<worker_slot>",
    )
    worker_slot: str | None = Field(
        default=None,
        description="Which of several processes on one host this is (DEALBRIDGE_WORKER_SLOT); "
        "part of the derived executor id",
    )
    sync: SyncSettings = Field(default_factory=SyncSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    # The Outbound Message listener (``dealbridge.web.hooks``): the secret last segment of
    # /hooks/salesforce/outbound-message/<token>; unset refuses every message.
    webhook_token: SecretStr | None = Field(
        default=None, description="Secret path token of the Outbound Message URL (>= 16 chars)"
    )
    webhook_token_file: str | None = None
    webhook_max_bytes: int = Field(
        default=1_000_000,
        ge=1024,
        le=50 * 1_048_576,
        description="Largest Outbound Message body accepted (100 notifications fit in ~200 KB)",
    )
    poller: PollerSettings = Field(default_factory=PollerSettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)
    auto_retry: AutoRetrySettings = Field(default_factory=AutoRetrySettings)

    @model_validator(mode="before")
    @classmethod
    def _webhook_token_from_file(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return _load_secret_files(values, ("webhook_token",))
        return values

    @model_validator(mode="after")
    def _webhook_token_long_enough(self) -> Settings:
        token = self.webhook_token.get_secret_value() if self.webhook_token else ""
        if token and len(token) < MIN_WEBHOOK_TOKEN_LENGTH:
            raise ConfigError(
                f"webhook_token must have at least {MIN_WEBHOOK_TOKEN_LENGTH} characters"
            )
        return self


class _SecretFreeTomlSource(TomlConfigSettingsSource):
    """``dealbridge.toml`` in the working directory, refusing secret values.

    Why refuse: the file is meant to be committed next to a deployment; secrets come from the
    environment or from ``*_file`` paths only.
    """

    def __call__(self) -> dict[str, Any]:
        data = super().__call__()
        found = _secret_keys(data, Settings)
        if found:
            raise ConfigError(
                f"{TOML_FILE} may not hold secrets ({', '.join(found)}); "
                "use DEALBRIDGE_* variables or the matching *_file setting"
            )
        return data


def _secret_keys(data: dict[str, Any], model: type[BaseModel], prefix: str = "") -> list[str]:
    """Dotted names of the secret fields set in ``data`` (nested groups included)."""
    found: list[str] = []
    for name, info in model.model_fields.items():
        if name not in data:
            continue
        annotation = info.annotation
        if isinstance(data[name], dict) and isinstance(annotation, type):
            if issubclass(annotation, BaseModel):
                found += _secret_keys(data[name], annotation, f"{prefix}{name}.")
        elif "SecretStr" in str(annotation):
            found.append(prefix + name)
    return found
