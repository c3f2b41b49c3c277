"""A dead worker's deals that nobody recovers raise the stale-PENDING alert, end to end.

One worker on PostgreSQL takes deals and is killed with SIGKILL; no other worker runs, so its
deals stay ``PENDING`` under its executor id — what a deploy that stopped every worker of the old
version leaves behind. The alert service reads them through a ``DBOSClient``
(``sync.reaper.pending_work``) on a clock moved past ``sync.stale_pending_minutes`` and posts to
a local webhook receiver.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from dealbridge.alerts import AlertPolicy, AlertService, WebhookChannel
from dealbridge.db.session import make_engine, make_session_factory
from dealbridge.sync.reaper import pending_work
from tests.integration.scaleout import fleet
from tests.integration.sync.harness import Emulators, wait_until
from tests.support.alert_receivers import FakeClock, WebhookReceiver, webhook_receiver

pytestmark = pytest.mark.postgres

STALE_MINUTES = 45


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


def test_deals_left_pending_by_a_dead_worker_reach_the_webhook(
    emulators: Emulators, tmp_path: Path, postgres_url: str, hook: WebhookReceiver
) -> None:
    settings = fleet.fleet_settings(
        emulators, tmp_path / "data", postgres_url, stale_pending_minutes=STALE_MINUTES
    )
    with (
        fleet.seeded_fleet(emulators, settings, 1, 4, 2) as ([worker], deals),
        fleet.dbos_client(postgres_url) as client,
    ):
        emulators.netsuite_control.faults(latency_ms=2000)  # deals stay inside their steps
        fleet.enqueue(client, deals)
        wait_until(lambda: pending_work(client), "deals PENDING on w0", 120)
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(timeout=10)
        pending = pending_work(client)
    emulators.netsuite_control.wait_idle()

    assert pending
    assert {work.executor_id for work in pending} == {"w0"}
    engine = make_engine(postgres_url)
    clock = FakeClock(datetime.now(UTC))
    service = AlertService(
        make_session_factory(engine),
        [WebhookChannel(SecretStr(f"{hook.base_url}/hook"))],
        AlertPolicy.from_settings(settings),
        repeat=timedelta(hours=4),
        window=timedelta(0),
        clock=clock,
    )
    try:
        assert service.run_once(won=[], pending=pending) == []  # PENDING for seconds: normal
        clock.advance(minutes=STALE_MINUTES - 5)
        assert service.run_once(won=[], pending=pending) == []  # under the setting's threshold
        clock.advance(minutes=6)
        [alert] = service.run_once(won=[], pending=pending)
    finally:
        engine.dispose()

    oldest = min(pending, key=lambda work: work.pending_since)
    count = len(pending)
    assert alert.kind == "stale_pending"
    [(path, body)] = hook.posts
    assert path == "/hook"
    plural = "s" if count != 1 else ""
    assert f"{count} deal{plural} PENDING for more than {STALE_MINUTES} minutes" in body["text"]
    assert oldest.workflow_id in body["text"]
    assert "on executor w0" in body["text"]
    assert f"{settings.web.base_url}/runs?status=pending" in body["text"]
