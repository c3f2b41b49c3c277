"""``check_connections`` against both emulators over real HTTP: good, bad and absent endpoints."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from dealbridge.settings import Settings
from dealbridge.sync.connection_check import (
    ConnectionStatus,
    check_connections,
    check_netsuite,
    check_salesforce,
)
from tests.integration.sync.harness import Emulators, settings_for
from tests.support.netsuite import netsuite_settings


def _by_system(statuses: list[ConnectionStatus]) -> dict[str, ConnectionStatus]:
    return {status.system: status for status in statuses}


def _free_port() -> int:
    """A port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_both_systems_answer_with_good_credentials(emulators: Emulators, tmp_path: Path) -> None:
    settings = settings_for(emulators, tmp_path)
    statuses = _by_system(asyncio.run(check_connections(settings)))
    assert set(statuses) == {"salesforce", "netsuite"}
    for status in statuses.values():
        assert status.ok, status.error
        assert status.error is None
        assert status.kind is None
        assert status.latency_ms is not None
        assert status.latency_ms > 0
        assert status.checked_at.tzinfo is not None


def test_netsuite_token_based_auth_also_checks(emulators: Emulators) -> None:
    status = asyncio.run(check_netsuite(netsuite_settings(emulators.netsuite, "tba")))
    assert status.ok, status.error


def test_a_refused_salesforce_key_is_an_auth_failure(emulators: Emulators, tmp_path: Path) -> None:
    good = settings_for(emulators, tmp_path).salesforce
    bad = good.model_copy(update={"consumer_key": "not-the-connected-app"})
    status = asyncio.run(check_salesforce(bad))
    assert not status.ok
    assert status.kind == "auth"
    assert status.error is not None
    assert status.error.startswith("auth: ")


def test_a_wrong_netsuite_token_secret_is_an_auth_failure_and_stays_secret(
    emulators: Emulators,
) -> None:
    wrong_secret = "wrong-token-secret-6f1c0b2e9d"
    settings = netsuite_settings(emulators.netsuite, "tba", token_secret=wrong_secret)
    status = asyncio.run(check_netsuite(settings))
    assert not status.ok
    assert status.kind == "auth"
    assert wrong_secret not in (status.error or "")
    assert emulators.netsuite["tba"]["consumer_secret"] not in (status.error or "")


def test_nothing_listening_is_unreachable(emulators: Emulators, tmp_path: Path) -> None:
    settings = settings_for(emulators, tmp_path)
    dead = f"http://127.0.0.1:{_free_port()}"
    broken = settings.model_copy(
        update={
            "salesforce": settings.salesforce.model_copy(
                update={"instance_url": dead, "login_url": dead}
            ),
            "netsuite": settings.netsuite.model_copy(update={"base_url": dead}),
        }
    )
    statuses = _by_system(asyncio.run(check_connections(broken)))
    for status in statuses.values():
        assert not status.ok
        assert status.kind == "unreachable", status.error


def test_a_silent_server_is_cut_off_by_the_timeout(
    emulators: Emulators, tmp_path: Path, silent_port: int
) -> None:
    netsuite = netsuite_settings(emulators.netsuite, base_url=f"http://127.0.0.1:{silent_port}")
    status = asyncio.run(check_netsuite(netsuite, timeout_seconds=0.5))
    assert not status.ok
    assert status.kind == "unreachable"
    assert status.error == "unreachable: no answer within 0.5 s"


def test_missing_settings_are_a_config_failure() -> None:
    statuses = _by_system(asyncio.run(check_connections(Settings(_env_file=None))))
    assert statuses["netsuite"].kind == "config"
    assert "netsuite.account" in (statuses["netsuite"].error or "")
    assert not statuses["salesforce"].ok
    assert statuses["salesforce"].kind == "config"


def test_a_non_positive_timeout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="positive timeout"):
        asyncio.run(check_connections(Settings(data_dir=tmp_path), timeout_seconds=0))
