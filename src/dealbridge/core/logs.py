"""Structured logging: JSON lines by default, with credential-looking keys masked on the way out."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from dealbridge.core.calls import REDACTED, is_secret_name


def _mask_secret_keys(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Last line of defence: a key named like a credential never reaches a log sink."""
    for key in list(event):
        if key != "event" and is_secret_name(key):
            event[key] = REDACTED
    return event


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the moment of writing.

    Binding the stream at configuration time breaks when stderr is later replaced (test capture,
    daemonisers): the logger would keep writing into a closed file.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Set up structlog and the standard library to write one line per event.

    ``stream`` defaults to whatever stderr is at the moment of each write; an embedding program
    (or a test reading the log) passes its own stream instead.
    """
    sink: Any = stream if stream is not None else _CurrentStderr()
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_secret_keys,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sink),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level.upper(), stream=stream or sys.stderr, format="%(message)s")
