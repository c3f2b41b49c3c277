"""``NetSuiteClient`` against the emulator process over real HTTP, in every auth mode.

One emulator serves the module; each test starts from ``/__emulator__/reset`` (reference data
only) and makes its own clients, so tests do not see each other's records. Every test runs with
OAuth 2.0 (PS256 and ES256 certificates) and with TBA. Contract sections (§) refer to
``shared/contracts/netsuite.md``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from dealbridge.connectors.netsuite.client import eid
from dealbridge.connectors.netsuite.suiteql import iter_by_key, sql_literal
from dealbridge.errors import NotFoundError
from tests.support.netsuite import (
    AUTH_MODES,
    AuthMode,
    ClientRun,
    ClientRuns,
    EmulatorControl,
    Info,
    running_emulator,
)

pytestmark = pytest.mark.anyio

PARENT_SUBSIDIARY = {"id": "1"}  # "Parent Company" in the emulator's reference data
USD = {"id": "1"}
TWELVE_MONTHS = {"id": "1"}
MONTHLY_SCHEDULE = {"id": "1"}
ITEM = {"PLAT-PRO": "2", "SEAT-STD": "4", "SUPPORT-PRM": "10", "ONBOARD": "12"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Info]:
    with running_emulator(tmp_path_factory.mktemp("netsuite")) as info:
        yield info


@pytest.fixture(scope="module")
def control(emulator: Info) -> Iterator[EmulatorControl]:
    with EmulatorControl(emulator) as hooks:
        yield hooks


@pytest.fixture(autouse=True)
def _fresh_emulator(control: EmulatorControl) -> None:
    control.fresh()


@pytest.fixture
def clients(emulator: Info) -> Iterator[ClientRuns]:
    runs = ClientRuns(emulator)
    yield runs
    runs.assert_nothing_leaked()


@pytest.fixture(params=AUTH_MODES)
def mode(request: pytest.FixtureRequest) -> AuthMode:
    auth_mode: AuthMode = request.param
    return auth_mode


@pytest.fixture
def ns(clients: ClientRuns, mode: AuthMode) -> ClientRun:
    """A client in this test's auth mode with default retry settings."""
    return clients(mode)


def customer(name: str, **fields: Any) -> dict[str, Any]:
    return {"companyName": name, "subsidiary": PARENT_SUBSIDIARY, **fields}


def address(addr1: str, city: str = "Springfield") -> dict[str, Any]:
    return {"addressBookAddress": {"addr1": addr1, "city": city, "country": {"id": "US"}}}


