"""``SalesforceClient`` against the emulator process over real HTTP, in both auth modes.

One emulator serves the module (one more for ``--tls``); each test starts from an empty org
(``/__emulator__/reset``) and loads what it needs through the control API, so tests do not see
each other's records. API calls are counted from the client's own ``CallRecord``s. Contract
sections (§) refer to ``shared/contracts/salesforce.md``. Errors, faults and limits live in
``test_salesforce_client_errors.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from dealbridge.connectors.salesforce.deal_graph import fetch_deal_graph
from dealbridge.connectors.salesforce.deal_models import DealGraph
from dealbridge.connectors.salesforce.results import SubRequest
from dealbridge.connectors.salesforce.soql import soql
from dealbridge.errors import (
    DealbridgeError,
    DuplicateError,
    NotFoundError,
    RemoteRejectedError,
    ValidationError,
)
from tests.support.salesforce import (
    AUTH_MODES,
    AuthMode,
    Info,
    Row,
    SalesforceHooks,
    make_client,
    model_mismatches,
    running_salesforce,
)

pytestmark = pytest.mark.anyio

LOCATOR = "GET query locator"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Info]:
    with running_salesforce(tmp_path_factory.mktemp("sf-client"), deals=0) as info:
        yield info


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Info]:
    with running_salesforce(tmp_path_factory.mktemp("sf-tls"), deals=0, tls=True) as info:
        yield info


@pytest.fixture
def hooks(emulator: Info) -> SalesforceHooks:
    control = SalesforceHooks(emulator)
    control.reset()
    return control


@pytest.fixture(params=AUTH_MODES)
def mode(request: pytest.FixtureRequest) -> AuthMode:
    auth_mode: AuthMode = request.param
    return auth_mode


def accounts(count: int, prefix: str = "Bulk") -> list[dict[str, Any]]:
    return [{"Name": f"{prefix} {n:05d}"} for n in range(count)]


# -- auth (§2) ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tls", [False, True], ids=["http", "tls"])
async def test_both_auth_modes_log_in_and_query(
    emulator: Info, tls_emulator: Info, mode: AuthMode, tls: bool
) -> None:
    info = tls_emulator if tls else emulator
    control = SalesforceHooks(info)
    control.reset()
    [account_id] = control.load({"Account": [{"Name": "Login Co"}]})["Account"]
    run = make_client(info, mode)
    async with run.client as client:
        rows = await client.query_all(soql("SELECT Id, Name FROM Account"))

    assert [(row["Id"], row["Name"]) for row in rows] == [(account_id, "Login Co")]
    assert info["instance_url"].startswith("https://" if tls else "http://")
    assert run.settings.ca_bundle == (info["ca_cert"] if tls else None)
    [token] = run.token_calls()
    assert (token.status, token.extra["grant"]) == (200, mode)
    assert [(call.status, call.attempt) for call in run.api_calls()] == [(200, 1)]
    assert control.stats()["token_requests"] == 1


async def test_an_expired_session_is_renewed_once_and_the_call_succeeds(
    emulator: Info, hooks: SalesforceHooks, mode: AuthMode
) -> None:
    hooks.load({"Account": accounts(2)})
    run = make_client(emulator, mode)
    async with run.client as client:
        before = await client.query_all(soql("SELECT Id FROM Account"))
        assert hooks.expire_tokens() >= 1
        after = await client.query_all(soql("SELECT Id FROM Account"))
        again = await client.query_all(soql("SELECT Id FROM Account"))

    assert len(before) == len(after) == len(again) == 2
    assert len(run.token_calls()) == 2  # the first login and exactly one renewal
    outcomes = [(call.status, call.attempt, call.error_code) for call in run.api_calls()]
    assert outcomes == [
        (200, 1, None),
        (401, 1, "INVALID_SESSION_ID"),
        (200, 2, None),
        (200, 1, None),
    ]
    assert hooks.stats()["auth_failures"] == {"session": 1}


async def test_concurrent_calls_on_an_expired_session_renew_it_once(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    hooks.load({"Account": accounts(3)})
    run = make_client(emulator)
    async with run.client as client:
        await client.query_all(soql("SELECT Id FROM Account"))
        hooks.expire_tokens()
        results = await asyncio.gather(
            *(client.query_all(soql("SELECT Id FROM Account")) for _ in range(8))
        )

    assert [len(rows) for rows in results] == [3] * 8
    assert len(run.token_calls()) == 2
    assert sum(call.status == 200 for call in run.api_calls()) == 9


async def test_an_untrusted_certificate_is_a_permanent_error_tried_once(tls_emulator: Info) -> None:
    """Without the emulator's CA the TLS handshake can never succeed: retrying cannot help.

    Fails today (product bug): ``errors.error_from_exception`` turns every ``httpx.ConnectError``
    — a certificate verification failure included — into a retryable ``TransientError``, so the
    client asks the token endpoint ``max_attempts`` times and the sync engine would park a
    configuration mistake as an outage and retry it for ever.
    """
    run = make_client(tls_emulator, ca_bundle=None)
    async with run.client as client:
        with pytest.raises(DealbridgeError) as raised:
            await client.query_all(soql("SELECT Id FROM Account"))

    assert raised.value.retryable is False
    assert "certificate" in str(raised.value).lower()
    assert "ca_bundle" in str(raised.value)
    assert len(run.token_calls()) == 1
    assert run.api_calls() == []


# -- queries (§1.2, §1.3) -------------------------------------------------------------------------


async def test_query_all_pages_through_5000_rows_by_next_records_url(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    hooks.load({"Account": accounts(5000)})
    run = make_client(emulator)
    async with run.client as client:
        rows = await client.query_all(
            soql("SELECT Id, Name FROM Account ORDER BY Name"), batch_size=200
        )
        first = await client.query(soql("SELECT Id FROM Account"), batch_size=200)

    assert [row["Name"] for row in rows] == [f"Bulk {n:05d}" for n in range(5000)]
    assert len({row["Id"] for row in rows}) == 5000
    assert len(run.api_calls("GET query")) == 2
    assert len(run.api_calls(LOCATOR)) == 5000 // 200 - 1
    assert (first.total_size, first.done, len(first.records)) == (5000, False, 200)
    assert first.next_records_url is not None
    assert first.next_records_url.startswith("/services/data/v65.0/query/01g")


async def test_child_lists_longer_than_a_batch_are_completed(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    [big, small] = hooks.load({"Account": [{"Name": "A Big"}, {"Name": "B Small"}]})["Account"]
    contacts = [{"AccountId": big, "LastName": f"C{n:04d}"} for n in range(450)]
    contacts += [{"AccountId": small, "LastName": f"S{n}"} for n in range(3)]
    hooks.load({"Contact": contacts})
    q = soql(
        "SELECT Id, Name, (SELECT Id, LastName FROM Contacts ORDER BY LastName) "
        "FROM Account ORDER BY Name"
    )
    run = make_client(emulator)
    async with run.client as client:
        page = await client.query(q, batch_size=200)
        rows = await client.query_all(q, batch_size=200)

    cut = page.records[0]["Contacts"]
    assert (cut["done"], len(cut["records"]), cut["totalSize"]) == (False, 200, 450)
    assert "nextRecordsUrl" in cut  # the emulator really paged the child list
    children = {row["Name"]: row["Contacts"] for row in rows}
    assert [c["LastName"] for c in children["A Big"]["records"]] == [
        f"C{n:04d}" for n in range(450)
    ]
    assert children["A Big"]["done"] is True
    assert "nextRecordsUrl" not in children["A Big"]
    assert [c["LastName"] for c in children["B Small"]["records"]] == ["S0", "S1", "S2"]


async def test_grandchild_lists_in_nested_subqueries_are_completed(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    [account] = hooks.load({"Account": [{"Name": "Nest Co"}]})["Account"]
    [opp] = hooks.load(
        {
            "Opportunity": [
                {
                    "Name": "Nested",
                    "AccountId": account,
                    "StageName": "Prospecting",
                    "CloseDate": "2026-06-30",
                }
            ]
        }
    )["Opportunity"]
    quotes = [{"SBQQ__Opportunity2__c": opp, "SBQQ__Primary__c": n == 0} for n in range(2)]
    [primary, other] = hooks.load({"SBQQ__Quote__c": quotes})["SBQQ__Quote__c"]
    lines = [{"SBQQ__Quote__c": primary, "SBQQ__Number__c": n} for n in range(1, 431)]
    lines += [{"SBQQ__Quote__c": other, "SBQQ__Number__c": n} for n in range(1, 6)]
    hooks.load({"SBQQ__QuoteLine__c": lines})
    q = soql(
        "SELECT Id, (SELECT Id, SBQQ__Primary__c, (SELECT Id, SBQQ__Number__c "
        "FROM SBQQ__LineItems__r ORDER BY SBQQ__Number__c) FROM SBQQ__Quotes2__r "
        "ORDER BY SBQQ__Primary__c DESC) FROM Opportunity WHERE Id = {}",
        opp,
    )
    run = make_client(emulator)
    async with run.client as client:
        page = await client.query(q, batch_size=200)
        [row] = await client.query_all(q, batch_size=200)

    first_cut = page.records[0]["SBQQ__Quotes2__r"]["records"][0]["SBQQ__LineItems__r"]
    assert first_cut["done"] is False
    quote_rows = row["SBQQ__Quotes2__r"]["records"]
    assert [quote["Id"] for quote in quote_rows] == [primary, other]
    numbers = [
        [line["SBQQ__Number__c"] for line in quote["SBQQ__LineItems__r"]["records"]]
        for quote in quote_rows
    ]
    assert numbers == [list(range(1, 431)), list(range(1, 6))]
    assert all(quote["SBQQ__LineItems__r"]["done"] for quote in quote_rows)
    assert len(run.api_calls(LOCATOR)) >= 2


async def test_a_session_that_expires_between_pages_does_not_lose_the_cursor(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    hooks.load({"Account": accounts(1000)})
    run = make_client(emulator)
    names = []
    async with run.client as client:
        q = soql("SELECT Id, Name FROM Account ORDER BY Name")
        async for row in client.iter_query(q, batch_size=200):
            names.append(row["Name"])
            if len(names) == 250:  # in the middle of the second page
                hooks.expire_tokens()

    assert names == [f"Bulk {n:05d}" for n in range(1000)]
    outcomes = [(call.status, call.attempt) for call in run.api_calls(LOCATOR)]
    assert outcomes == [(200, 1), (401, 1), (200, 2), (200, 1), (200, 1)]


async def test_include_deleted_uses_query_all_and_sees_deleted_rows(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    [kept, gone] = hooks.load({"Account": [{"Name": "Kept"}, {"Name": "Gone"}]})["Account"]
    run = make_client(emulator)
    q = soql("SELECT Id, Name, IsDeleted FROM Account ORDER BY Name")
    async with run.client as client:
        await client.delete("Account", gone)
        live = await client.query_all(q)
        everything = await client.query_all(q, include_deleted=True)

    assert [row["Id"] for row in live] == [kept]
    assert [(row["Id"], row["IsDeleted"]) for row in everything] == [(gone, True), (kept, False)]
    [all_call] = [call for call in run.api_calls() if "/queryAll" in call.path]
    assert all_call.extra["operation"] == "GET queryAll"


TRICKY_NAMES = [
    "O'Brien & Sons",
    'Say "hello"',
    "C:\\temp\\new",  # backslashes, one of them before an "n"
    "Zoë Ørsted 株式会社 🚀",
    "Line\nbreak\tand tab",
    "Bell\x07and\x0bvertical",
    "100% Growth_Co",
    "x' OR Name != 'x",
    "\\' OR Id != null OR Name = '",
]
DECOYS = ["x", "100X GrowthXCo", "100 Growth Co", "Line break and tab", "O'Brien"]


async def test_soql_values_with_quotes_escapes_and_unicode_match_exactly(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    loaded = hooks.load({"Account": [{"Name": name} for name in TRICKY_NAMES + DECOYS]})
    ids = dict(zip(TRICKY_NAMES + DECOYS, loaded["Account"], strict=True))
    run = make_client(emulator)
    async with run.client as client:
        for name in TRICKY_NAMES:
            rows = await client.query_all(
                soql("SELECT Id, Name FROM Account WHERE Name = {}", name)
            )
            assert [(row["Id"], row["Name"]) for row in rows] == [(ids[name], name)], name
        both = await client.query_all(
            soql("SELECT Id FROM Account WHERE Name IN {}", [TRICKY_NAMES[0], TRICKY_NAMES[-1]])
        )
    assert {row["Id"] for row in both} == {ids[TRICKY_NAMES[0]], ids[TRICKY_NAMES[-1]]}
    assert len(run.api_calls()) == len(TRICKY_NAMES) + 1
    assert all(call.status == 200 for call in run.api_calls())


async def test_like_values_keep_percent_and_underscore_literal(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    loaded = hooks.load({"Account": [{"Name": name} for name in TRICKY_NAMES + DECOYS]})
    ids = dict(zip(TRICKY_NAMES + DECOYS, loaded["Account"], strict=True))
    run = make_client(emulator)
    async with run.client as client:
        literal = await client.query_all(
            soql("SELECT Id FROM Account WHERE Name LIKE {:like}", "100% Growth_Co")
        )
        each = {
            name: await client.query_all(
                soql("SELECT Id FROM Account WHERE Name LIKE {:like}", name)
            )
            for name in TRICKY_NAMES
        }
    # Unescaped, "100% Growth_Co" would be a pattern that both decoys below match too.
    assert {"100X GrowthXCo", "100 Growth Co"} <= set(ids)
    assert [row["Id"] for row in literal] == [ids["100% Growth_Co"]]
    assert {name: [row["Id"] for row in rows] for name, rows in each.items()} == {
        name: [ids[name]] for name in TRICKY_NAMES
    }


# -- sObject rows (§1.5) --------------------------------------------------------------------------


async def test_create_get_update_delete_answer_201_200_204_204(
    emulator: Info, hooks: SalesforceHooks, mode: AuthMode
) -> None:
    run = make_client(emulator, mode)
    async with run.client as client:
        new_id = await client.create("Account", {"Name": "Crud Co", "BillingCity": "Lyon"})
        full = await client.get("Account", new_id)
        narrow = await client.get("Account", new_id, fields=["Name", "BillingCity"])
        await client.update("Account", new_id, {"BillingCity": "Paris"})
        stored = hooks.record("Account", new_id)
        await client.delete("Account", new_id)
        with pytest.raises(NotFoundError) as deleted:
            await client.get("Account", new_id)
        await client.delete("Account", new_id, missing_ok=True)

    assert full["Id"] == new_id
    assert (full["Name"], full["BillingCity"]) == ("Crud Co", "Lyon")
    assert full["attributes"]["type"] == "Account"
    assert set(narrow) == {"attributes", "Name", "BillingCity"}
    assert stored["BillingCity"] == "Paris"
    assert hooks.record("Account", new_id)["IsDeleted"] is True
    assert deleted.value.code == "ENTITY_IS_DELETED"
    assert deleted.value.status == 404
    statuses = [(call.method, call.status) for call in run.api_calls()]
    assert statuses == [
        ("POST", 201),
        ("GET", 200),
        ("GET", 200),
        ("PATCH", 204),
        ("DELETE", 204),
        ("GET", 404),
        ("DELETE", 404),
    ]


async def test_upsert_by_external_id_creates_then_updates(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    run = make_client(emulator)
    async with run.client as client:
        created = await client.upsert(
            "Account", "NetSuite_Customer_Id__c", "NS-1001", {"Name": "Upsert Co"}
        )
        updated = await client.upsert(
            "Account", "NetSuite_Customer_Id__c", "NS-1001", {"BillingCity": "Oslo"}
        )

    assert created.created is True
    assert updated.created is False
    assert created.id is not None
    assert updated.id == created.id
    [row] = hooks.dump("Account")
    assert (row["Id"], row["Name"], row["BillingCity"]) == (created.id, "Upsert Co", "Oslo")
    assert row["NetSuite_Customer_Id__c"] == "NS-1001"
    assert [call.status for call in run.api_calls()] == [201, 200]


async def test_an_external_id_held_by_two_records_is_a_duplicate_error(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    twins = [{"Name": f"Twin {n}", "NetSuite_Customer_Id__c": "NS-2"} for n in range(2)]
    ids = hooks.load({"Account": twins})["Account"]
    run = make_client(emulator)
    async with run.client as client:
        with pytest.raises(DuplicateError) as raised:
            await client.upsert("Account", "NetSuite_Customer_Id__c", "NS-2", {"Phone": "1"})

    error = raised.value
    assert (error.status, error.code, error.retryable) == (300, "MULTIPLE_CHOICES", False)
    assert sorted(error.context["matches"]) == sorted(ids)
    assert [call.attempt for call in run.api_calls()] == [1]
    assert all(row["Phone"] is None for row in hooks.dump("Account"))


# -- the deal graph (§4.1) ------------------------------------------------------------------------


class SeededOrg:
    """The generated org as stored: rows by sObject and Id, and what the seed said about it."""

    def __init__(self, hooks: SalesforceHooks, deals: int) -> None:
        result = hooks.seed(deals)
        self.flawed: dict[str, str] = result["flawed"]
        self.rows = {
            sobject: {row["Id"]: row for row in hooks.dump(sobject)}
            for sobject in (
                "Opportunity",
                "Account",
                "Contact",
                "OpportunityContactRole",
                "SBQQ__Quote__c",
                "SBQQ__QuoteLine__c",
                "Product2",
            )
        }

    def roles_of(self, opportunity_id: str) -> dict[str, Row]:
        roles = self.rows["OpportunityContactRole"].values()
        return {row["Id"]: row for row in roles if row["OpportunityId"] == opportunity_id}

    def lines_of(self, quote_id: str) -> list[Row]:
        lines = [
            r for r in self.rows["SBQQ__QuoteLine__c"].values() if r["SBQQ__Quote__c"] == quote_id
        ]
        return sorted(lines, key=lambda row: row["SBQQ__Number__c"])


def assert_graph_is_stored(graph: DealGraph, org: SeededOrg) -> None:
    """Every value of the graph equals the emulator's stored record, lines in quote order."""
    rows = org.rows
    opportunity = rows["Opportunity"][graph.opportunity.id]
    assert model_mismatches(graph.opportunity, opportunity) == []
    assert model_mismatches(graph.account, rows["Account"][opportunity["AccountId"]]) == []
    roles = org.roles_of(graph.opportunity.id)
    assert sorted(role.id or "" for role in graph.contact_roles) == sorted(roles)
    for role in graph.contact_roles:
        assert model_mismatches(role, roles[role.id or ""]) == []
        assert role.contact is not None
        assert model_mismatches(role.contact, rows["Contact"][role.contact_id or ""]) == []
    assert graph.quote is not None
    assert graph.quote.id == opportunity["SBQQ__PrimaryQuote__c"]
    quote = rows["SBQQ__Quote__c"][graph.quote.id]
    assert model_mismatches(graph.quote, quote) == []
    if quote["SBQQ__PrimaryContact__c"]:
        assert graph.quote.primary_contact is not None
        stored_contact = rows["Contact"][quote["SBQQ__PrimaryContact__c"]]
        assert model_mismatches(graph.quote.primary_contact, stored_contact) == []
    stored_lines = org.lines_of(graph.quote.id)
    assert [line.id for line in graph.lines] == [row["Id"] for row in stored_lines]
    for line, row in zip(graph.lines, stored_lines, strict=True):
        assert model_mismatches(line, row) == [], line.id
        assert line.product is not None
        assert model_mismatches(line.product, rows["Product2"][row["SBQQ__Product__c"]]) == []


