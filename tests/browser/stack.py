"""The console as a user meets it: both emulators and ``dealbridge serve`` as real processes.

The stack is the e2e one (``tests/e2e/serve_stack.py``): emulators with a fast Outbound Message
retry clock, ``serve`` on a fresh SQLite data directory, the Outbound Message URL registered
with the Salesforce emulator. On top of it this module adds what the browser tests need: console
users made with ``dealbridge users add`` (one per role), and a handful of deals closed through the
Salesforce REST API — sound ones, one the flow's validation refuses (a seeded flaw), and one
NetSuite itself rejects (a website longer than NetSuite's ``url`` takes), which is the kind an
edit of the mapped payload can fix: the edit replaces the payload at write time, after
validation, so a deal that fails validation would fail it again.

A few more failed deals are reserved for the tests of the console's actions, so those tests change
nothing another test reads: two more deals NetSuite rejects for the website (bulk retry fixes them
once the website is corrected in Salesforce) and one more deal validation refuses (resolved by
hand). Each is on an account no other deal the tests close or preview uses.

What the ledger holds is read back directly from its database, in the shape ``dealbridge errors
list/show --json`` prints, so the tests compare what the browser shows with an independent reading
(and without a CLI process per look, which on a busy machine costs seconds each).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from dealbridge.cli.errors_cmd import error_detail, error_summary
from dealbridge.db import open_errors
from dealbridge.db.session import make_engine, make_session_factory, session_scope
from tests.e2e.serve_stack import SERVE_SETTINGS, Stack, running_stack, wait_until
from tests.integration.sync.harness import env_for, settings_for

ORG_DEALS = 20  # the seed's smallest org with several won candidates and every flaw
SOUND_DEALS = 3
# NetSuite's customer url holds 200 characters; the flow does not check the length, NetSuite does.
LONG_WEBSITE = "https://www.example.com/" + "w" * 226
SHORT_WEBSITE = "https://www.example.com/fixed"
INVALID_FLAW = "long_account_name"  # a 120-character name; NetSuite's companyName holds 83
BULK_RETRY_DEALS = 2
SYNC_TIMEOUT_SECONDS = 120.0
CLI_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class User:
    """A console login made for the tests."""

    name: str
    role: str
    password: str


ADMIN = User("ada", "admin", "ada-browser-password-1")
OPERATOR = User("otto", "operator", "otto-browser-password-2")
VIEWER = User("vera", "viewer", "vera-browser-password-3")
USERS = (ADMIN, OPERATOR, VIEWER)


@dataclass(frozen=True)
class ReservedDeal:
    """A failed deal only one test acts on, with its account and its open error."""

    opportunity: str
    account: str
    error: dict[str, Any]  # an ``errors list --json`` row

    @property
    def customer(self) -> str:
        """The external id of the NetSuite customer of the deal's account."""
        return f"SFACC-{self.account}"


@dataclass(frozen=True)
class ClosedDeals:
    """The deals the stack closed, and the open errors the failed ones produced."""

    sound: list[str]
    invalid: str  # refused by the flow's validation
    rejected: str  # refused by NetSuite (the customer's url)
    rejected_account: str
    invalid_error: dict[str, Any]  # ``errors list --json`` rows
    rejected_error: dict[str, Any]
    # Refused by NetSuite for the website, like ``rejected``: for the bulk retry test.
    for_bulk_retry: list[ReservedDeal]
    # Refused by the flow's validation, like ``invalid``: for the resolve test.
    for_resolve: ReservedDeal

    @property
    def rejected_customer(self) -> str:
        """The record key of the customer NetSuite refused."""
        return f"customer/SFACC-{self.rejected_account}"


