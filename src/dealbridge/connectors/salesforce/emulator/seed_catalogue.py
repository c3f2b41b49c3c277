"""Plain data the seed generator draws from: the CPQ product catalogue, bundles and word lists.

The product codes are a copy, as data, of the NetSuite emulator's active item ids
(``netsuite/emulator/reference_data.py``): the Salesforce emulator may not import the NetSuite
connector, so ``tests/unit/salesforce_seed/test_catalogue_matches_netsuite.py`` keeps the two lists
in step. ``LEGACY-ADDON`` is deliberately absent from NetSuite (the ``unknown_product`` flaw).

Prices are in USD per unit for the product's 12-month subscription term (one-time products: per
unit); a quote in another currency converts them with ``Country.fx`` (a fixed list-price factor,
not a market rate). Families use the org's default picklist (Software, Support, Services,
Hardware).
"""

from __future__ import annotations

from dataclasses import dataclass

RECURRING = "Recurring"
ONE_TIME = "One-Time"
MONTHLY = "Monthly"
QUARTERLY = "Quarterly"
ANNUAL = "Annual"
UNKNOWN_PRODUCT_CODE = "LEGACY-ADDON"


@dataclass(frozen=True)
class Product:
    """One Product2 of the catalogue; ``quantity`` is the (min, max) a quote line draws from."""

    code: str
    name: str
    family: str
    charge: str
    frequency: str | None
    price: float
    quantity: tuple[int, int] = (1, 1)
    bundle: bool = False


@dataclass(frozen=True)
class Option:
    """One SBQQ__ProductOption__c: ``option`` offered inside the ``bundle`` product.

    ``bundled`` options are included components at price 0; ``required`` ones are always on the
    quote, the others are picked now and then.
    """

    bundle: str
    option: str
    number: int
    quantity: int
    bundled: bool
    required: bool


def _recurring(
    code: str,
    name: str,
    family: str,
    frequency: str,
    price: float,
    quantity: tuple[int, int] = (1, 1),
    *,
    bundle: bool = False,
) -> Product:
    return Product(code, name, family, RECURRING, frequency, price, quantity, bundle)


def _one_time(
    code: str, name: str, family: str, price: float, quantity: tuple[int, int] = (1, 1)
) -> Product:
    # Salesforce Billing leaves the billing frequency of one-time products blank.
    return Product(code, name, family, ONE_TIME, None, price, quantity)


PRODUCTS: tuple[Product, ...] = (
    _recurring("PLAT-ENT", "Platform - Enterprise Edition", "Software", ANNUAL, 60000.0,
               bundle=True),
    _recurring("PLAT-PRO", "Platform - Professional Edition", "Software", ANNUAL, 24000.0,
               bundle=True),
    _recurring("PLAT-STD", "Platform - Standard Edition", "Software", MONTHLY, 9000.0),
    _recurring("SEAT-STD", "Standard User Seat", "Software", ANNUAL, 600.0, (5, 120)),
    _recurring("SEAT-PRM", "Premium User Seat", "Software", ANNUAL, 1200.0, (10, 250)),
    _recurring("SEAT-VIEW", "Viewer Seat", "Software", MONTHLY, 120.0, (10, 500)),
    _recurring("API-CALLS", "API Calls (per 1,000)", "Software", MONTHLY, 0.5, (500, 20000)),
    _recurring("STORAGE-TB", "Additional Storage (per TB)", "Software", MONTHLY, 1200.0, (1, 20)),
    _recurring("SUPPORT-STD", "Standard Support", "Support", ANNUAL, 5000.0),
    _recurring("SUPPORT-PRM", "Premium Support", "Support", ANNUAL, 12000.0),
    _recurring("SUPPORT-247", "24x7 Mission-Critical Support", "Support", ANNUAL, 25000.0),
    _one_time("ONBOARD", "Onboarding Package", "Services", 7500.0),
    _one_time("TRAINING", "Remote Training Day", "Services", 2000.0, (1, 5)),
    _one_time("TRAINING-ONSITE", "On-site Training Day", "Services", 3500.0, (1, 3)),
    _recurring("ANALYTICS", "Advanced Analytics Add-on", "Software", QUARTERLY, 6000.0),
    _recurring("SSO", "Single Sign-On (SAML)", "Software", ANNUAL, 3000.0),
    _recurring("AUDIT-LOG", "Audit Log Retention", "Software", ANNUAL, 2400.0),
    _recurring("SANDBOX", "Full Sandbox Environment", "Software", ANNUAL, 8000.0, bundle=True),
    _recurring("SANDBOX-DEV", "Developer Sandbox", "Software", ANNUAL, 1500.0, (1, 4)),
    _one_time("DATA-MIGR", "Data Migration Service", "Services", 10000.0),
    _recurring("INTEG-SF", "Salesforce Connector", "Software", ANNUAL, 4800.0),
    _recurring("INTEG-ERP", "ERP Connector", "Software", ANNUAL, 6000.0),
    _recurring("WORKFLOW", "Workflow Automation Add-on", "Software", MONTHLY, 3600.0),
    _recurring("AI-ASSIST", "AI Assistant Add-on", "Software", MONTHLY, 7200.0),
    _recurring("COMPUTE-HR", "Compute Hours", "Software", MONTHLY, 0.12, (1000, 50000)),
    _recurring("EMAIL-SENDS", "Email Sends (per 10,000)", "Software", MONTHLY, 10.0, (10, 300)),
    _recurring("HEALTHCHECK", "Annual Health Check", "Services", ANNUAL, 4000.0),
    _one_time("CONSULT-HR", "Professional Services Hour", "Services", 250.0, (8, 80)),
    _recurring("PREMIUM-SLA", "Premium SLA (99.95%)", "Support", ANNUAL, 5000.0),
    _one_time("HW-GATEWAY", "On-premises Gateway Appliance", "Hardware", 3500.0, (1, 2)),
    _recurring(UNKNOWN_PRODUCT_CODE, "Legacy Add-on (discontinued)", "Software", ANNUAL, 1800.0),
)  # fmt: skip