def assert_bundles_intact(graph: DealGraph) -> None:
    """Each option line points at an earlier line of the same quote: a tree rooted at top level."""
    position = {line.id: index for index, line in enumerate(graph.lines)}
    for line in graph.lines:
        if line.required_by_id is not None:
            assert position[line.required_by_id] < position[line.id]
    members = sum(len(graph.children_of(line.id)) for line in graph.lines)
    assert len(graph.children_of(None)) + members == len(graph.lines)


async def test_sound_deals_are_read_exactly_in_two_calls_each(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    org = SeededOrg(hooks, deals=50)
    quoted = [
        row["Id"]
        for row in org.rows["Opportunity"].values()
        if row["SBQQ__PrimaryQuote__c"] and row["Id"] not in org.flawed
    ]
    run = make_client(emulator)
    graphs = []
    async with run.client as client:
        for opportunity_id in quoted:
            run.forget_calls()
            graphs.append(await fetch_deal_graph(client, opportunity_id))
            assert len(run.api_calls()) == 2, opportunity_id

    for graph in graphs:
        assert_graph_is_stored(graph, org)
        assert_bundles_intact(graph)
    lines = [line for graph in graphs for line in graph.lines]
    by_id = {line.id: line for line in lines}
    # The seeded deals cover what the sync must handle; if the seed changes, so must this test.
    assert any(line.bundled and line.required_by_id for line in lines)
    assert any(by_id[line.required_by_id].required_by_id for line in lines if line.required_by_id)
    assert any(line.charge_type == "One-Time" for line in lines)
    assert len({graph.account.currency_iso_code for graph in graphs}) >= 3
    assert len({graph.opportunity.currency_iso_code for graph in graphs}) >= 3


async def test_flawed_deals_are_read_as_they_are(emulator: Info, hooks: SalesforceHooks) -> None:
    org = SeededOrg(hooks, deals=10)
    assert set(org.flawed.values()) == {
        "no_contact",
        "unknown_product",
        "end_before_start",
        "long_account_name",
    }
    run = make_client(emulator)
    async with run.client as client:
        for opportunity_id, flaw in org.flawed.items():
            run.forget_calls()
            graph = await fetch_deal_graph(client, opportunity_id)
            assert len(run.api_calls()) <= 2
            assert_graph_is_stored(graph, org)
            assert graph.quote is not None
            if flaw == "no_contact":
                assert graph.contact_roles == []
                assert graph.quote.primary_contact is None
            elif flaw == "unknown_product":
                assert "LEGACY-ADDON" in [line.product_code for line in graph.lines]
            elif flaw == "end_before_start":
                assert graph.quote.end_date is not None
                assert graph.quote.start_date is not None
                assert graph.quote.end_date < graph.quote.start_date
            else:
                assert graph.account.name is not None
                assert len(graph.account.name) == 120


async def test_a_deal_without_a_quote_takes_one_call(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    org = SeededOrg(hooks, deals=20)
    unquoted = [r["Id"] for r in org.rows["Opportunity"].values() if not r["SBQQ__PrimaryQuote__c"]]
    run = make_client(emulator)
    async with run.client as client:
        graph = await fetch_deal_graph(client, unquoted[0])
    assert (graph.quote, graph.lines) == (None, [])
    assert model_mismatches(graph.opportunity, org.rows["Opportunity"][unquoted[0]]) == []
    assert len(run.api_calls()) == 1


async def test_a_missing_opportunity_is_not_found_by_its_id(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    hooks.seed(10)
    missing = "006000000009999AAA"
    run = make_client(emulator)
    async with run.client as client:
        with pytest.raises(NotFoundError) as raised:
            await fetch_deal_graph(client, missing)
    assert missing in str(raised.value)
    assert raised.value.context["opportunity_id"] == missing
    assert len(run.api_calls()) == 1


async def test_an_opportunity_without_an_account_is_a_validation_error(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    orphan = {"Name": "Orphan", "StageName": "Closed Won", "CloseDate": "2026-06-30"}
    [opportunity_id] = hooks.load({"Opportunity": [orphan]})["Opportunity"]
    run = make_client(emulator)
    async with run.client as client:
        with pytest.raises(ValidationError) as raised:
            await fetch_deal_graph(client, opportunity_id)
    assert raised.value.field_path == "AccountId"
    assert opportunity_id in str(raised.value)


# -- write-back: Composite and Collections (§1.6) -------------------------------------------------

WRITE_BACK = {
    "NetSuite_Subscription_Ids__c": "SUB-1,SUB-2",
    "NetSuite_Sync_Status__c": "Synced",
    "NetSuite_Sync_Error__c": None,
    "NetSuite_Synced_At__c": "2026-07-01T12:00:00.000+0000",
}


def open_deal(hooks: SalesforceHooks, name: str = "Write Co") -> tuple[str, str]:
    """An account and its open opportunity; their ids."""
    [account] = hooks.load({"Account": [{"Name": name}]})["Account"]
    opportunity = {
        "Name": f"{name} deal",
        "AccountId": account,
        "StageName": "Negotiation/Review",
        "CloseDate": "2026-06-30",
    }
    [opportunity_id] = hooks.load({"Opportunity": [opportunity]})["Opportunity"]
    return account, opportunity_id


def write_back(opportunity_id: str, opportunity_fields: dict[str, Any]) -> list[SubRequest]:
    """The write-back as dealbridge does it: account and opportunity found by reference."""
    ref = "@{opp.records[0]"
    return [
        SubRequest.query(
            "opp", soql("SELECT Id, AccountId FROM Opportunity WHERE Id = {}", opportunity_id)
        ),
        SubRequest(
            "PATCH",
            f"sobjects/Account/{ref}.AccountId}}",
            "account",
            {"NetSuite_Customer_Id__c": "4711"},
        ),
        SubRequest("PATCH", f"sobjects/Opportunity/{ref}.Id}}", "deal", opportunity_fields),
        SubRequest("GET", f"sobjects/Opportunity/{ref}.Id}}?fields=SystemModstamp", "stamp"),
    ]


async def test_write_back_is_one_composite_call_with_references(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    account_id, opportunity_id = open_deal(hooks)
    run = make_client(emulator)
    async with run.client as client:
        results = await client.composite(write_back(opportunity_id, WRITE_BACK))

    assert [(r.reference_id, r.status) for r in results] == [
        ("opp", 200),
        ("account", 204),
        ("deal", 204),
        ("stamp", 200),
    ]
    stored = hooks.record("Opportunity", opportunity_id)
    assert {name: stored[name] for name in WRITE_BACK} == WRITE_BACK
    assert results[3].body["SystemModstamp"] == stored["SystemModstamp"]
    assert hooks.record("Account", account_id)["NetSuite_Customer_Id__c"] == "4711"
    [call] = run.api_calls()
    assert (call.method, call.status, call.extra["operation"]) == ("POST", 200, "POST composite")
    assert hooks.stats()["api_calls"] == 1


async def test_a_failed_subrequest_rolls_back_the_composite_and_is_named(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    account_id, opportunity_id = open_deal(hooks)
    before = hooks.record("Opportunity", opportunity_id)
    run = make_client(emulator)
    async with run.client as client:
        with pytest.raises(RemoteRejectedError) as raised:
            await client.composite(write_back(opportunity_id, {**WRITE_BACK, "Bogus__c": "x"}))

    error = raised.value
    assert error.code == "INVALID_FIELD"
    assert "Bogus__c" in str(error)
    assert error.context["reference_id"] == "deal"
    assert "PROCESSING_HALTED" not in str(error)
    assert hooks.record("Account", account_id)["NetSuite_Customer_Id__c"] is None
    assert hooks.record("Opportunity", opportunity_id) == before
    assert [call.attempt for call in run.api_calls()] == [1]


async def test_collections_report_each_record_with_its_status_code(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    account_id, opportunity_id = open_deal(hooks)
    new = [{"attributes": {"type": "Account"}, "Name": n} for n in ("One", "", "Three")]
    changes: list[Row] = [
        {"attributes": {"type": "Opportunity"}, "Id": opportunity_id, **WRITE_BACK},
        {"attributes": {"type": "Account"}, "Id": account_id, "Bogus__c": 1},
    ]
    run = make_client(emulator)
    async with run.client as client:
        created = await client.collection_create(new)
        updated = await client.collection_update(changes)

    assert [result.success for result in created] == [True, False, True]
    assert created[1].id is None
    assert [error.code for error in created[1].errors] == ["REQUIRED_FIELD_MISSING"]
    names = {row["Name"] for row in hooks.dump("Account")}
    assert names == {"Write Co", "One", "Three"}
    assert [result.success for result in updated] == [True, False]
    assert updated[0].id == opportunity_id
    assert [error.code for error in updated[1].errors] == ["INVALID_FIELD"]
    assert hooks.record("Opportunity", opportunity_id)["NetSuite_Sync_Status__c"] == "Synced"


async def test_all_or_none_collections_roll_back_and_raise_the_real_failure(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    account_id, opportunity_id = open_deal(hooks)
    before = hooks.record("Opportunity", opportunity_id)
    changes: list[Row] = [
        {"attributes": {"type": "Opportunity"}, "Id": opportunity_id, **WRITE_BACK},
        {"attributes": {"type": "Account"}, "Id": account_id, "Bogus__c": 1},
    ]
    run = make_client(emulator)
    async with run.client as client:
        with pytest.raises(RemoteRejectedError) as raised:
            await client.collection_update(changes, all_or_none=True)

    assert raised.value.code == "INVALID_FIELD"
    assert raised.value.context["index"] == 1
    assert hooks.record("Opportunity", opportunity_id) == before
    assert [call.attempt for call in run.api_calls()] == [1]


async def test_collections_of_more_than_200_records_go_in_chunks(
    emulator: Info, hooks: SalesforceHooks
) -> None:
    new = [{"attributes": {"type": "Contact"}, "LastName": f"L{n:03d}"} for n in range(450)]
    run = make_client(emulator)
    async with run.client as client:
        results = await client.collection_create(new)

    assert [result.success for result in results] == [True] * 450
    stored = {row["Id"]: row["LastName"] for row in hooks.dump("Contact")}
    assert [stored[result.id or ""] for result in results] == [f"L{n:03d}" for n in range(450)]
    assert len(run.api_calls("POST composite/sobjects")) == 3
