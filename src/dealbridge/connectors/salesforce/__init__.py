"""Salesforce REST, OAuth and Outbound Messages: the client, its parser, and an emulator."""
