"""Revisions of the ledger schema, one file each, written by hand and reviewed like code."""
