"""An untrusted certificate is a configuration error, not an outage to retry (regression)."""

from __future__ import annotations

import ssl

import httpx
import pytest

from dealbridge.connectors.netsuite.errors import error_from_exception as netsuite_error
from dealbridge.connectors.salesforce.errors import error_from_exception as salesforce_error
from dealbridge.core.tls import certificate_failure
from dealbridge.errors import ConfigError, TransientError


def _connect_error(cause: BaseException) -> httpx.ConnectError:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise httpx.ConnectError("connect failed") from inner
    except httpx.ConnectError as outer:
        return outer


def test_certificate_failure_is_found_through_the_cause_chain() -> None:
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    assert certificate_failure(_connect_error(verify)) is verify
    assert certificate_failure(_connect_error(ConnectionRefusedError())) is None


@pytest.mark.parametrize("translate", [netsuite_error, salesforce_error])
def test_untrusted_certificate_is_not_retryable(translate: object) -> None:
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error = translate(_connect_error(verify), "GET x")  # type: ignore[operator]
    assert isinstance(error, ConfigError)
    assert error.retryable is False


@pytest.mark.parametrize("translate", [netsuite_error, salesforce_error])
def test_refused_connection_stays_transient(translate: object) -> None:
    error = translate(_connect_error(ConnectionRefusedError()), "GET x")  # type: ignore[operator]
    assert isinstance(error, TransientError)
    assert error.retryable is True
