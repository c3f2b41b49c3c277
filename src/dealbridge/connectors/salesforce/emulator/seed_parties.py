"""Accounts and their contacts for the seeded org: names, addresses, currencies, people.

Addresses, phones and company suffixes follow the account's country, and the account's
``CurrencyIsoCode`` is that country's currency, so a mapping can derive the NetSuite subsidiary
and currency the way a real org would let it.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from typing import Any

from dealbridge.connectors.salesforce.emulator import seed_catalogue as cat
from dealbridge.connectors.salesforce.emulator.seed_ids import SeedIds

Row = dict[str, Any]
LONG_NAME_LENGTH = 120  # the ``long_account_name`` flaw; NetSuite companyName holds 83 (DESIGN §4)
_NAME_ATTEMPTS = 20
_DIFFERENT_SHIPPING = 0.2


@dataclass(frozen=True)
class Party:
    """An account with its contacts and the country that shaped them."""

    account: Row
    contacts: list[Row]
    country: cat.Country

    @property
    def account_id(self) -> str:
        """The account's record id."""
        return str(self.account["Id"])


def build_parties(rng: random.Random, ids: SeedIds, count: int, long_names: int) -> list[Party]:
    """``count`` accounts, the first ``long_names`` of which carry a 120-character name."""
    taken: set[str] = set()
    countries, weights = zip(*cat.COUNTRIES, strict=True)
    parties = []
    for index in range(count):
        country = rng.choices(countries, weights)[0]
        stem = _unique_stem(rng, taken)
        name = _long_name(stem) if index < long_names else f"{stem} {rng.choice(country.suffixes)}"
        account = _account(rng, ids.next("Account"), name, stem, country)
        contacts = [_contact(rng, ids.next("Contact"), account, stem, country)
                    for _ in range(rng.randint(1, 4))]  # fmt: skip
        _dedupe_emails(contacts)
        parties.append(Party(account, contacts, country))
    return parties


def _unique_stem(rng: random.Random, taken: set[str]) -> str:
    """A company name without its legal suffix, new to this org (numbered if words run out)."""
    stem = ""
    for _ in range(_NAME_ATTEMPTS):
        words = (
            rng.choice(cat.NAME_FIRST),
            rng.choice(cat.NAME_SECOND),
            rng.choice(cat.NAME_THIRD),
        )
        stem = " ".join(word for word in words if word)
        if stem not in taken:
            break
    else:
        stem = f"{stem} {len(taken) + 1}"
    taken.add(stem)
    return stem


def _long_name(stem: str) -> str:
    """Exactly 120 characters, too long for NetSuite, built from words so it still reads."""
    name = stem
    while len(name) < LONG_NAME_LENGTH:
        name = " ".join((name, *cat.LONG_NAME_WORDS))
    name = name[:LONG_NAME_LENGTH]  # cut mid-word, as a careless import would
    return name if not name.endswith(" ") else name[:-1] + "."


def _account(rng: random.Random, record_id: str, name: str, stem: str, country: cat.Country) -> Row:
    billing = _address(rng, country)
    shipping = _address(rng, country) if rng.random() < _DIFFERENT_SHIPPING else billing
    row: Row = {"Id": record_id, "Name": name}
    row.update({f"Billing{key}": value for key, value in billing.items()})
    row.update({f"Shipping{key}": value for key, value in shipping.items()})
    row.update({
        "CurrencyIsoCode": country.currency,
        "Phone": _pattern(rng, country.phone),
        "Website": f"https://www.{_domain(stem, country)}",
        "Industry": rng.choice(cat.INDUSTRIES),
    })  # fmt: skip
    return row


def _address(rng: random.Random, country: cat.Country) -> dict[str, str]:
    city = rng.choice(country.cities)
    number = rng.randint(1, 250)
    if country.street_first:
        street = f"{number} {rng.choice(cat.STREETS)} {rng.choice(cat.STREET_TYPES)}"
    else:
        street = f"{rng.choice(cat.GERMAN_STREETS)} {number}"
    return {
        "Street": street,
        "City": city.name,
        "State": city.state,
        "PostalCode": _pattern(rng, city.postal),
        "Country": country.name,
    }


def _contact(
    rng: random.Random, record_id: str, account: Row, stem: str, country: cat.Country
) -> Row:
    first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
    return {
        "Id": record_id,
        "AccountId": account["Id"],
        "FirstName": first,
        "LastName": last,
        "Email": f"{_ascii(first)}.{_ascii(last)}@{_domain(stem, country)}",
        "Phone": _pattern(rng, country.phone),
        "Title": rng.choice(cat.TITLES),
    }


def _dedupe_emails(contacts: list[Row]) -> None:
    """Two namesakes at one company get ``jane.doe`` and ``jane.doe2``, as mail admins do."""
    seen: set[str] = set()
    for contact in contacts:
        email = str(contact["Email"])
        local, domain = email.split("@")
        suffix = 1
        while email in seen:
            suffix += 1
            email = f"{local}{suffix}@{domain}"
        contact["Email"] = email
        seen.add(email)


def _domain(stem: str, country: cat.Country) -> str:
    return f"{_ascii(stem.replace(' ', ''))}.{country.tld}"


def _ascii(text: str) -> str:
    """Lower-case ASCII letters and digits: ``Müller`` → ``muller``, ``O'Brien`` → ``obrien``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in folded.lower() if char.isalnum())


def _pattern(rng: random.Random, pattern: str) -> str:
    """Fill ``#`` with digits and ``@`` with capital letters (postcodes, phone numbers)."""
    out = []
    for char in pattern:
        if char == "#":
            out.append(str(rng.randint(0, 9)))
        elif char == "@":
            out.append(rng.choice("ABDEFGHJLNPQRSTUWXYZ"))
        else:
            out.append(char)
    return "".join(out)
