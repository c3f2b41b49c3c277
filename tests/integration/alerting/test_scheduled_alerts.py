"""``dealbridge serve`` evaluates alerts on its own: one webhook message per new problem.

The service runs as a user would start it, with a webhook channel pointing at a local receiver
and one-second alert and poll intervals. A deal NetSuite refuses (a customer website longer than
the field takes) opens a ``remote_rejection`` error; the next alert tick sends exactly one alert,
linking to the console's errors page for that class, and the ticks after it send nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dbos import DBOSClient

from dealbridge.alerts.snapshot import BASELINE
from dealbridge.cli.alerting import SCHEDULE_NAME
from dealbridge.db.session import make_engine, make_session_factory, session_scope
from dealbridge.db.watermarks import get_watermark
from dealbridge.settings import Settings
from dealbridge.sync.poller import WATERMARK as POLLER_WATERMARK
from dealbridge.sync.runtime import APP_NAME, system_database_url
from tests.integration.sync.harness import Emulators, env_for, settings_for, wait_until
from tests.support.alert_receivers import WebhookReceiver, webhook_receiver
from tests.support.processes import StartedProcess, dealbridge_process

CONSOLE = "https://console.dealbridge.test"
LONG_WEBSITE = "https://www.example.com/" + "w" * 226  # 250 characters; NetSuite's url takes 200
TICKS_AFTER_DELIVERY = 3
TICK_PREFIX = f"sched-{SCHEDULE_NAME}-"


@contextmanager
def serving(settings: Settings, receiver: WebhookReceiver) -> Iterator[StartedProcess]:
    """``dealbridge serve`` on a free port, alerting to ``receiver`` every second."""
    env = env_for(
        settings,
        DEALBRIDGE_ALERTS__WEBHOOK_URL=f"{receiver.base_url}/services/T0/B0/alerts",
        DEALBRIDGE_ALERTS__INTERVAL_SECONDS="1",
        DEALBRIDGE_ALERTS__DIGEST_MINUTES="0",
        DEALBRIDGE_WEB__BASE_URL=CONSOLE,
        DEALBRIDGE_POLLER__INTERVAL_SECONDS="1",
        DEALBRIDGE_RECONCILE__ENABLED="false",
    )
    with dealbridge_process(["serve", "--port", "0"], env=env) as service:
        yield service


class Ledger:
    """Reads the service's ledger watermarks from the test process."""

    def __init__(self, settings: Settings) -> None:
        self._engine = make_engine(settings.resolved_database_url())
        self._factory = make_session_factory(self._engine)

    def watermark(self, name: str) -> str | None:
        with session_scope(self._factory) as session:
            return get_watermark(session, name)

    def close(self) -> None:
        self._engine.dispose()


def finished_ticks(client: DBOSClient) -> int:
    """Alert ticks that ended ``SUCCESS`` so far."""
    done = client.list_workflows(
        workflow_id_prefix=TICK_PREFIX, status="SUCCESS", load_input=False, load_output=False
    )
    return len(done)


def test_serve_sends_one_alert_per_new_error_class_with_its_console_link(
    org: Emulators, tmp_path: Path
) -> None:
    settings = settings_for(org, tmp_path / "data")
    opportunity_id = org.seeded["won_candidates"][0]
    account_id = org.get("Opportunity", opportunity_id)["AccountId"]
    with webhook_receiver() as receiver, serving(settings, receiver) as service:
        ledger = Ledger(settings)
        client = DBOSClient(
            system_database_url=system_database_url(settings), application_name=APP_NAME
        )
        try:
            # Alerting and polling have started: the error to come is news, and the deal is seen.
            wait_until(lambda: ledger.watermark(BASELINE), "the first alert tick")
            wait_until(lambda: ledger.watermark(POLLER_WATERMARK), "the first poll")
            assert receiver.posts == [], "nothing was wrong yet"

            org.update("Account", account_id, {"Website": LONG_WEBSITE})
            org.close_won(opportunity_id)

            wait_until(lambda: receiver.posts, "the alert", timeout=60)
            ticks = finished_ticks(client)
            wait_until(
                lambda: finished_ticks(client) >= ticks + TICKS_AFTER_DELIVERY,
                f"{TICKS_AFTER_DELIVERY} more alert ticks",
            )
        finally:
            client.destroy()
            ledger.close()
        assert service.process.poll() is None, "serve exited: " + "".join(service.output)

    # What was posted, should it be more than one: a second tick's resend, or another alert.
    sent = [(path, payload.get("text")) for path, payload in receiver.posts]
    assert len(receiver.posts) == 1, sent
    [(path, payload)] = receiver.posts
    assert path == "/services/T0/B0/alerts"
    assert payload["text"].startswith("[dealbridge] New error class: remote_rejection")
    link = f"{CONSOLE}/errors?class=remote_rejection"
    assert link in payload["text"]
    [_header, section] = payload["blocks"]
    assert section["text"]["text"].startswith(f"*<{link}|New error class: remote_rejection>*")
