"""``python -m dealbridge`` is the ``dealbridge`` command."""

from dealbridge.cli.main import app

app()
