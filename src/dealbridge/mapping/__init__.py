"""Flows: a deal graph in, a validated ``SyncPlan`` of NetSuite operations out."""
