"""One running emulator's state: records, credentials, sessions, governance.

Handlers reach it through :func:`state_of`; nothing is global, so a test may run several
emulators in one process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Request

from dealbridge.connectors.netsuite.emulator.auth import (
    BearerTokens,
    NonceStore,
    RequestAuthenticator,
    TbaVerifier,
)
from dealbridge.connectors.netsuite.emulator.config import EmulatorOptions
from dealbridge.connectors.netsuite.emulator.credentials import Credentials
from dealbridge.connectors.netsuite.emulator.faults import FaultSettings, Governor
from dealbridge.connectors.netsuite.emulator.oauth2 import ClientAssertionVerifier
from dealbridge.connectors.netsuite.models import TOKEN_PATH, default_base_url, realm_of

SeedData = Mapping[str, Sequence[Mapping[str, Any]]]


class RecordBackend(Protocol):
    """What the HTTP layer needs of the record service (``records.RecordService``)."""

    def create(
        self, record_type: str, body: Any, *, strict_fields: bool, replace: frozenset[str] = ...
    ) -> str:
        """Create; returns the new internal id."""

    def upsert(
        self,
        record_type: str,
        external_id: str,
        body: Any,
        *,
        strict_fields: bool,
        replace: frozenset[str] = ...,
    ) -> str:
        """Create or update by external id; returns the internal id."""

    def update(
        self,
        record_type: str,
        ref: str,
        body: Any,
        *,
        strict_fields: bool,
        replace: frozenset[str] = ...,
        replace_selected_fields: bool = ...,
    ) -> str:
        """Update by ``123`` or ``eid:X``; returns the internal id."""

    def get(
        self,
        record_type: str,
        ref: str,
        *,
        base_url: str,
        expand_sub_resources: bool = ...,
        fields: list[str] | None = ...,
    ) -> dict[str, Any]:
        """One record as NetSuite renders it."""

    def get_sublist(
        self, record_type: str, ref: str, sublist: str, *, base_url: str
    ) -> dict[str, Any]:
        """One sublist of a record."""

    def delete(self, record_type: str, ref: str) -> None:
        """Delete by ``123`` or ``eid:X``."""

    def list_ids(
        self, record_type: str, *, q: str | None, limit: int, offset: int
    ) -> tuple[list[str], int]:
        """One page of ids and the total count."""

    def rows(self, table: str) -> list[dict[str, Any]] | None:
        """A SuiteQL table's rows, or None if there is no such table."""

    def columns(self, table: str) -> set[str] | None:
        """A SuiteQL table's columns, so an unknown one fails even on an empty table."""

    def dump(self, record_type: str) -> list[dict[str, Any]]:
        """Every record of a type, for the control API."""

    def load_seed(self, data: dict[str, list[dict[str, Any]]]) -> None:
        """Add records."""

    def reset(self) -> None:
        """Back to reference data only."""


@dataclass
class EmulatorState:
    """Everything one emulator instance holds.

    Attributes:
        options: How it was started.
        records: The record service.
        credentials: The integration's TBA and OAuth 2.0 credentials.
        governor: Concurrency pool, fault settings and statistics.
        tokens: Issued OAuth 2.0 bearer tokens.
        authenticator: Checks each governed request's ``Authorization``.
        assertions: Checks token requests.
        seed: Records loaded at start-up, loaded again by a reset.
    """

    options: EmulatorOptions
    records: RecordBackend
    credentials: Credentials
    governor: Governor
    tokens: BearerTokens
    authenticator: RequestAuthenticator
    assertions: ClientAssertionVerifier
    seed: dict[str, list[dict[str, Any]]] | None = None

    @classmethod
    def build(
        cls,
        options: EmulatorOptions,
        records: RecordBackend,
        credentials: Credentials,
        seed: dict[str, list[dict[str, Any]]] | None = None,
    ) -> EmulatorState:
        """Wire the parts together for ``options.account``."""
        realm = realm_of(options.account)
        tokens = BearerTokens()
        tba = TbaVerifier(credentials.tba, realm, NonceStore())
        return cls(
            options=options,
            records=records,
            credentials=credentials,
            governor=Governor(FaultSettings.from_options(options)),
            tokens=tokens,
            authenticator=RequestAuthenticator(tba, tokens, realm),
            assertions=ClientAssertionVerifier(
                credentials.client_id,
                credentials.public_keys(),
                default_base_url(options.account) + TOKEN_PATH,
            ),
            seed=seed,
        )

    @property
    def realm(self) -> str:
        """The TBA realm clients must send (§1)."""
        return realm_of(self.options.account)

    def reset(self) -> None:
        """Records back to reference data plus the start-up seed; settings and stats too.

        Credentials and issued tokens stay valid, so a client need not log in again.
        """
        self.records.reset()
        if self.seed:
            self.records.load_seed(self.seed)
        self.governor.reset()
        self.authenticator.failures.clear()


def state_of(request: Request) -> EmulatorState:
    """The state of the emulator serving ``request`` (set by ``app.create_app``)."""
    state: EmulatorState = request.app.state.emulator
    return state
