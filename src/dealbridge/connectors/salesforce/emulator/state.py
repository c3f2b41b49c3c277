"""One running Salesforce emulator: its records, sessions, limits, cursors and Outbound sender.

Handlers reach it through :func:`state_of`; nothing is global, so a test may run several
emulators in one process.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request

from dealbridge.connectors.salesforce.emulator.auth import SessionTokens, TokenIssuer
from dealbridge.connectors.salesforce.emulator.config import SalesforceEmulatorOptions
from dealbridge.connectors.salesforce.emulator.credentials import OrgCredentials
from dealbridge.connectors.salesforce.emulator.cursors import QueryCursors
from dealbridge.connectors.salesforce.emulator.limits import ApiGovernor, FaultSettings
from dealbridge.connectors.salesforce.emulator.outbound_sender import OutboundSender
from dealbridge.connectors.salesforce.emulator.records import RecordService
from dealbridge.connectors.salesforce.emulator.seed import SOBJECT_ORDER, generate_org
from dealbridge.connectors.salesforce.emulator.store import RecordStore
from dealbridge.connectors.salesforce.models import DEFAULT_API_VERSION

SEEDED_FLAG = "seeded"


@dataclass
class SalesforceEmulatorState:
    """Everything one emulator instance holds.

    Attributes:
        options: How it was started.
        instance_url: ``scheme://host:port`` clients reach it at.
        credentials: Org id, integration user, the app's keys.
        store: SQLite records.
        records: Validated record operations over ``store``.
        cursors: Open query locators.
        governor: Faults, latency, the daily API counter and statistics.
        tokens: Open sessions.
        issuer: The token endpoint's grants.
        sender: The Outbound Message sender, told of every committed write.
    """

    options: SalesforceEmulatorOptions
    instance_url: str
    credentials: OrgCredentials
    store: RecordStore
    records: RecordService
    cursors: QueryCursors
    governor: ApiGovernor
    tokens: SessionTokens
    issuer: TokenIssuer
    sender: OutboundSender

    @classmethod
    def build(
        cls,
        options: SalesforceEmulatorOptions,
        store: RecordStore,
        credentials: OrgCredentials,
        instance_url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> SalesforceEmulatorState:
        """Wire the parts together; the sender hears of writes once they commit."""
        governor = ApiGovernor(FaultSettings.from_options(options))
        tokens = SessionTokens(credentials.org_id, lambda: governor.settings.token_lifetime_seconds)
        sender = OutboundSender(
            org_id=credentials.org_id,
            instance_url=instance_url,
            api_version=DEFAULT_API_VERSION,
            time_scale=options.time_scale,
            fetch_record=store.get,
            ssl_context=ssl_context,
        )
        records = RecordService(store, listener=sender.record_changed)
        return cls(
            options=options,
            instance_url=instance_url,
            credentials=credentials,
            store=store,
            records=records,
            cursors=QueryCursors(),
            governor=governor,
            tokens=tokens,
            issuer=TokenIssuer(credentials, tokens, instance_url),
            sender=sender,
        )

    def reset(self) -> None:
        """An empty org, start-up settings, fresh statistics, no deliveries.

        Credentials and open sessions stay valid, so a client need not log in again.
        """
        self.store.clear()
        self.cursors.clear()
        self.governor.reset()
        self.sender.reset()

    def load_seed_org(self, seed: int, deals: int, *, today: date | None = None) -> dict[str, Any]:
        """Load ``seed.generate_org``'s org on top of what is there; says what it loaded."""
        org = generate_org(seed, deals, today=today or date.today())
        loaded = self.load_rows(org.records)
        self.store.set_meta(SEEDED_FLAG, f"{seed}:{deals}")
        return {"loaded": loaded, "flawed": org.flawed, "won_candidates": org.won_candidates}

    def load_rows(self, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, int]:
        """Insert raw rows per sObject in one transaction (parents first, cycles allowed)."""
        order = [name for name in SOBJECT_ORDER if name in rows]
        order += [name for name in rows if name not in order]
        loaded: dict[str, int] = {}
        with self.store.transaction():
            for sobject in order:
                loaded[sobject] = len(self.records.load(sobject, list(rows[sobject])))
        return loaded


def state_of(request: Request) -> SalesforceEmulatorState:
    """The state of the emulator serving ``request`` (set by ``app.create_app``)."""
    state: SalesforceEmulatorState = request.app.state.emulator
    return state
