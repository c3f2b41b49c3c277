"""A deal's upserts in dependency order: what is sent, when, with which ids, and what is recorded.

The NetSuite client and the ledger are fakes: the executor's contract is the order and content
of the upserts it sends and the one ledger transaction it makes, not HTTP or SQL.
"""

from __future__ import annotations

import asyncio
import copy
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pytest

from dealbridge.connectors.netsuite.client import NetSuiteClient
from dealbridge.connectors.netsuite.models import record_group
from dealbridge.core.calls import CallRecord
from dealbridge.core.records import RecordKey, SourceRecord
from dealbridge.db.synced import SyncedWrite, payload_hash
from dealbridge.errors import DealbridgeError, RemoteRejectedError
from dealbridge.sync.ledger import Ledger, SyncedState
from dealbridge.sync.plan_data import parse_key
from dealbridge.sync.shared_writes import writes_of_this_loop
from dealbridge.sync.upserts import UpsertContext, execute_operations

T = TypeVar("T")

pytestmark = pytest.mark.anyio

FLOW = "cpq_closed_won"
RUN = "run-1"
OPPORTUNITY = "006000000000001AAA"
CUSTOMER = "customer/SFACC-1"
BILLING = "billingAccount/SFACC-1-BA"
PLAN = "subscriptionPlan/SFPLAN-1"
ITEM = "serviceSaleItem/SFPROD-1"
SUBSCRIPTION = "subscription/SFOPP-1"
PATIENCE = 5.0  # seconds an execution may take; only a broken executor ever waits that long


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def netsuite_id_of(key: str) -> str:
    """The internal id the fake NetSuite answers for a record: recognisable in bodies."""
    return f"ns-{parse_key(key).external_id}"


@dataclass(frozen=True)
class Sent:
    """One upsert as the fake NetSuite received it."""

    key: str
    body: dict[str, Any]
    replace: tuple[str, ...]


class FakeNetSuite:
    """Answers upserts with ``netsuite_id_of``; a record can be held back, delayed or refused.

    ``log`` interleaves ``start <key>`` and ``answer <key>`` / ``fail <key>`` in the order they
    happened, which is what the dependency-order tests read.
    """

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.log: list[str] = []
        self._holds: dict[str, list[asyncio.Event]] = defaultdict(list)
        self._delays: dict[str, float] = {}
        self._errors: dict[str, list[DealbridgeError]] = defaultdict(list)
        self._started: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._finished: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    def hold(self, key: str, *until: asyncio.Event) -> None:
        """``key``'s upsert answers only once every event in ``until`` is set."""
        self._holds[key].extend(until)

    def delay(self, key: str, seconds: float) -> None:
        self._delays[key] = seconds

    def refuse(self, key: str, error: DealbridgeError) -> None:
        """The next upsert of ``key`` raises ``error`` (later ones succeed)."""
        self._errors[key].append(error)

    def started(self, key: str) -> asyncio.Event:
        return self._started[key]

    def finished(self, key: str) -> asyncio.Event:
        """Set once ``key``'s upsert has answered or failed."""
        return self._finished[key]

    def sent_keys(self) -> list[str]:
        return [item.key for item in self.sent]

    def body(self, key: str) -> dict[str, Any]:
        bodies = [item.body for item in self.sent if item.key == key]
        assert len(bodies) == 1, f"{key} sent {len(bodies)} times"
        return bodies[0]

    def position(self, entry: str) -> int:
        return self.log.index(entry)

    async def upsert(
        self,
        record_type: str,
        external_id: str,
        body: dict[str, Any],
        *,
        replace: Iterable[str] = (),
    ) -> str:
        key = f"{record_type}/{external_id}"
        self.sent.append(Sent(key, copy.deepcopy(body), tuple(replace)))
        self.log.append(f"start {key}")
        self.started(key).set()
        try:
            await self._answer_time(key)
            if self._errors[key]:
                self.log.append(f"fail {key}")
                raise self._errors[key].pop(0)
            self.log.append(f"answer {key}")
            return netsuite_id_of(key)
        finally:
            self.finished(key).set()

    async def _answer_time(self, key: str) -> None:
        for event in self._holds[key]:
            await event.wait()
        await asyncio.sleep(self._delays.get(key, 0))  # never an answer without a suspension