def lines(record: dict[str, Any], sublist: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = record[sublist]["items"]
    return items


# -- record service (§2) ----------------------------------------------------------------------


async def test_create_returns_the_location_id_and_get_shows_refs_links_and_sublists(
    ns: ClientRun, emulator: Info
) -> None:
    async with ns.client as client:
        new_id = await client.create(
            "customer", customer("Create Co", addressBook={"items": [address("1 Main St")]})
        )
        plain = await client.get("customer", new_id)
        expanded = await client.get("customer", new_id, expand_sub_resources=True)
        narrow = await client.get("customer", new_id, fields=["companyName", "subsidiary"])

    location = ns.wire.api()[0].headers["Location"]
    assert location == f"{emulator['base_url']}/record/v1/customer/{new_id}"
    assert plain["id"] == new_id
    assert plain["companyName"] == "Create Co"
    assert plain["links"] == [{"rel": "self", "href": location}]
    assert plain["subsidiary"]["id"] == "1"
    assert plain["subsidiary"]["refName"] == "Parent Company"
    assert plain["subsidiary"]["links"][0]["href"].endswith("/record/v1/subsidiary/1")
    assert plain["addressBook"] == {"links": [{"rel": "self", "href": f"{location}/addressBook"}]}
    [line] = lines(expanded, "addressBook")
    assert line["addressBookAddress"]["addr1"] == "1 Main St"
    assert line["addressBookAddress"]["country"]["id"] == "US"
    assert ns.wire.api()[2].request.url.params["expandSubResources"] == "true"
    assert set(narrow) == {"links", "id", "companyName", "subsidiary"}
    assert ns.wire.api()[3].request.url.params["fields"] == "companyName,subsidiary"


async def test_update_keeps_omitted_fields_and_null_clears(ns: ClientRun) -> None:
    async with ns.client as client:
        new_id = await client.create(
            "customer", customer("Patch Co", email="ap@patch.example", phone="555-0100")
        )
        patched_id = await client.update(
            "customer", new_id, {"phone": None, "comments": "renewal due"}
        )
        record = await client.get("customer", new_id)

    assert patched_id == new_id
    assert ns.wire.api()[1].request.method == "PATCH"
    assert record["companyName"] == "Patch Co"
    assert record["email"] == "ap@patch.example"
    assert record["comments"] == "renewal due"
    assert "phone" not in record


async def test_upsert_by_external_id_and_get_patch_delete_by_eid(ns: ClientRun) -> None:
    external_id = "SFACC-001UPSERT000000AAA"
    async with ns.client as client:
        created = await client.upsert("customer", external_id, customer("Upsert Co"))
        again = await client.upsert(
            "customer", external_id, customer("Upsert Co II", email="billing@upsert.example")
        )
        by_eid = await client.get("customer", eid(external_id))
        patched = await client.update("customer", eid(external_id), {"email": None})
        after_patch = await client.get("customer", created)
        await client.delete("customer", eid(external_id))
        with pytest.raises(NotFoundError) as caught:
            await client.get("customer", eid(external_id))
        await client.delete("customer", eid(external_id), missing_ok=True)

    assert created == again == patched == by_eid["id"]
    assert by_eid["externalId"] == external_id
    assert by_eid["companyName"] == "Upsert Co II"
    assert after_patch["companyName"] == "Upsert Co II"
    assert "email" not in after_patch
    assert [x.request.method for x in ns.wire.api()[:2]] == ["PUT", "PUT"]
    assert ns.wire.api()[0].request.url.path.endswith(f"/record/v1/customer/eid:{external_id}")
    assert (caught.value.status, caught.value.code) == (404, "NONEXISTENT_ID")


async def test_delete_then_get_is_not_found(ns: ClientRun) -> None:
    async with ns.client as client:
        new_id = await client.create("customer", customer("Short Lived Co"))
        await client.delete("customer", new_id)
        with pytest.raises(NotFoundError) as caught:
            await client.get("customer", new_id)
        with pytest.raises(NotFoundError):
            await client.delete("customer", new_id)

    error = caught.value
    assert (error.status, error.code, error.system) == (404, "NONEXISTENT_ID", "netsuite")
    assert error.operation == f"GET customer/{new_id}"
    assert not error.retryable


async def test_list_ids_filters_with_q_and_follows_pages(ns: ClientRun) -> None:
    async with ns.client as client:
        wanted = [await client.create("customer", customer(f"Paged {n}")) for n in range(7)]
        await client.create("customer", customer("Other Co"))
        listed = [
            record_id
            async for record_id in client.list_ids(
                "customer", q='companyName START_WITH "Paged"', page_size=3
            )
        ]
        everything = [record_id async for record_id in client.list_ids("customer")]

    assert listed == wanted
    assert len(everything) == 8
    pages = [x.request.url.params for x in ns.wire.api() if x.request.method == "GET"]
    assert [(p["limit"], p["offset"]) for p in pages[:3]] == [("3", "0"), ("3", "3"), ("3", "6")]
    assert {p["q"] for p in pages[:3]} == {'companyName START_WITH "Paged"'}


# -- sublists (§2.2) --------------------------------------------------------------------------


async def test_keyed_sublist_merges_by_line_number_and_replace_drops_other_lines(
    ns: ClientRun,
) -> None:
    members = [
        {"lineNumber": 1, "item": {"id": ITEM["PLAT-PRO"]}, "subscriptionLineType": "2"},
        {"lineNumber": 2, "item": {"id": ITEM["SEAT-STD"]}, "subscriptionLineType": "2"},
    ]
    merge = [
        {"lineNumber": 2, "isRequired": True},
        {"lineNumber": 3, "item": {"id": ITEM["SUPPORT-PRM"]}, "subscriptionLineType": "2"},
    ]
    replacement = [
        {"lineNumber": 1, "billingMode": "IN_ARREARS"},
        {"lineNumber": 5, "item": {"id": ITEM["ONBOARD"]}, "subscriptionLineType": "1"},
    ]
    async with ns.client as client:
        plan = await client.create(
            "subscriptionPlan", {"itemId": "Keyed Plan", "member": {"items": members}}
        )
        await client.update("subscriptionPlan", plan, {"member": {"items": merge}})
        merged = await client.get("subscriptionPlan", plan, expand_sub_resources=True)
        await client.update(
            "subscriptionPlan", plan, {"member": {"items": replacement}}, replace=["member"]
        )
        replaced = await client.get("subscriptionPlan", plan, expand_sub_resources=True)

    merged_lines = {line["lineNumber"]: line for line in lines(merged, "member")}
    assert sorted(merged_lines) == [1, 2, 3]
    assert merged_lines[2]["isRequired"] is True
    assert merged_lines[2]["item"]["id"] == ITEM["SEAT-STD"]  # kept: not in the PATCH line
    assert merged_lines[3]["item"]["refName"] == "SUPPORT-PRM"
    replaced_lines = {line["lineNumber"]: line for line in lines(replaced, "member")}
    assert sorted(replaced_lines) == [1, 5]
    assert replaced_lines[1]["billingMode"] == "IN_ARREARS"
    assert replaced_lines[1]["item"]["id"] == ITEM["PLAT-PRO"]
    assert ns.wire.api()[3].request.url.params["replace"] == "member"


async def test_non_keyed_sublist_appends_and_replace_replaces_all_lines(ns: ClientRun) -> None:
    external_id = "SFACC-001ADDRESSES00000AAA"
    async with ns.client as client:
        new_id = await client.create(
            "customer",
            customer("Address Co", externalId=external_id, addressBook={"items": [address("A")]}),
        )
        await client.update("customer", new_id, {"addressBook": {"items": [address("B")]}})
        appended = await client.get("customer", new_id, expand_sub_resources=True)
        await client.update(
            "customer", new_id, {"addressBook": {"items": [address("C")]}}, replace=["addressBook"]
        )
        replaced = await client.get("customer", new_id, expand_sub_resources=True)
        await client.upsert(
            "customer",
            external_id,
            {"addressBook": {"items": [address("D"), address("E")]}},
            replace=["addressBook"],
        )
        upserted = await client.get("customer", new_id, expand_sub_resources=True)

    def streets(record: dict[str, Any]) -> list[tuple[int, str]]:
        return [
            (line["line"], line["addressBookAddress"]["addr1"])
            for line in lines(record, "addressBook")
        ]

    assert streets(appended) == [(1, "A"), (2, "B")]
    assert streets(replaced) == [(1, "C")]
    assert streets(upserted) == [(1, "D"), (2, "E")]


# -- SuiteQL (§4) -----------------------------------------------------------------------------


async def test_suiteql_pages_and_returns_strings_t_f_and_omits_nulls(ns: ClientRun) -> None:
    query = (
        "SELECT id, companyname, email, isinactive FROM customer "
        "WHERE companyname LIKE 'Query %' ORDER BY id"
    )
    async with ns.client as client:
        ids = [
            await client.create(
                "customer",
                customer(
                    f"Query {n}",
                    isInactive=n % 2 == 1,
                    **({"email": f"q{n}@query.example"} if n % 2 == 0 else {}),
                ),
            )
            for n in range(5)
        ]
        paged = [row async for row in client.suiteql(query, page_size=2)]
        whole = await client.suiteql_all(query)
        [item] = await client.suiteql_all("SELECT id, itemid, baseprice FROM item WHERE id = 1")

    assert paged == whole
    assert [row["id"] for row in paged] == ids
    assert paged[0] == {
        "id": ids[0],
        "companyname": "Query 0",
        "email": "q0@query.example",
        "isinactive": "F",
    }
    assert paged[1] == {"id": ids[1], "companyname": "Query 1", "isinactive": "T"}
    assert item == {"id": "1", "itemid": "PLAT-ENT", "baseprice": "60000"}
    pages = [x for x in ns.wire.api() if x.request.url.path.endswith("/query/v1/suiteql")]
    assert [x.request.url.params["offset"] for x in pages[:3]] == ["0", "2", "4"]
    assert {x.request.url.params["limit"] for x in pages[:3]} == {"2"}
    assert all(x.request.headers["Prefer"] == "transient" for x in pages)
    assert pages[0].json() == {"q": query}


async def test_suiteql_by_key_reads_every_row_in_key_order(ns: ClientRun) -> None:
    where = f"companyname LIKE {sql_literal('Key %')}"
    async with ns.client as client:
        ids = [await client.create("customer", customer(f"Key {n}")) for n in range(5)]
        await client.create("customer", customer("Not Keyed"))
        rows = [
            row
            async for row in client.suiteql_by_key(
                ["id", "companyname"], "customer", where, page_size=2
            )
        ]
        # The restart "after the last key" needs 100,000 rows to happen through the public
        # method, so the pager it uses is driven with the client's own page fetcher instead.
        keyed = [
            row
            async for row in iter_by_key(
                client._suiteql_page,
                ["companyname"],
                "customer",
                where,
                page_size=2,
                switch_after=0,
            )
        ]

    assert [row["id"] for row in rows] == ids
    assert [row["companyname"] for row in rows] == [f"Key {n}" for n in range(5)]
    assert [row["id"] for row in keyed] == ids
    queries = [x.json()["q"] for x in ns.wire.api() if x.request.url.path.endswith("/suiteql")]
    keyed_queries = queries[-3:]
    assert all(q.endswith("ORDER BY id") for q in queries)
    assert f"id > {ids[1]}" in keyed_queries[1]
    assert f"id > {ids[3]}" in keyed_queries[2]


# -- governance (§6) --------------------------------------------------------------------------


async def test_governance_limits_are_read_and_can_replace_the_configured_limit(
    clients: ClientRuns, mode: AuthMode
) -> None:
    run = clients(mode, concurrency_limit=3, read_governance_limits=True)
    async with run.client as client:
        limits = await client.governance_limits()
        await client.get("subsidiary", "1")

    assert limits.accountConcurrencyLimit == 15
    assert limits.effective_limit() == 15
    assert (run.limiter.ceiling, run.limiter.cap) == (15, 15)


# -- the SuiteBilling flow (§3) ---------------------------------------------------------------


async def price_plan(run: ClientRun, *tiers: tuple[float, float]) -> str:
    """A per-unit price plan with ``(fromVal, value)`` tiers (contracts §3 "price plan")."""
    items = [{"fromVal": start, "pricingOption": {"id": "-101"}, "value": v} for start, v in tiers]
    return await run.client.create(
        "pricePlan", {"currency": USD, "pricePlanType": "2", "priceTiers": {"items": items}}
    )


def interval(line: int, plan: str, frequency: str = "MONTHLY") -> dict[str, Any]:
    return {
        "subscriptionPlanLineNumber": line,
        "pricePlan": {"id": plan},
        "frequency": frequency,
        "repeatEvery": "1",
        "startOffsetUnit": "MONTH",
        "startOffsetValue": 1,
    }


def member(line: int, item: str, line_type: str, *, required: bool) -> dict[str, Any]:
    return {
        "lineNumber": line,
        "item": {"id": ITEM[item]},
        "subscriptionLineType": line_type,
        "isRequired": required,
        "billingMode": "IN_ADVANCE",
        "renewalOption": "ALWAYS",
    }


async def catalogue(run: ClientRun) -> tuple[str, str]:
    """A plan of four members and its USD price book; returns (plan id, price book id)."""
    client = run.client
    members = [
        member(1, "PLAT-PRO", "2", required=True),
        member(2, "SEAT-STD", "2", required=True),
        member(3, "SUPPORT-PRM", "2", required=False),
        member(4, "ONBOARD", "1", required=False),
    ]
    plan = await client.upsert(
        "subscriptionPlan",
        "SFPLAN-01t000000000PLANAAA",
        {"itemId": "Platform Bundle", "initialTerm": TWELVE_MONTHS, "member": {"items": members}},
        replace=["member"],
    )
    platform = await price_plan(run, (0, 2000.0))
    seats = await price_plan(run, (0, 50.0), (20, 45.0))
    support = await price_plan(run, (0, 1000.0))
    onboarding = await price_plan(run, (0, 7500.0))
    intervals = [
        interval(1, platform),
        interval(2, seats),
        interval(3, support),
        interval(4, onboarding, "ONETIME"),
    ]
    book = await client.upsert(
        "priceBook",
        "SFPB-01t000000000PLANAAA-USD",
        {
            "name": "Platform Bundle USD",
            "subscriptionPlan": {"id": plan},
            "currency": USD,
            "priceInterval": {"items": intervals},
        },
        replace=["priceInterval"],
    )
    return plan, book


async def test_suitebilling_flow_from_customer_to_package(
    ns: ClientRun, control: EmulatorControl
) -> None:
    account_id, quote_line = "001000000000FLOWAAA", "a0x000000000FLOWAAA"
    async with ns.client as client:
        customer_id = await client.upsert("customer", f"SFACC-{account_id}", customer("Flow Co"))
        billing_account = await client.upsert(
            "billingAccount",
            f"SFBA-{account_id}-USD-MONTHLY",
            {
                "name": "Flow Co USD monthly",
                "customer": {"id": customer_id},
                "billingSchedule": MONTHLY_SCHEDULE,
                "currency": USD,
                "startDate": "2025-03-01",
            },
        )
        plan, book = await catalogue(ns)
        subscription_eid = f"SFSUB-{quote_line}"
        subscription = await client.upsert(
            "subscription",
            subscription_eid,
            {
                "name": "Flow Co platform",
                "customer": {"id": customer_id},
                "billingAccount": {"id": billing_account},
                "subscriptionPlan": {"id": plan},
                "priceBook": {"id": book},
                "initialTerm": TWELVE_MONTHS,
                "startDate": "2025-03-01",
            },
        )
        draft = await client.get("subscription", subscription, expand_sub_resources=True)
        await client.update(
            "subscription",
            eid(subscription_eid),
            {
                "subscriptionLine": {"items": [{"lineNumber": 3, "isIncluded": True}]},
                "priceInterval": {
                    "items": [
                        {"subscriptionPlanLineNumber": 1, "discount": 50.0},
                        {"subscriptionPlanLineNumber": 2, "quantity": 25},
                    ]
                },
            },
        )
        priced = await client.get("subscription", subscription, expand_sub_resources=True)
        package = await client.upsert(
            "customrecord_cpq_package",
            f"SFPKG-{quote_line}",
            {
                "name": "Platform Bundle x1",
                "custrecord_cpq_subscription": {"id": subscription},
                "custrecord_cpq_plan": {"id": plan},
                "custrecord_cpq_quantity": 1,
                "custrecord_cpq_net_total": 35125.0,
                "custrecord_cpq_quote_line": quote_line,
            },
        )
        stored_package = await client.get("customrecord_cpq_package", package)
        # Values reach the queries through sql_literal only.
        [package_row] = await client.suiteql_all(
            "SELECT id, custrecord_cpq_subscription FROM customrecord_cpq_package "  # noqa: S608
            f"WHERE externalid = {sql_literal(f'SFPKG-{quote_line}')}"
        )
        line_rows = await client.suiteql_all(
            "SELECT linenumber, subscriptionlinestatus FROM subscriptionline "  # noqa: S608
            f"WHERE subscription = {sql_literal(subscription)} ORDER BY linenumber"
        )

    assert draft["status"] == "DRAFT"
    assert draft["billingAccount"]["refName"] == "Flow Co USD monthly"
    assert draft["endDate"] == "2026-02-28"
    draft_lines = {line["lineNumber"]: line for line in lines(draft, "subscriptionLine")}
    assert sorted(draft_lines) == [1, 2, 3, 4]  # defaulted from the plan's members
    assert draft_lines[2]["item"]["id"] == ITEM["SEAT-STD"]
    assert [draft_lines[n]["subscriptionLineStatus"] for n in (1, 3)] == ["DRAFT", "NOT_INCLUDED"]
    draft_intervals = {i["subscriptionPlanLineNumber"]: i for i in lines(draft, "priceInterval")}
    assert sorted(draft_intervals) == [1, 2, 3, 4]  # defaulted from the price book
    assert draft_intervals[4]["frequency"] == "ONETIME"
    assert (draft_intervals[2]["quantity"], draft_intervals[2]["price"]) == (1.0, 50.0)

    priced_lines = {line["lineNumber"]: line for line in lines(priced, "subscriptionLine")}
    assert priced_lines[3]["isIncluded"] is True
    assert priced_lines[3]["subscriptionLineStatus"] == "DRAFT"
    priced_intervals = {i["subscriptionPlanLineNumber"]: i for i in lines(priced, "priceInterval")}
    assert priced_intervals[1]["discount"] == 50.0
    assert priced_intervals[1]["quantity"] == 1.0  # omitted in the PATCH line: kept
    assert (priced_intervals[2]["quantity"], priced_intervals[2]["price"]) == (25.0, 45.0)
    assert priced_intervals[2]["discount"] == 0.0

    assert stored_package["externalId"] == f"SFPKG-{quote_line}"
    assert stored_package["custrecord_cpq_subscription"]["id"] == subscription
    assert stored_package["custrecord_cpq_quote_line"] == quote_line
    assert package_row == {"id": package, "custrecord_cpq_subscription": subscription}
    assert [(r["linenumber"], r["subscriptionlinestatus"]) for r in line_rows] == [
        ("1", "DRAFT"),
        ("2", "DRAFT"),
        ("3", "DRAFT"),
        ("4", "NOT_INCLUDED"),
    ]
    assert [r["externalId"] for r in control.records("subscription")] == [subscription_eid]


# -- idempotency (§9) -------------------------------------------------------------------------


async def count_by_external_id(run: ClientRun, record_type: str, external_id: str) -> int:
    table = record_type.lower()
    [row] = await run.client.suiteql_all(
        f"SELECT COUNT(*) AS n FROM {table} WHERE externalid = {sql_literal(external_id)}"  # noqa: S608
    )
    return int(row["n"])


async def test_a_hundred_sequential_upserts_make_one_record(
    ns: ClientRun, control: EmulatorControl
) -> None:
    external_id = "SFACC-001000000000SEQAAA"
    async with ns.client as client:
        ids = [
            await client.upsert("customer", external_id, customer(f"Sequential {n}"))
            for n in range(100)
        ]
        count = await count_by_external_id(ns, "customer", external_id)
        record = await client.get("customer", eid(external_id))

    assert len(set(ids)) == 1
    assert count == 1
    assert record["companyName"] == "Sequential 99"
    stored = control.records("customer")
    assert [(r["id"], r["externalId"]) for r in stored] == [(ids[0], external_id)]


async def test_twenty_concurrent_upserts_make_one_record(
    clients: ClientRuns, mode: AuthMode, control: EmulatorControl
) -> None:
    external_id = "SFACC-001000000000CONCAAA"
    control.faults(latency_ms=50)  # so that the calls overlap in the emulator for certain
    run = clients(mode, concurrency_limit=10)
    async with run.client as client:
        ids = await asyncio.gather(
            *(
                client.upsert("customer", external_id, customer(f"Concurrent {n}"))
                for n in range(20)
            )
        )
        count = await count_by_external_id(run, "customer", external_id)

    assert len(ids) == 20
    assert len(set(ids)) == 1
    assert count == 1
    stored = [r for r in control.records("customer") if r.get("externalId") == external_id]
    assert [r["id"] for r in stored] == [ids[0]]
    assert control.stats()["max_in_flight"] > 1  # the calls really overlapped
