"""A retry that cannot be queued: the error is open again and the audit log says both things."""

from __future__ import annotations

from typing import Any

import pytest

from dealbridge.db import audit, open_errors
from dealbridge.errors import DealbridgeError
from dealbridge.sync.ledger import Ledger
from dealbridge.sync.operator import Operator
from tests.integration.web.api_support import seed_ledger


class QueueDownError(DealbridgeError):
    """What an enqueue raises when the workers' queue cannot be reached."""


def _audit_of(ledger: Ledger, error_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    with ledger.session() as session:
        entries = audit.list_audit(session)
        return [
            (entry.action, entry.actor, entry.detail)
            for entry in reversed(entries)
            if entry.target_id == str(error_id) and entry.action.startswith("error.retry")
        ]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (QueueDownError("the workers' queue cannot be reached"),
         "the workers' queue cannot be reached"),
        (ConnectionResetError("peer 10.0.0.7:5432 said no"), "ConnectionResetError"),
    ],
)  # fmt: skip
def test_a_failed_enqueue_reopens_the_error_and_is_audited(
    ledger: Ledger, failure: BaseException, reason: str
) -> None:
    error_id = seed_ledger(ledger.factory).error_ids["rejected"]

    def enqueue(_workflow_id: str, _opportunity_id: str, _info: dict[str, Any]) -> None:
        raise failure

    with pytest.raises(type(failure)):
        Operator(ledger, enqueue).retry_error(error_id, "otto")

    with ledger.session() as session:
        error = open_errors.get_error(session, error_id)
        assert error is not None
        assert error.state == "open"
    workflow_id = f"retry:{error_id}:1"
    assert _audit_of(ledger, error_id) == [
        ("error.retry", "otto", {"workflow_id": workflow_id}),
        ("error.retry_failed", "otto", {"workflow_id": workflow_id, "reason": reason}),
    ]  # only a class name for foreign errors: their text can quote hosts and credentials
