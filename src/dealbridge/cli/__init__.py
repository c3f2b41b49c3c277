"""The ``dealbridge`` command line: one module per command group."""