@dataclass
class ConsoleStack:
    """A running ``serve`` with its emulators, users and (once closed) deals."""

    stack: Stack
    url: str
    env: dict[str, str]
    ledger: sessionmaker[Session]

    def errors(self, state: str = "open") -> list[dict[str, Any]]:
        """The ledger's errors in ``state`` (open, retrying, resolved), as ``errors list`` shows."""
        with session_scope(self.ledger) as session:
            found = open_errors.list_errors(session, open_errors.ErrorFilter(state=state))
            return [error_summary(error) for error in found]

    def error(self, error_id: int) -> dict[str, Any]:
        """One error in full, as ``errors show`` shows it."""
        with session_scope(self.ledger) as session:
            found = open_errors.get_error(session, error_id)
            assert found is not None, f"no error {error_id} in the ledger"
            return error_detail(found)

    def error_of(self, opportunity_id: str, state: str = "open") -> dict[str, Any] | None:
        """The error of the deal in ``state``, if there is one."""
        return next(
            (row for row in self.errors(state) if row["opportunity_id"] == opportunity_id), None
        )

    def netsuite_customer(self, external_id: str) -> dict[str, Any] | None:
        """The NetSuite customer with this external id, as the emulator stores it."""
        return next(
            (
                record
                for record in self.stack.netsuite("customer")
                if record.get("externalId") == external_id
            ),
            None,
        )

    def close_deals(self) -> ClosedDeals:
        """Close sound and flawed deals in Salesforce; wait until each has its outcome."""
        emulators = self.stack.emulators
        opportunities = emulators.sf_control("GET", "/records/Opportunity")
        accounts = {row["Id"]: row["AccountId"] for row in opportunities}
        sound, rejected = _pick_candidates(emulators.seeded["won_candidates"], accounts)
        flawed: dict[str, str] = emulators.seeded["flawed"]
        invalid = next(opp for opp, why in flawed.items() if why == INVALID_FLAW)
        bulk, resolvable = _pick_reserved(
            emulators.seeded["won_candidates"], flawed, accounts, taken={*sound, rejected, invalid}
        )
        for account in {accounts[rejected], *(accounts[opp] for opp in bulk)}:
            emulators.update("Account", account, {"Website": LONG_WEBSITE})
        self.stack.close_won([*sound, invalid, rejected, *bulk, resolvable])

        def all_synced() -> bool:
            return len(self.stack.synced(sound)) == len(sound)

        wait_until(all_synced, "the sound deals written back", SYNC_TIMEOUT_SECONDS)
        invalid_error = self._wait_for_error(invalid, "the invalid deal's error")
        rejected_error = self._wait_for_error(rejected, "the rejected deal's error")
        reserved = [
            ReservedDeal(opp, accounts[opp], self._wait_for_error(opp, f"the error of {opp}"))
            for opp in [*bulk, resolvable]
        ]
        return ClosedDeals(
            sound,
            invalid,
            rejected,
            accounts[rejected],
            invalid_error,
            rejected_error,
            for_bulk_retry=reserved[:-1],
            for_resolve=reserved[-1],
        )

    def _wait_for_error(self, opportunity_id: str, what: str) -> dict[str, Any]:
        """The deal's open error, once its failed run has recorded it."""
        error = wait_until(lambda: self.error_of(opportunity_id), what, SYNC_TIMEOUT_SECONDS)
        assert error is not None  # wait_until returns only a found one
        return error


def _pick_candidates(candidates: list[str], accounts: dict[str, str]) -> tuple[list[str], str]:
    """Sound deals and the deal to be rejected, each on an account of its own.

    The rejected deal's account gets the long website; a sound deal on the same account would
    fail with it.
    """
    picked: list[str] = []
    used: set[str] = set()
    for candidate in candidates:
        if accounts[candidate] not in used:
            picked.append(candidate)
            used.add(accounts[candidate])
        if len(picked) == SOUND_DEALS + 1:
            return picked[:SOUND_DEALS], picked[SOUND_DEALS]
    raise AssertionError(f"the seeded org has fewer than {SOUND_DEALS + 1} separate won accounts")


def _pick_reserved(
    candidates: list[str], flawed: dict[str, str], accounts: dict[str, str], taken: set[str]
) -> tuple[list[str], str]:
    """Deals for the action tests: ``BULK_RETRY_DEALS`` candidates and one flawed deal.

    Each is the only deal of the candidates and flawed deals on its account: the website set
    on a bulk deal's account and the later fix must reach no other deal, and no account another
    test closes or previews gets a customer the tests did not expect. Candidates are taken from
    the end of the list, leaving the first ones (the sound deals, the rejected one, and the one
    the preview test picks as never closed) as they were.
    """
    on_account: dict[str, int] = {}
    for opportunity in [*candidates, *flawed]:
        on_account[accounts[opportunity]] = on_account.get(accounts[opportunity], 0) + 1

    def alone(opportunity: str) -> bool:
        return opportunity not in taken and on_account[accounts[opportunity]] == 1

    bulk = [candidate for candidate in reversed(candidates) if alone(candidate)]
    resolvable = [opportunity for opportunity in flawed if alone(opportunity)]
    alone_on_account = "deals alone on their accounts for the action tests"
    assert len(bulk) >= BULK_RETRY_DEALS, f"the seeded org has too few won {alone_on_account}"
    assert resolvable, f"the seeded org has no flawed {alone_on_account}"
    return bulk[:BULK_RETRY_DEALS], resolvable[0]


def dealbridge_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """``dealbridge ARGS`` with ``env`` added; its stdout; fails naming the command otherwise."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "dealbridge", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, f"dealbridge {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stdout


def add_users(env: dict[str, str]) -> None:
    """``dealbridge users add`` for each test user, the password on standard input."""
    for user in USERS:
        args = ("users", "add", user.name, "--role", user.role, "--password-stdin")
        dealbridge_cli(env, *args, stdin=user.password + "\n")


@contextmanager
def console_stack(root: Path) -> Iterator[ConsoleStack]:
    """Emulators, a seeded org, the users, and ``serve`` on a fresh data directory."""
    with running_stack(root) as stack:
        stack.emulators.reset(deals=ORG_DEALS)
        data_dir = root / "data"
        # The settings ``Stack.serving`` gives ``serve``: ``users add`` and reads share its ledger.
        settings = settings_for(stack.emulators, data_dir)
        env = env_for(settings, **SERVE_SETTINGS)
        add_users(env)
        with stack.serving(data_dir) as served:
            stack.register_endpoint()
            engine = make_engine(settings.resolved_database_url())
            try:
                ledger = make_session_factory(engine)
                yield ConsoleStack(stack, str(served.info["url"]), env, ledger)
            finally:
                engine.dispose()