@dataclass(frozen=True)
class Recorded:
    """One ``record_writes`` call."""

    writes: list[SyncedWrite]
    run_id: str
    calls: list[CallRecord]

    def keys(self) -> set[str]:
        return {str(write.key) for write in self.writes}


@dataclass
class FakeLedger:
    """Holds ``states`` as the ledger would; records every ``record_writes`` call."""

    states: dict[RecordKey, SyncedState] = field(default_factory=dict)
    asked: list[list[RecordKey]] = field(default_factory=list)
    recorded: list[Recorded] = field(default_factory=list)

    async def call(self, method: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """As ``Ledger.call``, on the loop's thread (the fake has no database to wait for)."""
        return method(*args, **kwargs)

    def synced_state(self, keys: Iterable[RecordKey]) -> dict[RecordKey, SyncedState]:
        wanted = list(keys)
        self.asked.append(wanted)
        return {key: self.states[key] for key in wanted if key in self.states}

    def record_writes(
        self, writes: Sequence[SyncedWrite], run_id: str, calls: Sequence[CallRecord] = ()
    ) -> None:
        self.recorded.append(Recorded(list(writes), run_id, list(calls)))

    def remember(
        self, key: str, netsuite_id: str | None, body: dict[str, Any], run_id: str | None = None
    ) -> None:
        """The ledger holds ``key`` as written with ``body`` (its resolved form) by ``run_id``."""
        self.states[parse_key(key)] = SyncedState(netsuite_id, payload_hash(body), None, run_id)


def ref(key: str) -> dict[str, str]:
    """A plan document's reference to another record's internal id."""
    return {"$ref": key}


def entry(
    key: str,
    payload: dict[str, Any],
    *,
    name: str | None = None,
    source: tuple[str, str] | None = None,
    create_only: Sequence[str] = (),
    replace: Sequence[str] = (),
) -> dict[str, Any]:
    """A plan-document entry whose ``depends_on`` are the records its payload refers to."""
    record = parse_key(key)
    document: dict[str, Any] = {
        "name": name or record.record_type,
        "type": record.record_type,
        "external_id": record.external_id,
        "depends_on": sorted(set(_refs_in(payload))),
        "replace": list(replace),
        "payload": payload,
        "source": list(source) if source else None,
    }
    if create_only:
        document["create_only"] = list(create_only)
    return document


def _refs_in(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        if set(value) == {"$ref"}:
            yield value["$ref"]
            return
        for item in value.values():
            yield from _refs_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs_in(item)


def context_for(
    netsuite: FakeNetSuite,
    ledger: FakeLedger,
    *,
    opportunity: str = OPPORTUNITY,
    run_id: str = RUN,
    calls: list[CallRecord] | None = None,
) -> UpsertContext:
    return UpsertContext(
        cast(NetSuiteClient, netsuite),
        cast(Ledger, ledger),
        run_id,
        opportunity,
        FLOW,
        calls if calls is not None else [],
    )


async def execute(
    entries: list[dict[str, Any]],
    netsuite: FakeNetSuite,
    ledger: FakeLedger,
    known_ids: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``execute_operations`` failing, rather than hanging, if a held record is never released."""
    running = execute_operations(entries, known_ids or {}, context_for(netsuite, ledger))
    return await asyncio.wait_for(running, PATIENCE)


async def happened(event: asyncio.Event) -> bool:
    """Whether ``event`` is set within ``PATIENCE``."""
    try:
        await asyncio.wait_for(event.wait(), PATIENCE)
    except TimeoutError:
        return False
    return True


def rejected(message: str) -> RemoteRejectedError:
    return RemoteRejectedError(message, system="netsuite", status=400, code="USER_ERROR")


def a_call() -> CallRecord:
    return CallRecord("netsuite", "PUT", "record/v1/customer/eid:SFACC-1", 204, 12.5)


# -- 1. references ----------------------------------------------------------------------------


async def test_a_record_is_sent_after_its_references_answer_and_carries_their_ids() -> None:
    netsuite = FakeNetSuite()
    netsuite.delay(CUSTOMER, 0.02)
    netsuite.delay(BILLING, 0.01)
    entries = [
        entry(CUSTOMER, {"companyName": "Acme"}),
        entry(PLAN, {"name": "Gold"}),
        entry(BILLING, {"customer": ref(CUSTOMER), "name": "Acme billing"}),
        entry(
            SUBSCRIPTION,
            {
                "customer": ref(CUSTOMER),
                "billingAccount": ref(BILLING),
                "priceBookLine": [{"subscriptionPlan": ref(PLAN), "quantity": 3}],
            },
            replace=["priceBookLine"],
        ),
    ]

    await execute(entries, netsuite, FakeLedger())

    subscription_start = netsuite.position(f"start {SUBSCRIPTION}")
    for dependency in (CUSTOMER, BILLING, PLAN):
        assert netsuite.position(f"answer {dependency}") < subscription_start
    assert netsuite.position(f"answer {CUSTOMER}") < netsuite.position(f"start {BILLING}")
    assert netsuite.body(SUBSCRIPTION) == {
        "customer": {"id": netsuite_id_of(CUSTOMER)},
        "billingAccount": {"id": netsuite_id_of(BILLING)},
        "priceBookLine": [{"subscriptionPlan": {"id": netsuite_id_of(PLAN)}, "quantity": 3}],
    }
    assert netsuite.body(BILLING) == {
        "customer": {"id": netsuite_id_of(CUSTOMER)},
        "name": "Acme billing",
    }
    assert [item.replace for item in netsuite.sent if item.key == SUBSCRIPTION] == [
        ("priceBookLine",)
    ]


# -- 2. dependency order, not waves -----------------------------------------------------------


async def test_a_record_goes_out_when_its_own_dependencies_answer_not_a_slow_peer() -> None:
    """With waves, the subscription would wait for the slow customer of the same wave."""
    netsuite = FakeNetSuite()
    customer_may_answer = asyncio.Event()
    netsuite.hold(CUSTOMER, customer_may_answer)
    entries = [
        entry(CUSTOMER, {"companyName": "Acme"}),
        entry(PLAN, {"name": "Gold"}),
        entry(SUBSCRIPTION, {"subscriptionPlan": ref(PLAN)}),
        entry(BILLING, {"customer": ref(CUSTOMER)}),
    ]
    running = asyncio.create_task(execute(entries, netsuite, FakeLedger()))

    subscription_went_out = await happened(netsuite.started(SUBSCRIPTION))
    customer_had_answered = netsuite.finished(CUSTOMER).is_set()
    billing_went_out = netsuite.started(BILLING).is_set()
    customer_may_answer.set()
    result = await running

    assert subscription_went_out
    assert not customer_had_answered
    assert not billing_went_out  # it does need the customer
    assert netsuite.position(f"answer {CUSTOMER}") < netsuite.position(f"start {BILLING}")
    assert netsuite.body(SUBSCRIPTION) == {"subscriptionPlan": {"id": netsuite_id_of(PLAN)}}
    assert result["written"] == sorted([CUSTOMER, PLAN, SUBSCRIPTION, BILLING])


# -- 3. unchanged records ---------------------------------------------------------------------


async def test_unchanged_records_are_not_sent_and_their_ledger_ids_serve_their_dependents() -> None:
    """The billing account's hash is of its resolved body, the customer's ledger id in it."""
    ledger = FakeLedger()
    ledger.remember(CUSTOMER, "900", {"companyName": "Acme"})
    ledger.remember(BILLING, "901", {"customer": {"id": "900"}, "name": "Acme billing"})
    netsuite = FakeNetSuite()
    entries = [
        entry(CUSTOMER, {"companyName": "Acme"}),
        entry(BILLING, {"customer": ref(CUSTOMER), "name": "Acme billing"}),
        entry(SUBSCRIPTION, {"customer": ref(CUSTOMER), "billingAccount": ref(BILLING)}),
    ]

    result = await execute(entries, netsuite, ledger)

    assert netsuite.sent_keys() == [SUBSCRIPTION]
    assert netsuite.body(SUBSCRIPTION) == {
        "customer": {"id": "900"},
        "billingAccount": {"id": "901"},
    }
    assert sorted(result["unchanged"]) == sorted([CUSTOMER, BILLING])
    assert result["written"] == [SUBSCRIPTION]
    assert result["ids"][CUSTOMER] == "900"
    assert result["ids"][BILLING] == "901"
    assert [recorded.keys() for recorded in ledger.recorded] == [{SUBSCRIPTION}]


async def test_a_record_this_run_wrote_before_a_crash_still_counts_as_written() -> None:
    """Regression: a deal this run wrote ended 'unchanged' after a crash.

    The step re-ran after the ledger recorded its writes but before DBOS's checkpoint, and
    found every record unchanged (seen in the killed-backfill test).
    """
    ledger = FakeLedger()
    ledger.remember(CUSTOMER, "900", {"companyName": "Acme"}, run_id=RUN)
    ledger.remember(BILLING, "901", {"customer": {"id": "900"}, "name": "Acme billing"}, "run-0")
    netsuite = FakeNetSuite()
    entries = [
        entry(CUSTOMER, {"companyName": "Acme"}),
        entry(BILLING, {"customer": ref(CUSTOMER), "name": "Acme billing"}),
    ]

    result = await execute(entries, netsuite, ledger)

    assert netsuite.sent_keys() == []
    assert result["written"] == [CUSTOMER]
    assert result["unchanged"] == [BILLING]
    assert ledger.recorded == []


@pytest.mark.parametrize(
    ("state", "sent_body"),
    [
        pytest.param(
            SyncedState("900", payload_hash({"companyName": "Acme Old"}), None),
            {"companyName": "Acme"},
            id="another_body_was_written",
        ),
        pytest.param(
            SyncedState(None, payload_hash({"companyName": "Acme"}), None),
            {"companyName": "Acme"},
            id="no_netsuite_id",
        ),
        pytest.param(  # the person's edit equals the body last written: sent all the same
            SyncedState(
                "900", payload_hash({"companyName": "Acme Ltd"}), {"companyName": "Acme Ltd"}
            ),
            {"companyName": "Acme Ltd"},
            id="edit_and_retry_override_waiting",
        ),
    ],
)
async def test_a_record_the_ledger_does_not_vouch_for_is_sent(
    state: SyncedState, sent_body: dict[str, Any]
) -> None:
    ledger = FakeLedger(states={parse_key(CUSTOMER): state})
    netsuite = FakeNetSuite()

    result = await execute([entry(CUSTOMER, {"companyName": "Acme"})], netsuite, ledger)

    assert netsuite.body(CUSTOMER) == sent_body
    assert result == {
        "ids": {CUSTOMER: netsuite_id_of(CUSTOMER)},
        "written": [CUSTOMER],
        "unchanged": [],
    }
    assert ledger.recorded[0].writes[0].payload_hash == payload_hash(sent_body)


async def test_create_only_fields_go_only_to_new_records_and_never_into_the_hash() -> None:
    """A second deal of the account must find the shared records unchanged (mapping.create_only)."""
    ledger = FakeLedger()
    ledger.remember(BILLING, "901", {"name": "Acme billing (old)"})
    netsuite = FakeNetSuite()
    entries = [
        entry(CUSTOMER, {"companyName": "Acme", "email": "ap@acme.test"}, create_only=["email"]),
        entry(
            BILLING, {"name": "Acme billing", "startDate": "2024-05-01"}, create_only=["startDate"]
        ),
    ]

    await execute(entries, netsuite, ledger)

    assert netsuite.body(CUSTOMER) == {"companyName": "Acme", "email": "ap@acme.test"}
    assert netsuite.body(BILLING) == {"name": "Acme billing"}
    hashes = {str(write.key): write.payload_hash for write in ledger.recorded[0].writes}
    assert hashes == {
        CUSTOMER: payload_hash({"companyName": "Acme"}),
        BILLING: payload_hash({"name": "Acme billing"}),
    }


# -- 4. failures ------------------------------------------------------------------------------


async def test_a_failure_skips_its_dependents_records_the_rest_and_raises_its_own_error() -> None:
    netsuite = FakeNetSuite()
    refusal = rejected("Invalid field value for currency")
    netsuite.refuse(BILLING, refusal)
    # the plan answers only after the billing account has failed: a failure stops nothing else
    netsuite.hold(PLAN, netsuite.finished(BILLING))
    ledger = FakeLedger()
    entries = [
        entry(CUSTOMER, {"companyName": "Acme"}),
        entry(
            BILLING,
            {"customer": ref(CUSTOMER)},
            name="billing_account",
            source=("Account", "001000000000001AAA"),
        ),
        entry(PLAN, {"name": "Gold"}),
        entry(SUBSCRIPTION, {"billingAccount": ref(BILLING), "subscriptionPlan": ref(PLAN)}),
    ]

    with pytest.raises(RemoteRejectedError) as raised:
        await execute(entries, netsuite, ledger)

    assert raised.value is refusal
    assert raised.value.context == {
        "record_type": "billingAccount",
        "external_id": "SFACC-1-BA",
        "record": "billing_account",
        "salesforce_record": "Account 001000000000001AAA",
    }
    assert SUBSCRIPTION not in netsuite.sent_keys()
    assert sorted(netsuite.sent_keys()) == sorted([CUSTOMER, BILLING, PLAN])
    assert len(ledger.recorded) == 1
    recorded = ledger.recorded[0]
    assert recorded.keys() == {CUSTOMER, PLAN}
    assert recorded.run_id == RUN
    assert {write.netsuite_id for write in recorded.writes} == {
        netsuite_id_of(CUSTOMER),
        netsuite_id_of(PLAN),
    }


async def test_of_two_failures_the_first_in_plan_order_is_raised_whichever_came_first() -> None:
    netsuite = FakeNetSuite()
    first, second = rejected("customer refused"), rejected("plan refused")
    netsuite.refuse(CUSTOMER, first)
    netsuite.refuse(PLAN, second)
    netsuite.hold(CUSTOMER, netsuite.finished(PLAN))
    entries = [entry(CUSTOMER, {"companyName": "Acme"}), entry(PLAN, {"name": "Gold"})]

    with pytest.raises(RemoteRejectedError) as raised:
        await execute(entries, netsuite, FakeLedger())

    assert netsuite.log.index(f"fail {PLAN}") < netsuite.log.index(f"fail {CUSTOMER}")
    assert raised.value is first
    assert second.context["external_id"] == "SFPLAN-1"  # named too, for the run history


# -- 5. ids of earlier checkpoints ------------------------------------------------------------


async def test_known_ids_resolve_references_to_records_written_by_earlier_steps() -> None:
    """The previous release's layout: one call per wave, earlier waves' ids from checkpoints."""
    netsuite = FakeNetSuite()
    ledger = FakeLedger()
    known = {CUSTOMER: "311", BILLING: "312"}
    entries = [entry(SUBSCRIPTION, {"customer": ref(CUSTOMER), "billingAccount": ref(BILLING)})]

    result = await execute(entries, netsuite, ledger, known_ids=known)

    assert netsuite.sent_keys() == [SUBSCRIPTION]
    assert netsuite.body(SUBSCRIPTION) == {
        "customer": {"id": "311"},
        "billingAccount": {"id": "312"},
    }
    assert result["ids"] == {SUBSCRIPTION: netsuite_id_of(SUBSCRIPTION)}
    assert ledger.asked == [[parse_key(SUBSCRIPTION)]]


# -- 6. the result and the one ledger transaction ---------------------------------------------


async def test_the_result_names_every_record_and_one_transaction_records_writes_and_calls() -> None:
    ledger = FakeLedger()
    ledger.remember(CUSTOMER, "900", {"companyName": "Acme"})
    netsuite = FakeNetSuite()
    netsuite.delay(ITEM, 0.02)  # answers last, yet sorts first among the written
    calls = [a_call()]
    entries = [
        entry(CUSTOMER, {"companyName": "Acme"}),
        entry(PLAN, {"name": "Gold"}, source=("Product2", "01t000000000001AAA")),
        entry(ITEM, {"itemId": "GOLD-1"}),
    ]

    running = execute_operations(entries, {}, context_for(netsuite, ledger, calls=calls))
    result = await asyncio.wait_for(running, PATIENCE)

    assert netsuite.position(f"answer {PLAN}") < netsuite.position(f"answer {ITEM}")
    assert result == {
        "ids": {CUSTOMER: "900", PLAN: netsuite_id_of(PLAN), ITEM: netsuite_id_of(ITEM)},
        "written": [ITEM, PLAN],
        "unchanged": [CUSTOMER],
    }
    assert len(ledger.recorded) == 1
    recorded = ledger.recorded[0]
    assert sorted(recorded.writes, key=lambda write: write.key) == [
        _synced(ITEM, {"itemId": "GOLD-1"}, source=None),
        _synced(PLAN, {"name": "Gold"}, source=SourceRecord("Product2", "01t000000000001AAA")),
    ]
    assert recorded.calls == [a_call()]
    assert calls == []  # stored with the writes, so the step does not store them again


async def test_nothing_written_means_no_ledger_transaction_and_the_calls_stay() -> None:
    ledger = FakeLedger()
    ledger.remember(CUSTOMER, "900", {"companyName": "Acme"})
    netsuite = FakeNetSuite()
    calls = [a_call()]

    only_customer = [entry(CUSTOMER, {"companyName": "Acme"})]
    running = execute_operations(only_customer, {}, context_for(netsuite, ledger, calls=calls))
    result = await asyncio.wait_for(running, PATIENCE)

    assert result == {"ids": {CUSTOMER: "900"}, "written": [], "unchanged": [CUSTOMER]}
    assert netsuite.sent == []
    assert ledger.recorded == []
    assert calls == [a_call()]


def _synced(key: str, body: dict[str, Any], *, source: SourceRecord | None) -> SyncedWrite:
    record = parse_key(key)
    return SyncedWrite(
        key=record,
        group=record_group(record.record_type),
        netsuite_id=netsuite_id_of(key),
        payload_hash=payload_hash(body),
        opportunity_id=OPPORTUNITY,
        source=source,
        flow=FLOW,
    )


# -- 7. two deals sharing a record ------------------------------------------------------------


def _deal_entries(marker: str, subscription: str) -> list[dict[str, Any]]:
    """A deal sharing the plan; ``marker`` is sent once the deal's plan task has claimed it."""
    return [
        entry(PLAN, {"name": "Gold", "billingFrequency": "MONTHLY"}),
        entry(marker, {"itemId": marker}),
        entry(subscription, {"subscriptionPlan": ref(PLAN)}),
    ]


async def test_two_deals_sharing_a_record_with_the_same_body_send_it_once() -> None:
    netsuite = FakeNetSuite()
    ledger = FakeLedger()
    first_marker, second_marker = "serviceSaleItem/MARK-A", "serviceSaleItem/MARK-B"
    # Tasks start in plan order: once both markers are sent, both deals have reached the plan.
    netsuite.hold(PLAN, netsuite.started(first_marker), netsuite.started(second_marker))
    first_deal = execute_operations(
        _deal_entries(first_marker, "subscription/SFOPP-A"),
        {},
        context_for(netsuite, ledger, opportunity="006A", run_id="run-A"),
    )
    second_deal = execute_operations(
        _deal_entries(second_marker, "subscription/SFOPP-B"),
        {},
        context_for(netsuite, ledger, opportunity="006B", run_id="run-B"),
    )

    first, second = await asyncio.wait_for(asyncio.gather(first_deal, second_deal), PATIENCE)

    assert netsuite.sent_keys().count(PLAN) == 1
    for result, subscription in ((first, "subscription/SFOPP-A"), (second, "subscription/SFOPP-B")):
        assert result["ids"][PLAN] == netsuite_id_of(PLAN)
        assert PLAN in result["written"]
        assert netsuite.body(subscription) == {"subscriptionPlan": {"id": netsuite_id_of(PLAN)}}
    assert writes_of_this_loop().in_flight() == 0  # forgotten once recorded


async def test_when_the_shared_write_fails_the_other_deal_sends_its_own() -> None:
    """Only the deal whose write failed fails; the other needs the record as much."""
    netsuite = FakeNetSuite()
    ledger = FakeLedger()
    netsuite.refuse(PLAN, rejected("NetSuite refused the plan once"))
    first_marker, second_marker = "serviceSaleItem/MARK-A", "serviceSaleItem/MARK-B"
    netsuite.hold(PLAN, netsuite.started(first_marker), netsuite.started(second_marker))
    deals = [
        execute_operations(
            _deal_entries(marker, subscription), {}, context_for(netsuite, ledger, run_id=run_id)
        )
        for marker, subscription, run_id in (
            (first_marker, "subscription/SFOPP-A", "run-A"),
            (second_marker, "subscription/SFOPP-B", "run-B"),
        )
    ]

    outcomes = await asyncio.wait_for(asyncio.gather(*deals, return_exceptions=True), PATIENCE)

    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    results = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    assert len(failures) == 1
    assert isinstance(failures[0], RemoteRejectedError)
    assert len(results) == 1
    assert netsuite.sent_keys().count(PLAN) == 2
    assert results[0]["ids"][PLAN] == netsuite_id_of(PLAN)
    plan_writes = [r for r in ledger.recorded if PLAN in r.keys()]
    assert len(plan_writes) == 1  # recorded by the deal that wrote it
    assert writes_of_this_loop().in_flight() == 0
