"""Every exception dealbridge raises, in one tree.

The tree::

    DealbridgeError(retryable, failure_type, user_message, context)
    ├── ConfigError                      settings, flow files, lookup tables
    ├── ConnectorError(system, operation, status, code, request_id, field_path)
    │   ├── AuthError                    credentials refused, token endpoint failed
    │   ├── TransientError               retryable: 5xx, timeouts, connection resets
    │   │   └── RateLimitedError(retry_after)   429, CONCURRENCY_LIMIT_EXCEEDED
    │   ├── RemoteRejectedError          the remote system refused this request (4xx)
    │   │   ├── NotFoundError
    │   │   └── DuplicateError
    │   └── UnexpectedResponseError      the answer did not have the documented shape
    ├── ValidationError(record, field_path, rule)   a deal's data breaks a rule
    └── WebhookError                     an inbound notification was refused

Why one tree: the sync engine decides what to do with a failure from two attributes only —
``retryable`` (retry the step with backoff) and ``failure_type`` (how an open error is classified
in the console) — so every layer raises something from here and never a bare library exception.

Why the custom ``__reduce__``: the durable-execution engine pickles step errors into its
checkpoint table and unpickles them on replay. ``BaseException`` pickles as ``cls(*self.args)``,
which loses keyword-only attributes or fails outright; rebuilding from ``__dict__`` survives any
constructor signature (``contracts/dbos.md`` §8.2).
"""

from __future__ import annotations

from typing import Any

FAILURE_TYPES = (
    "validation",
    "auth",
    "rate_limit",
    "remote_rejection",
    "remote_outage",
    "config",
    "webhook",
    "bug",
)


def _rebuild(cls: type[DealbridgeError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Recreate an error without calling its constructor (see the module docstring)."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class DealbridgeError(Exception):
    """Root of every dealbridge error.

    Args:
        message: Technical description for logs and the run history.
        retryable: Whether trying the same operation again may succeed.
        failure_type: One of ``FAILURE_TYPES``; drives the console's classification.
        user_message: A sentence a finance user understands; defaults to ``message``.
        context: Extra facts (record, ids, remote codes) shown next to an open error.
    """

    default_failure_type = "bug"
    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        retryable: bool | None = None,
        failure_type: str | None = None,
        user_message: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = self.default_retryable if retryable is None else retryable
        self.failure_type = failure_type or self.default_failure_type
        self.user_message = user_message or message
        self.context: dict[str, Any] = dict(context or {})

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the ledger, the API and logs."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "user_message": self.user_message,
            "retryable": self.retryable,
            "failure_type": self.failure_type,
            "context": self.context,
        }


class ConfigError(DealbridgeError):
    """Settings, a flow file or a lookup table is wrong; fixing configuration is the cure."""

    default_failure_type = "config"


class ConnectorError(DealbridgeError):
    """A call to Salesforce or NetSuite failed.

    Args:
        message: What happened, including the remote detail text.
        system: ``"netsuite"`` or ``"salesforce"``.
        operation: What we were doing, e.g. ``"PUT customer/eid:SFACC-001…"``.
        status: HTTP status, or None when no response arrived.
        code: The remote error code (``o:errorCode`` / ``errorCode``).
        request_id: The remote request id, for support tickets.
        field_path: The remote's pointer into our payload (``o:errorPath``), when given.
        **kwargs: Passed to ``DealbridgeError``.
    """

    default_failure_type = "remote_rejection"

    def __init__(
        self,
        message: str,
        *,
        system: str,
        operation: str = "",
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        field_path: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.system = system
        self.operation = operation
        self.status = status
        self.code = code
        self.request_id = request_id
        self.field_path = field_path

    def as_dict(self) -> dict[str, Any]:
        """Plain data including the remote coordinates of the failure."""
        data = super().as_dict()
        data.update(
            system=self.system,
            operation=self.operation,
            status=self.status,
            code=self.code,
            request_id=self.request_id,
            field_path=self.field_path,
        )
        return data


class AuthError(ConnectorError):
    """Credentials were refused; retrying will not help until someone fixes them."""

    default_failure_type = "auth"


class TransientError(ConnectorError):
    """The remote side is failing or unreachable for now; the same call may succeed later."""

    default_failure_type = "remote_outage"
    default_retryable = True


class RateLimitedError(TransientError):
    """The remote side refused the call for load (NetSuite concurrency, Salesforce limits).

    Args:
        message: What happened.
        retry_after: Seconds the remote asked us to wait, when it said so.
        **kwargs: Passed to ``ConnectorError``.
    """

    default_failure_type = "rate_limit"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RemoteRejectedError(ConnectorError):
    """The remote system understood the call and refused it (a 4xx other than auth/limits)."""


class NotFoundError(RemoteRejectedError):
    """The record or resource does not exist."""


class DuplicateError(RemoteRejectedError):
    """The remote system says the record already exists."""


class UnexpectedResponseError(ConnectorError):
    """The answer did not have the documented shape: a bug on one side or the other."""

    default_failure_type = "bug"


class ValidationError(DealbridgeError):
    """A deal's data breaks a rule; nothing of the deal is written.

    Args:
        message: The sentence shown to the user.
        record: The record the rule is about, e.g. ``"Account 001…"`` or ``"customer"``.
        field_path: The field, as a dotted path.
        rule: The rule's name, e.g. ``"max_length"``.
        **kwargs: Passed to ``DealbridgeError``.
    """

    default_failure_type = "validation"

    def __init__(
        self, message: str, *, record: str, field_path: str, rule: str, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.record = record
        self.field_path = field_path
        self.rule = rule


class WebhookError(DealbridgeError):
    """An inbound notification was refused (bad token, unknown org, hostile or oversized XML).

    Args:
        message: Why it was refused.
        status: The HTTP status to answer with.
        **kwargs: Passed to ``DealbridgeError``.
    """

    default_failure_type = "webhook"

    def __init__(self, message: str, *, status: int = 400, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.status = status