# Bundles: PLAT-ENT and PLAT-PRO; SANDBOX is a bundle too and also an option of PLAT-ENT, which
# makes the nested bundle (PLAT-ENT > SANDBOX > SANDBOX-DEV). Members bill like their bundle.
OPTIONS: tuple[Option, ...] = (
    Option("PLAT-ENT", "SEAT-PRM", 10, 25, bundled=False, required=True),
    Option("PLAT-ENT", "SUPPORT-PRM", 20, 1, bundled=False, required=True),
    Option("PLAT-ENT", "SSO", 30, 1, bundled=True, required=True),
    Option("PLAT-ENT", "AUDIT-LOG", 40, 1, bundled=True, required=True),
    Option("PLAT-ENT", "SANDBOX", 50, 1, bundled=False, required=False),
    Option("PLAT-PRO", "SEAT-STD", 10, 10, bundled=False, required=True),
    Option("PLAT-PRO", "SUPPORT-STD", 20, 1, bundled=True, required=True),
    Option("PLAT-PRO", "INTEG-SF", 30, 1, bundled=False, required=False),
    Option("SANDBOX", "SANDBOX-DEV", 10, 2, bundled=True, required=True),
)

# (top-level product, weight) of a quote's main package.
PACKAGES: tuple[tuple[str, int], ...] = (("PLAT-ENT", 25), ("PLAT-PRO", 40), ("PLAT-STD", 35))
RECURRING_ADD_ONS: tuple[str, ...] = (
    "SEAT-VIEW", "STORAGE-TB", "ANALYTICS", "INTEG-ERP", "WORKFLOW", "AI-ASSIST",
    "SUPPORT-247", "PREMIUM-SLA", "API-CALLS", "HEALTHCHECK", "EMAIL-SENDS", "COMPUTE-HR",
)  # fmt: skip
ONE_TIME_ADD_ONS: tuple[str, ...] = (
    "ONBOARD", "TRAINING", "TRAINING-ONSITE", "DATA-MIGR", "CONSULT-HR", "HW-GATEWAY",
)  # fmt: skip
DISCOUNTS: tuple[tuple[float, int], ...] = ((0.0, 50), (5.0, 15), (10.0, 15), (15.0, 12), (20.0, 8))
TERMS: tuple[tuple[int, int], ...] = ((12, 60), (24, 25), (36, 15))


@dataclass(frozen=True)
class City:
    """A city with its state or region and a postal-code pattern (``#`` digit, ``@`` letter)."""

    name: str
    state: str
    postal: str


@dataclass(frozen=True)
class Country:
    """Everything country-specific about an account: currency, address and phone shapes."""

    name: str
    currency: str
    fx: float
    suffixes: tuple[str, ...]
    tld: str
    phone: str
    cities: tuple[City, ...]
    street_first: bool = True  # "12 Main Street" vs "Hauptstraße 12"


