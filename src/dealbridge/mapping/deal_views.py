"""Derived views of a deal graph: the names a flow reads, its "source".

``deal_views(graph, constants)`` turns the ``DealGraph`` JSON shape (Salesforce API field names:
``account.Name``, ``line.SBQQ__Product__r.ProductCode``) into the scope of a flow. Raw records
stay raw; what needs CPQ knowledge (bundle trees, charge types, frequencies, the deal currency)
is derived here once, in code, so flow files stay declarative.

The views:

- ``opportunity``, ``account`` — the records as read (an empty mapping when absent).
- ``quote`` — the primary quote, or None.
- ``lines`` — every quote line, in ``SBQQ__Number__c`` order (blanks last, ties by Id).
- ``contacts`` — distinct contacts (by Id) from the contact roles plus the quote's primary
  contact, the primary one first. Each is the contact's fields plus ``Role`` and ``IsPrimary``
  (True only for the first when it is a primary). Contacts without an Id are left out.
- ``primary_contact`` — the primary role's contact, else the quote's primary contact, else the
  first contact, else None.
- ``currency`` — the first non-empty ``CurrencyIsoCode`` of quote, opportunity and account,
  upper-cased; ``const.default_currency`` (USD) for single-currency orgs.
- ``addresses`` — the account's billing and shipping addresses as address-book entries
  (``label``, ``default_billing``, ``default_shipping``, ``addr1..3``, ``city``, ``state``,
  ``zip``, ``country``); one entry with both defaults when they are the same address.
- ``packages`` — one per top-level line that carries recurring charges: a bundle parent or a
  standalone recurring product (see ``packages``). Each: ``line``, ``product``, ``product_id``,
  ``code``, ``name``, ``line_id``, ``number`` (1-based), ``members`` (flattened recurring
  lines, each: ``line``, ``product``, ``product_id``, ``code``, ``name``, ``line_id``,
  ``line_number`` (``SBQQ__Number__c``), ``number`` (plan line number), ``depth`` (0 = the top
  line), ``kind``, ``line_type`` ("2"), ``billing_mode``, ``frequency``, ``quantity``,
  ``list_price``, ``unit_price`` (list price of one unit per billing period, cents),
  ``discount`` (percent, 0 when blank), ``net_total``, ``price_plan_key``), ``one_time`` (one-time
  lines billed on the package's subscription, numbered after the members, ``frequency``
  ONETIME), ``intervals`` (members then one-time lines), ``frequency`` (MONTHLY, QUARTERLY,
  SEMIANNUALLY, ANNUALLY or None) and ``frequency_raw``, ``currency``, ``quantity``,
  ``net_total`` (all lines of the bundle), ``start_date``/``end_date`` (line dates, else the
  quote's; ``YYYY-MM-DD``), ``term_months``, and identity strings for external ids:
  ``variant`` (digest of the member products, line types and billing modes), ``plan_key``,
  ``price_variant`` (digest of the frequency and member price plans), ``book_key`` and
  ``billing_key``.
- ``one_time_lines`` — top-level one-time lines outside any package (and one-time-only
  bundles). They are still billed: they join the ``one_time`` lines of the first package (one
  quote has one currency, so that package bills in the same currency). A quote with one-time
  lines and no package at all cannot be billed by SuiteBilling this way; the shipped flow
  stops such a deal ("one-time-only quotes are not supported yet").
- ``usage_lines`` — lines with usage pricing (the shipped flow stops on them).
- ``orphan_lines`` — lines whose ``SBQQ__RequiredBy__c`` names a line not on the quote or
  loops; they belong to no package (the shipped flow stops on them).
- ``billing_groups`` — distinct (currency, frequency) pairs among packages, in package order:
  ``key`` (``<AccountId>-<CUR>-<FREQ>``), ``account_id``, ``currency``, ``frequency``,
  ``frequency_raw``, ``start_date`` (the earliest package start), ``packages`` (numbers).
- ``price_plans`` — distinct price plans (by ``key``) of every interval: ``key``,
  ``product_id``, ``code``, ``name``, ``currency``, ``value`` and ``tiers``
  (``[{"from_value": 0, "value": …}]``).

Constants read: ``default_currency`` and ``list_price_term_months`` (12: how many months a CPQ
list price covers). Pure functions of the graph; nothing is copied or modified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dealbridge.mapping.deal_values import number, record, text
from dealbridge.mapping.packages import (
    LineFacts,
    LineTree,
    PackageBuilder,
    View,
    Walk,
    finish_package,
    quote_order,
)

Row = Mapping[str, Any]
DEFAULT_CURRENCY = "USD"
DEFAULT_PRICE_TERM_MONTHS = 12
_EMPTY: Mapping[str, Any] = {}
_ADDRESS_PARTS = ("Street", "City", "State", "PostalCode", "Country")


def deal_views(graph: Row, constants: Row) -> dict[str, Any]:
    """Every view of the module docstring, keyed by name."""
    opportunity = record(graph.get("opportunity"))
    account = record(graph.get("account"))
    quote = graph.get("quote") if isinstance(graph.get("quote"), Mapping) else None
    raw_lines = graph.get("lines")
    facts = quote_order(
        (ln for ln in raw_lines if type(ln) is dict or isinstance(ln, Mapping))
        if isinstance(raw_lines, list)
        else ()
    )
    lines = [line.row for line in facts]
    contacts = _contacts(graph.get("contact_roles"), quote or _EMPTY)
    currency = _currency(quote or _EMPTY, opportunity, account, constants)
    views: dict[str, Any] = {
        "opportunity": opportunity,
        "account": account,
        "quote": quote,
        "lines": lines,
        "contacts": contacts,
        "primary_contact": contacts[0] if contacts else None,
        "currency": currency,
        "addresses": _addresses(account),
    }
    price_term = number(constants.get("list_price_term_months")) or DEFAULT_PRICE_TERM_MONTHS
    builder = PackageBuilder(currency, quote or _EMPTY, price_term)
    views.update(_line_views(facts, builder))
    views["billing_groups"] = _billing_groups(views["packages"], text(account.get("Id")))
    views["price_plans"] = _price_plans(views["packages"])
    return views


def _currency(quote: Row, opportunity: Row, account: Row, constants: Row) -> str:
    for source in (quote, opportunity, account):
        code = text(source.get("CurrencyIsoCode"))
        if code:
            return code.strip().upper()
    return str(constants.get("default_currency") or DEFAULT_CURRENCY).upper()


def _line_views(lines: list[LineFacts], builder: PackageBuilder) -> dict[str, Any]:
    """Packages, package-less one-time lines, usage lines and orphans."""
    tree = LineTree(lines)
    packages: list[View] = []
    loose: Walk = []
    for top in tree.top:
        package = builder.package(top, tree, len(packages) + 1)
        if package is not None:
            packages.append(package)
        else:
            loose.extend([(top, 0), *tree.descendants(top)])
    one_time = [(line, depth) for line, depth in loose if line.kind == "one_time"]
    if packages and one_time:
        packages[0]["one_time"] = packages[0]["one_time"] + builder.add_ons(packages[0], one_time)
    for package in packages:
        finish_package(package)
    orphans = {id(line) for line in tree.orphans}
    return {
        "packages": packages,
        "one_time_lines": [line.row for line, _ in one_time],
        "usage_lines": [
            line.row for line in tree.lines if line.kind == "usage" and id(line) not in orphans
        ],
        "orphan_lines": [line.row for line in tree.orphans],
    }


def _billing_groups(packages: Sequence[View], account_id: str | None) -> list[View]:
    groups: dict[tuple[str, str], View] = {}
    for package in packages:
        frequency = package["frequency"] or "UNKNOWN"
        pair = (package["currency"], frequency)
        group = groups.get(pair)
        if group is None:
            group = groups[pair] = {
                "key": f"{account_id}-{pair[0]}-{frequency}",
                "account_id": account_id,
                "currency": pair[0],
                "frequency": package["frequency"],
                "frequency_raw": package["frequency_raw"],
                "start_date": package["start_date"],
                "packages": [],
            }
        group["packages"].append(package["number"])
        group["start_date"] = _earliest(group["start_date"], package["start_date"])
        package["billing_key"] = group["key"]
    return list(groups.values())


def _earliest(first: str | None, second: str | None) -> str | None:
    if first is None or second is None:
        return first or second
    return min(first, second)


def _price_plans(packages: Sequence[View]) -> list[View]:
    plans: dict[str, View] = {}
    for package in packages:
        for entry in package["intervals"]:
            key = entry["price_plan_key"]
            if key not in plans:
                plans[key] = {
                    "key": key,
                    "product_id": entry["product_id"],
                    "code": entry["code"],
                    "name": entry["name"],
                    "currency": package["currency"],
                    "value": entry["unit_price"],
                    "tiers": [{"from_value": 0, "value": entry["unit_price"]}],
                }
    return list(plans.values())


def _contacts(roles: Any, quote: Row) -> list[dict[str, Any]]:
    """Distinct contacts, the primary first (see the module docstring)."""
    found: dict[str, dict[str, Any]] = {}
    primary: str | None = None
    for role in roles if isinstance(roles, list) else ():
        if not isinstance(role, Mapping):
            continue
        contact = record(role.get("Contact"))
        contact_id = text(role.get("ContactId")) or text(contact.get("Id"))
        if contact_id is None or contact_id in found:
            continue
        found[contact_id] = {**contact, "Id": contact_id, "Role": role.get("Role")}
        if role.get("IsPrimary") is True and primary is None:
            primary = contact_id
    quote_contact = record(quote.get("SBQQ__PrimaryContact__r"))
    quote_contact_id = text(quote.get("SBQQ__PrimaryContact__c")) or text(quote_contact.get("Id"))
    if quote_contact_id is not None and quote_contact_id not in found:
        found[quote_contact_id] = {**quote_contact, "Id": quote_contact_id, "Role": None}
    primary = primary or quote_contact_id
    ordered = sorted(found.values(), key=lambda contact: contact["Id"] != primary)
    return [{**contact, "IsPrimary": contact["Id"] == primary} for contact in ordered]


def _addresses(account: Row) -> list[dict[str, Any]]:
    billing = _address(account, "Billing")
    shipping = _address(account, "Shipping")
    if billing is None and shipping is None:
        return []
    if billing is None or shipping is None or _same(billing, shipping):
        only = billing or shipping
        assert only is not None  # noqa: S101 - one of them is set, checked above
        return [{**only, "label": "Billing", "default_billing": True, "default_shipping": True}]
    return [
        {**billing, "label": "Billing", "default_billing": True, "default_shipping": False},
        {**shipping, "label": "Shipping", "default_billing": False, "default_shipping": True},
    ]


def _address(account: Row, kind: str) -> dict[str, Any] | None:
    parts = {part: text(account.get(kind + part)) for part in _ADDRESS_PARTS}
    if not any(parts.values()):
        return None
    street = (parts["Street"] or "").splitlines()
    return {
        "addressee": text(account.get("Name")),
        "addr1": street[0] if street else None,
        "addr2": street[1] if len(street) > 1 else None,
        "addr3": " ".join(street[2:]) or None,
        "city": parts["City"],
        "state": parts["State"],
        "zip": parts["PostalCode"],
        "country": parts["Country"],
    }


def _same(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    return all(first.get(key) == second.get(key) for key in ("addr1", "addr2", "city", "zip"))
