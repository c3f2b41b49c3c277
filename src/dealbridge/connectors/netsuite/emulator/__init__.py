"""A local NetSuite: SuiteTalk REST, SuiteQL, SuiteBilling records, auth and governance."""