COUNTRIES: tuple[tuple[Country, int], ...] = (
    (Country("United States", "USD", 1.0, ("Inc.", "LLC", "Corp."), "com",
             "+1 (###) ###-####",
             (City("San Francisco", "CA", "941##"), City("Austin", "TX", "787##"),
              City("New York", "NY", "100##"), City("Chicago", "IL", "606##"),
              City("Seattle", "WA", "981##"), City("Boston", "MA", "021##"),
              City("Denver", "CO", "802##"), City("Atlanta", "GA", "303##"))), 45),
    (Country("United Kingdom", "GBP", 0.79, ("Ltd", "plc"), "co.uk", "+44 20 #### ####",
             (City("London", "England", "EC# #@@"), City("Manchester", "England", "M# #@@"),
              City("Edinburgh", "Scotland", "EH# #@@"), City("Bristol", "England", "BS# #@@"),
              City("Cardiff", "Wales", "CF## #@@"))), 20),
    (Country("Germany", "EUR", 0.92, ("GmbH", "AG"), "de", "+49 30 #######",
             (City("Berlin", "Berlin", "10###"), City("Munich", "Bavaria", "80###"),
              City("Hamburg", "Hamburg", "20###"), City("Frankfurt", "Hesse", "60###"),
              City("Cologne", "North Rhine-Westphalia", "50###")), street_first=False), 15),
    (Country("Canada", "CAD", 1.36, ("Inc.", "Ltd."), "ca", "+1 (###) ###-####",
             (City("Toronto", "ON", "M5V #@#"), City("Vancouver", "BC", "V6B #@#"),
              City("Montreal", "QC", "H3B #@#"), City("Calgary", "AB", "T2P #@#"))), 10),
    (Country("Australia", "AUD", 1.52, ("Pty Ltd",), "com.au", "+61 2 #### ####",
             (City("Sydney", "NSW", "2###"), City("Melbourne", "VIC", "3###"),
              City("Brisbane", "QLD", "4###"), City("Perth", "WA", "6###"))), 10),
)  # fmt: skip

NAME_FIRST: tuple[str, ...] = (
    "Acme", "Northwind", "Bluefin", "Cobalt", "Summit", "Redwood", "Granite", "Lumen",
    "Pioneer", "Harbor", "Silverline", "Evergreen", "Brightpath", "Ironclad", "Quantum",
    "Vertex", "Nimbus", "Orchid", "Falcon", "Beacon", "Meridian", "Crescent", "Atlas", "Helix",
    "Juniper", "Keystone", "Larkspur", "Mosaic", "Nova", "Onyx", "Polaris", "Quarry",
    "Riverbend", "Sterling", "Tidewater", "Umbra", "Vantage", "Willow", "Zenith", "Aurora",
)  # fmt: skip
NAME_SECOND: tuple[str, ...] = (
    "Analytics", "Logistics", "Health", "Dynamics", "Systems", "Labs", "Foods", "Energy",
    "Robotics", "Media", "Capital", "Networks", "Software", "Manufacturing", "Retail",
    "Biotech", "Consulting", "Freight", "Studios", "Outfitters",
)  # fmt: skip
NAME_THIRD: tuple[str, ...] = (
    "", "", "", "Group", "Partners", "Holdings", "Global", "International", "Solutions", "Works",
)  # fmt: skip
LONG_NAME_WORDS: tuple[str, ...] = (
    "International", "Holdings", "and", "Consolidated", "Subsidiaries", "for", "Research",
    "Development", "Operations", "and", "Regional", "Shared", "Services", "Administration",
)  # fmt: skip
INDUSTRIES: tuple[str, ...] = (
    "Technology", "Finance", "Healthcare", "Manufacturing", "Retail", "Education", "Media",
    "Energy", "Transportation", "Telecommunications", "Consulting", "Insurance",
)  # fmt: skip
STREETS: tuple[str, ...] = (
    "Market", "Main", "Oak", "Maple", "King", "Queen", "High", "Park", "Lake", "Hill", "Church",
    "Mill", "Station", "Bridge", "Victoria", "George",
)  # fmt: skip
STREET_TYPES: tuple[str, ...] = ("Street", "Avenue", "Road", "Lane", "Drive", "Boulevard")
GERMAN_STREETS: tuple[str, ...] = (
    "Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schillerstraße", "Goethestraße",
    "Berliner Allee", "Lindenweg", "Kirchplatz",
)  # fmt: skip
FIRST_NAMES: tuple[str, ...] = (
    "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "Lucas",
    "Hannah", "Jonas", "Priya", "Arjun", "Chloe", "Mateo", "Zoe", "Kenji", "Aisha", "Felix",
    "Grace", "Samuel", "Leah", "Daniel", "Isla", "Marcus", "Nora", "Tomás", "Freya", "Omar",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Martinez", "Taylor",
    "Anderson", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Walker", "Young", "Müller", "Schmidt", "Patel", "Nguyen", "O'Brien",
    "Kowalski", "Rossi", "Tanaka",
)  # fmt: skip
TITLES: tuple[str, ...] = (
    "CFO", "VP Finance", "Controller", "CTO", "VP Engineering", "IT Director",
    "Head of Operations", "Procurement Manager", "CEO", "Finance Manager",
    "Revenue Operations Manager", "Director of Sales Operations",
)  # fmt: skip
CONTACT_ROLES: tuple[str, ...] = (
    "Decision Maker", "Economic Buyer", "Technical Buyer", "Business User",
)  # fmt: skip
DEAL_LABELS: dict[str, str] = {
    "PLAT-ENT": "Enterprise",
    "PLAT-PRO": "Professional",
    "PLAT-STD": "Standard",
}
