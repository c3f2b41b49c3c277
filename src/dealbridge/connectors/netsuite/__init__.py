"""NetSuite SuiteTalk REST: the client, its auth, governance, and an emulator."""
