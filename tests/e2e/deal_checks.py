"""Did a synced deal land right? Salesforce's quote against NetSuite's records, record by record.

Read from both emulators' dumps (what each system holds, not what dealbridge says it did):

- the opportunity shows ``Synced``, the account carries the customer's internal id, and the
  opportunity's ``NetSuite_Subscription_Ids__c`` names exactly the subscriptions of its quote;
- each CPQ bundle (and standalone recurring line) on the primary quote has a subscription whose
  customer, billing account (of that customer), plan and price book (of that plan) exist and
  match; its price intervals carry every line of the bundle with the quote's product, quantity
  and discount;
- each bundle has a package record pointing at its subscription, with the bundle's quantity and
  the net total of the bundle's lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.e2e.serve_stack import Stack

Row = dict[str, Any]
PACKAGE = "customrecord_cpq_package"
NETSUITE_TYPES = ("customer", "billingAccount", "subscriptionPlan", "priceBook", "subscription")


@dataclass
class Books:
    """Both systems' records, indexed for the checks."""

    opportunities: dict[str, Row]
    accounts: dict[str, Row]
    lines: list[Row]
    by_external_id: dict[str, Row]
    by_id: dict[str, dict[str, Row]]
    item_codes: dict[str, str]

    def children(self, line_id: str) -> list[Row]:
        return [line for line in self.lines if line["SBQQ__RequiredBy__c"] == line_id]

    def tree(self, line: Row) -> list[Row]:
        """A bundle line and every line under it."""
        found = [line]
        for child in self.children(line["Id"]):
            found += self.tree(child)
        return found


def read_books(stack: Stack) -> Books:
    sf = stack.emulators.sf_control
    by_external_id: dict[str, Row] = {}
    by_id: dict[str, dict[str, Row]] = {}
    for record_type in (*NETSUITE_TYPES, PACKAGE):
        records = stack.netsuite(record_type)
        by_id[record_type] = {str(r["id"]): r for r in records}
        by_external_id.update({r["externalId"]: r for r in records if r.get("externalId")})
    return Books(
        opportunities={row["Id"]: row for row in sf("GET", "/records/Opportunity")},
        accounts={row["Id"]: row for row in sf("GET", "/records/Account")},
        lines=sf("GET", "/records/SBQQ__QuoteLine__c"),
        by_external_id=by_external_id,
        by_id=by_id,
        item_codes={str(item["id"]): item["itemId"] for item in stack.netsuite("item")},
    )


def check_deal(books: Books, opportunity_id: str) -> list[str]:
    """Every discrepancy between the deal in Salesforce and its records in NetSuite."""
    opportunity = books.opportunities[opportunity_id]
    problems = _write_back_problems(books, opportunity)
    customer = books.by_external_id.get(f"SFACC-{opportunity['AccountId']}")
    if customer is None:
        return [*problems, "no customer"]
    quote_lines = [
        line
        for line in books.lines
        if line["SBQQ__Quote__c"] == opportunity["SBQQ__PrimaryQuote__c"]
    ]
    for line in quote_lines:
        if line["SBQQ__RequiredBy__c"] is None and _is_package(line):
            problems += _subscription_problems(books, line, customer)
    expected = {
        books.by_external_id[f"SFSUB-{line['Id']}"]["id"]
        for line in quote_lines
        if f"SFSUB-{line['Id']}" in books.by_external_id
    }
    listed = set(filter(None, (opportunity["NetSuite_Subscription_Ids__c"] or "").split(",")))
    if listed != expected:
        problems.append(f"write-back lists subscriptions {listed}, NetSuite has {expected}")
    return problems


def _is_package(line: Row) -> bool:
    return bool(line["SBQQ__Bundle__c"]) or line["SBQQ__ChargeType__c"] == "Recurring"


def _write_back_problems(books: Books, opportunity: Row) -> list[str]:
    problems = []
    if opportunity["NetSuite_Sync_Status__c"] != "Synced" or opportunity["NetSuite_Sync_Error__c"]:
        problems.append(f"opportunity shows {opportunity['NetSuite_Sync_Status__c']}")
    customer = books.by_external_id.get(f"SFACC-{opportunity['AccountId']}")
    account = books.accounts[opportunity["AccountId"]]
    if customer is not None and account["NetSuite_Customer_Id__c"] != customer["id"]:
        problems.append("account does not carry the customer's internal id")
    return problems


def _subscription_problems(books: Books, line: Row, customer: Row) -> list[str]:
    subscription = books.by_external_id.get(f"SFSUB-{line['Id']}")
    if subscription is None:
        return [f"no subscription for quote line {line['Id']}"]
    problems = _reference_problems(books, subscription, customer)
    problems += _interval_problems(books, line, subscription)
    if line["SBQQ__Bundle__c"]:
        problems += _package_problems(books, line, subscription)
    return problems


def _reference_problems(books: Books, subscription: Row, customer: Row) -> list[str]:
    problems = []
    if subscription["customer"] != customer["id"]:
        problems.append(f"{subscription['externalId']}: wrong customer")
    billing = books.by_id["billingAccount"].get(str(subscription["billingAccount"]))
    if billing is None or billing["customer"] != customer["id"]:
        problems.append(f"{subscription['externalId']}: billing account not the customer's")
    if str(subscription["subscriptionPlan"]) not in books.by_id["subscriptionPlan"]:
        problems.append(f"{subscription['externalId']}: no such subscription plan")
    book = books.by_id["priceBook"].get(str(subscription["priceBook"]))
    if book is None or book["subscriptionPlan"] != subscription["subscriptionPlan"]:
        problems.append(f"{subscription['externalId']}: price book not of its plan")
    return problems


def _interval_problems(books: Books, line: Row, subscription: Row) -> list[str]:
    """Each line of the bundle as a price interval: product, quantity and discount."""
    intervals = [
        (books.item_codes.get(str(i["item"])), float(i["quantity"]), float(i["discount"] or 0))
        for i in subscription["priceInterval"]
    ]
    problems = []
    for quoted in books.tree(line):
        wanted = (
            quoted["SBQQ__ProductCode__c"],
            float(quoted["SBQQ__Quantity__c"]),
            float(quoted["SBQQ__Discount__c"] or 0),
        )
        if wanted in intervals:
            intervals.remove(wanted)
        else:
            problems.append(f"{subscription['externalId']}: no price interval {wanted}")
    return problems


def _package_problems(books: Books, line: Row, subscription: Row) -> list[str]:
    package = books.by_external_id.get(f"SFPKG-{line['Id']}")
    if package is None:
        return [f"no package for bundle line {line['Id']}"]
    problems = []
    if package["custrecord_cpq_pkg_subscription"]["id"] != subscription["id"]:
        problems.append(f"{package['externalId']}: wrong subscription")
    if float(package["custrecord_cpq_pkg_quantity"]) != float(line["SBQQ__Quantity__c"]):
        problems.append(f"{package['externalId']}: wrong quantity")
    net_total = sum(float(quoted["SBQQ__NetTotal__c"] or 0) for quoted in books.tree(line))
    if abs(float(package["custrecord_cpq_pkg_net_total"]) - net_total) > 0.01:
        problems.append(
            f"{package['externalId']}: net total {package['custrecord_cpq_pkg_net_total']} "
            f"!= {net_total}"
        )
    return problems
