"""The demo's configuration: dealbridge pointed at the two emulators, on SQLite, and a login.

Every setting the demo depends on is passed explicitly, so ``DEALBRIDGE_*`` variables or a
``dealbridge.toml`` meant for a real org can never send the demo's deals anywhere else (explicit
arguments win over both). The credentials come from the emulators' first lines, exactly as a
user would copy them from a Connected App and an integration record: Salesforce by JWT bearer,
NetSuite by OAuth 2.0 client credentials (PS256), the ``OrganizationId`` allowlist set to the
emulated org, and a fresh random path token for the Outbound Message URL.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import SecretStr

from dealbridge.cli.demo_emulators import Emulators
from dealbridge.db.session import engine_for, make_session_factory, session_scope
from dealbridge.settings import (
    NetSuiteSettings,
    PollerSettings,
    SalesforceSettings,
    Settings,
    SyncSettings,
    WebSettings,
)
from dealbridge.web.security.accounts import add_user
from dealbridge.web.security.passwords import Passwords

ADMIN_USERNAME = "admin"
DEMO_ACTOR = "demo"
# The NetSuite emulator allows 15 requests in flight by default; use them (5 deals in flight).
NETSUITE_CONCURRENCY = 15
POLL_SECONDS = 10  # the safety net polls often in a demo, so it visibly has nothing to do
POLL_OVERLAP_SECONDS = 30
DRAIN_SECONDS = 5  # Ctrl-C: deals in flight get this long, then resume at the next start


def new_webhook_token() -> str:
    """A random path token (256 bits), never written to disk by the demo."""
    return secrets.token_urlsafe(32)


def demo_settings(
    data_dir: Path, emulators: Emulators, *, token: str, base_url: str, port: int
) -> Settings:
    """Settings for a service on ``data_dir`` (SQLite) syncing between the two emulators."""
    return Settings(
        data_dir=data_dir,
        database_url=None,
        executor_id=None,
        log_level="ERROR",
        log_format="console",
        salesforce=salesforce_settings(emulators),
        netsuite=netsuite_settings(emulators),
        sync=SyncSettings(shutdown_timeout_seconds=DRAIN_SECONDS),
        web=WebSettings(host="127.0.0.1", port=port or 8700, base_url=base_url),
        poller=PollerSettings(interval_seconds=POLL_SECONDS, overlap_seconds=POLL_OVERLAP_SECONDS),
        webhook_token=SecretStr(token),
    )


def salesforce_settings(emulators: Emulators) -> SalesforceSettings:
    """JWT bearer with the emulated Connected App's key and integration user."""
    info = emulators.salesforce
    jwt = info["jwt"]
    return SalesforceSettings(
        instance_url=info["instance_url"],
        login_url=info["instance_url"],
        consumer_key=jwt["consumer_key"],
        username=jwt["username"],
        private_key_file=jwt["private_key"],
        audience=jwt["audience"],
        org_id=info["org_id"],
    )


def netsuite_settings(emulators: Emulators) -> NetSuiteSettings:
    """OAuth 2.0 machine-to-machine with the emulated integration's PS256 certificate."""
    info = emulators.netsuite
    oauth2 = info["oauth2"]
    return NetSuiteSettings(
        account=info["account"],
        base_url=info["base_url"],
        auth_mode="oauth2",
        client_id=oauth2["client_id"],
        certificate_id=oauth2["certificate_id"],
        private_key_file=oauth2["private_key_pem"],
        jwt_algorithm=oauth2["algorithm"],
        concurrency_limit=NETSUITE_CONCURRENCY,
    )


def create_admin(settings: Settings) -> tuple[str, str]:
    """An admin login with a random password in the (migrated) ledger; returns both."""
    password = secrets.token_urlsafe(12)
    factory = make_session_factory(engine_for(settings.resolved_database_url()))
    with session_scope(factory) as session:
        add_user(
            session,
            username=ADMIN_USERNAME,
            password=password,
            role="admin",
            actor=DEMO_ACTOR,
            passwords=Passwords(),
        )
    return ADMIN_USERNAME, password
