"""Call bodies in the ledger: stored as recorded, null when a call had none or none was kept."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dealbridge.core.calls import CallRecord
from dealbridge.db.api_calls import call_records_for_run, calls_for_run, record_calls
from dealbridge.db.runs import start_run


def test_bodies_are_stored_and_read_back(session: Session) -> None:
    run_id = start_run(session, workflow_id="wf", opportunity_id="006B", trigger="manual").id
    records = [
        CallRecord(
            "netsuite",
            "POST",
            "/record/v1/customer",
            204,
            40.0,
            request_body='{"companyName": "Acme", "custentity_api_key": "***"}',
        ),
        CallRecord(
            "salesforce",
            "GET",
            "/services/data/v65.0/query?q=SELECT",
            200,
            15.0,
            request_body=None,
            response_body='{"totalSize": 0, "done": true, "records": []}',
        ),
        CallRecord("netsuite", "GET", "/record/v1/customer/1", None, 9.0, error_code="timeout"),
    ]
    record_calls(session, run_id, records)
    stored = {call.path: call for call in calls_for_run(session, run_id)}
    created = stored["/record/v1/customer"]
    assert created.request_body == '{"companyName": "Acme", "custentity_api_key": "***"}'
    assert created.response_body is None
    queried = stored["/services/data/v65.0/query?q=SELECT"]
    assert (queried.request_body, queried.response_body) == (
        None,
        '{"totalSize": 0, "done": true, "records": []}',
    )
    timed_out = stored["/record/v1/customer/1"]
    assert (timed_out.request_body, timed_out.response_body) == (None, None)
    # The counting read stays on the five columns it needs: no bodies loaded.
    assert {record.request_body for record in call_records_for_run(session, run_id)} == {None}
