"""dealbridge: Salesforce CPQ Closed Won deals into NetSuite SuiteBilling, exactly once."""

__version__ = "0.1.0"
