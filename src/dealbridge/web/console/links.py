"""Where a NetSuite record can be looked at: the emulator's record URL, or the real NetSuite UI.

With a ``netsuite.base_url`` (the emulator, or a proxy) the link is that REST record's URL, which
the emulator serves. Against a real account the link opens the record in NetSuite's UI, whose
page depends on the record's kind; a type the table does not know gets no link rather than a
wrong one.
"""

from __future__ import annotations

from urllib.parse import quote

from dealbridge.connectors.netsuite.models import RECORD_PATH, host_label_of
from dealbridge.settings import NetSuiteSettings

# NetSuite UI pages by record type (``?id=<internal id>`` opens the record).
UI_PAGES = {
    "customer": "/app/common/entity/custjob.nl",
    "contact": "/app/common/entity/contact.nl",
    "subscription": "/app/accounting/subscription/subscription.nl",
    "subscriptionPlan": "/app/common/item/item.nl",
    "billingAccount": "/app/accounting/otherlists/billingaccount.nl",
    "priceBook": "/app/accounting/subscription/pricebook.nl",
    "pricePlan": "/app/accounting/subscription/priceplan.nl",
    "salesOrder": "/app/accounting/transactions/salesord.nl",
    "invoice": "/app/accounting/transactions/custinvc.nl",
}


def record_link(
    settings: NetSuiteSettings, record_type: str, internal_id: str | None
) -> str | None:
    """A URL showing the record, or ``None`` when there is none to give."""
    if not internal_id:
        return None
    if settings.base_url:
        base = settings.base_url.rstrip("/")
        return f"{base}{RECORD_PATH}/{quote(record_type)}/{quote(internal_id)}"
    page = UI_PAGES.get(record_type)
    if page is None or not settings.account:
        return None
    return (
        f"https://{host_label_of(settings.account)}.app.netsuite.com{page}?id={quote(internal_id)}"
    )
