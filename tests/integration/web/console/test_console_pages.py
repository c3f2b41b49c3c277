"""Console pages: who may see them, and that they show what the ledger holds (issue 6)."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from dealbridge.db import runs
from dealbridge.db.audit import audit
from dealbridge.db.reconcile_reports import store_report
from dealbridge.db.session import session_scope
from tests.integration.web.console.conftest import (
    FAILED_CUSTOMER,
    FAILED_DEAL,
    OK_DEAL,
    QUEUE_DEPTH,
    SECOND_DEAL,
    Seeded,
)
from tests.integration.web.web_client import signed_in

PAGES = [
    "/",
    "/dashboard/fragment",
    "/runs",
    "/errors",
    "/errors?state=resolved",
    "/flows",
    "/flows/preview",
    "/connections",
    "/reconciliation",
]
NAV = ["/", "/runs", "/errors", "/flows", "/reconciliation", "/connections"]


def metric(html: str, name: str) -> str:
    match = re.search(rf'data-metric="{name}">([^<]*)<', html)
    assert match, f"no metric {name}"
    return match.group(1).strip()


@pytest.mark.parametrize("username", ["vera", "otto", "ada"])
def test_every_role_reads_every_page(console_app: FastAPI, seeded: Seeded, username: str) -> None:
    with signed_in(console_app, username) as client:
        for path in [*PAGES, f"/runs/{seeded.failed_run}", f"/errors/{seeded.error_id}"]:
            response = client.get(path)
            assert response.status_code == 200, path
            assert "text/html" in response.headers["content-type"]
        audit_page = client.get("/audit")
    assert audit_page.status_code == (200 if username == "ada" else 403)


def test_anonymous_is_sent_to_login(console_app: FastAPI, seeded: Seeded) -> None:
    with TestClient(console_app, follow_redirects=False) as client:
        for path in [*PAGES, "/audit", f"/runs/{seeded.ok_run}", f"/errors/{seeded.error_id}"]:
            response = client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next="), path


@pytest.mark.parametrize(("username", "audit_link"), [("vera", False), ("ada", True)])
def test_navigation(console_app: FastAPI, username: str, audit_link: bool) -> None:
    with signed_in(console_app, username) as client:
        html = client.get("/runs").text
    nav = html.split('<nav class="nav">', 1)[1].split("</nav>", 1)[0]
    for path in NAV:
        assert f'href="{path}"' in nav
    assert ('href="/audit"' in nav) is audit_link
    assert '<script src="/static/console.js"' in html


def test_dashboard_figures(console_app: FastAPI, seeded: Seeded) -> None:
    with signed_in(console_app, "vera") as client:
        page = client.get("/").text
        fragment = client.get("/dashboard/fragment").text
    assert 'id="dashboard"' in page
    assert 'data-refresh="/dashboard/fragment"' in page
    assert 'data-refresh-seconds="15"' in page
    for html in (page, fragment):
        assert metric(html, "synced-24h") == "2"
        assert metric(html, "failed-24h") == "1"
        assert metric(html, "success-rate") == "66.7 %"
        assert metric(html, "latency-p50") == "2000 ms"  # successes only: 1000, 3000 ms
        assert metric(html, "latency-p95") == "2900 ms"
        assert metric(html, "open-errors") == "1"
        assert metric(html, "queue-depth") == str(QUEUE_DEPTH)
        assert metric(html, "salesforce-api-usage").startswith("8 / 100000")
        assert re.match(r"\d+ / \d+$", metric(html, "netsuite-in-flight"))
    chart = page.split('<svg id="synced-per-hour"', 1)[1].split("</svg>", 1)[0]
    bars = re.findall(r'<rect class="bar"[^>]*data-value="([\d.]+)"><title>([^<]+)</title>', chart)
    assert len(bars) == 24
    assert [value for value, _ in bars[-3:]] == ["1", "1", "0"]  # 07:00, 08:00, 09:00 (now)
    assert "07:00 UTC: 1 synced, 0 failed" in bars[-3][1]
    assert "08:00 UTC: 1 synced, 1 failed" in bars[-2][1]
    by_class = page.split('id="errors-by-class"', 1)[1].split("</table>", 1)[0]
    assert 'data-class="remote_rejection"' in by_class
    assert "<td>1</td>" in by_class
    assert 'id="connections"' in page
    assert "not checked" in page


def test_run_list_filters_and_links(console_app: FastAPI, seeded: Seeded) -> None:
    with signed_in(console_app, "vera") as client:
        everything = client.get("/runs").text
        failed = client.get("/runs", params={"status": "failed"}).text
        one = client.get("/runs", params={"opportunity": SECOND_DEAL}).text
        short = client.get("/runs", params={"opportunity": SECOND_DEAL[:15]}).text
        not_an_id = client.get("/runs", params={"opportunity": "not-an-id"}).text
        bad = client.get("/runs", params={"status": "exploded"})
    assert 'id="run-filters"' in everything
    assert set(re.findall(r'data-run-id="([^"]+)"', everything)) == {
        seeded.ok_run,
        seeded.second_run,
        seeded.failed_run,
    }
    assert re.findall(r'data-run-id="([^"]+)"', failed) == [seeded.failed_run]
    assert f'href="/runs/{seeded.failed_run}"' in failed
    assert re.findall(r'data-run-id="([^"]+)"', one) == [seeded.second_run]
    assert re.findall(r'data-run-id="([^"]+)"', short) == [seeded.second_run]  # 15 characters
    assert "is not a Salesforce id" in not_an_id
    assert len(re.findall(r"data-run-id=", not_an_id)) == 3
    assert bad.status_code == 200
    assert "Unknown status" in bad.text
    assert len(re.findall(r"data-run-id=", bad.text)) == 3


def test_run_pages_are_bounded(
    console_app: FastAPI, console_ledger: sessionmaker[Session], seeded: Seeded
) -> None:
    with session_scope(console_ledger) as session:
        for number in range(205):
            runs.start_run(
                session,
                workflow_id=f"deal:bulk{number}:1",
                opportunity_id=f"006BULK{number:011d}",
                trigger="poller",
                received_at=seeded.at,
            )
    with signed_in(console_app, "vera") as client:
        first = client.get("/runs", params={"per_page": 5000}).text
        last = client.get("/runs", params={"per_page": 200, "page": 2}).text
    assert len(re.findall(r"data-run-id=", first)) == 200
    assert len(re.findall(r"data-run-id=", last)) == 8  # 208 runs in all
    assert "Page 2 of 2" in last
    assert 'rel="prev"' in last


def test_run_detail_shows_steps_calls_and_records(console_app: FastAPI, seeded: Seeded) -> None:
    with signed_in(console_app, "vera") as client:
        ok = client.get(f"/runs/{seeded.ok_run}").text
        failed = client.get(f"/runs/{seeded.failed_run}").text
        missing = client.get("/runs/no-such-run")
    assert 'id="run"' in ok
    steps = ok.split('id="steps"', 1)[1].split("</ol>", 1)[0]
    assert 'data-step="extract"' in steps
    assert "120 ms" in steps
    assert 'data-step="plan"' in steps
    assert "8 ms" in steps
    calls = ok.split('id="calls"', 1)[1].split("</table>", 1)[0]
    assert calls.count("<tr data-call-id=") == 3
    assert "/record/v1/contact/eid:SFCON-1" in calls
    assert "USER_ERROR" in calls
    assert "<td>400</td>" in calls
    assert "<td>120</td>" in calls
    records = ok.split('id="records"', 1)[1].split("</table>", 1)[0]
    assert "SFACC-1" in records
    assert "412" in records
    assert "(written by this run)" in records
    failed_records = failed.split('id="records"', 1)[1].split("</table>", 1)[0]
    assert FAILED_CUSTOMER.external_id in failed_records
    assert f'href="/errors/{seeded.error_id}"' in failed
    assert missing.status_code == 404


def test_error_list_tabs_and_class_filter(console_app: FastAPI, seeded: Seeded) -> None:
    with signed_in(console_app, "vera") as client:
        open_tab = client.get("/errors").text
        resolved = client.get("/errors", params={"state": "resolved"}).text
        other = client.get("/errors", params={"class": "validation"}).text
    assert 'id="tab-open"' in open_tab
    assert 'id="tab-resolved"' in open_tab
    assert re.findall(r'data-error-id="(\d+)"', open_tab) == [str(seeded.error_id)]
    assert "Acme" not in open_tab or "&amp;" in open_tab
    assert re.findall(r'data-error-id="(\d+)"', resolved) == []
    assert re.findall(r'data-error-id="(\d+)"', other) == []


def test_error_detail_shows_what_is_needed_to_fix_it(console_app: FastAPI, seeded: Seeded) -> None:
    with signed_in(console_app, "vera") as client:
        html = client.get(f"/errors/{seeded.error_id}").text
    section = html.split('id="error"', 1)[1]
    for fact in [
        "remote_rejection",
        f"{FAILED_CUSTOMER}",
        "subsidiary",
        "INVALID_KEY_OR_REF",
        "Invalid subsidiary reference",
        "ns-req-42",
        "open",
        f'href="/runs?opportunity={FAILED_DEAL}"',
    ]:
        assert fact in section, fact


def test_viewer_sees_no_action_forms(console_app: FastAPI, seeded: Seeded) -> None:
    with signed_in(console_app, "vera") as client:
        detail = client.get(f"/errors/{seeded.error_id}").text
        listing = client.get("/errors").text
        connections = client.get("/connections").text
    for form in ('id="retry"', 'id="resolve"', 'id="edit-and-retry"'):
        assert form not in detail
    assert 'id="bulk-retry"' not in listing
    assert 'name="error_id"' not in listing
    assert 'id="test-salesforce"' not in connections


def test_operator_sees_action_forms(console_app: FastAPI, seeded: Seeded) -> None:
    with signed_in(console_app, "otto") as client:
        detail = client.get(f"/errors/{seeded.error_id}").text
        contact = client.get(
            f"/errors/{seeded.error_id}", params={"record": "contact/SFCON-003000000000003AAA"}
        ).text
        listing = client.get("/errors").text
        connections = client.get("/connections").text
    assert f'action="/errors/{seeded.error_id}/retry"' in detail
    assert 'textarea name="reason" required' in detail
    edit = detail.split('id="edit-and-retry"', 1)[1].split("</form>", 1)[0]
    assert f'<option value="{FAILED_CUSTOMER}" selected>' in edit
    assert "&#34;companyName&#34;: &#34;Acme &amp; Co &lt;Ltd&gt;&#34;" in edit  # escaped JSON
    contact_edit = contact.split('id="edit-and-retry"', 1)[1].split("</form>", 1)[0]
    assert "&#34;firstName&#34;: &#34;Ann&#34;" in contact_edit
    assert 'id="bulk-retry"' in listing
    assert 'id="bulk-retry-submit"' in listing
    assert f'name="error_id" value="{seeded.error_id}"' in listing
    assert 'id="test-salesforce"' in connections
    assert 'id="test-netsuite"' in connections


def test_flow_page_renders_the_shipped_flow(console_app: FastAPI) -> None:
    with signed_in(console_app, "vera") as client:
        html = client.get("/flows").text
        preview = client.get("/flows/preview").text
        bad_id = client.get("/flows/preview", params={"opportunity": "not-an-id"})
    section = html.split('id="flow"', 1)[1]
    assert "cpq_closed_won" in section
    assert 'data-record="customer"' in section
    assert "NetSuite customer" in section
    assert 'data-field="companyName"' in section
    assert "Validation rules" in section
    assert "max_length" in section
    assert 'id="preview"' in preview
    assert 'id="plan"' not in preview
    assert bad_id.status_code == 400
    assert 'class="alert" role="alert"' in bad_id.text
    assert "not a Salesforce Opportunity id" in bad_id.text


def test_reconciliation_without_and_with_reports(
    console_app: FastAPI, console_ledger: sessionmaker[Session]
) -> None:
    with signed_in(console_app, "vera") as client:
        empty = client.get("/reconciliation").text
        assert "No report yet" in empty
        assert 'id="reconcile-items"' in empty
        assert 'id="reconcile-trend"' in empty
        with session_scope(console_ledger) as session:
            for day, drift in ((1, 3), (2, 1)):
                report = {
                    "summary": {"missing": 0, "drift": drift, "orphan": 0, "duplicate": 0,
                                "money": 0, "blocked": 1},
                    "items": [{"category": "drift", "record_type": "customer",
                               "external_id": "SFACC-9", "netsuite_id": "77",
                               "opportunities": [OK_DEAL], "message": "fields differ",
                               "differences": [{"field": "companyName", "expected": "Acme",
                                                "actual": "ACME Ltd"}]}],
                    "checked": {"deals": 4, "records": 30},
                    "generated_at": f"2026-03-0{day}T02:30:00Z",
                }  # fmt: skip
                store_report(session, report, "system:reconcile")
        html = client.get("/reconciliation").text
    assert "No report yet" not in html
    assert '<span id="reconcile-generated">2026-03-02 02:30:00 UTC</span>' in html
    assert re.search(r"\(by system:reconcile\):\s+2 findings", html)
    counts = html.split('id="reconcile-counts"', 1)[1].split("</table>", 1)[0]
    assert '<td data-category="drift">1</td>' in counts
    assert '<td data-category="blocked">1</td>' in counts
    items = html.split('id="reconcile-items"', 1)[1].split("</table>", 1)[0]
    assert "SFACC-9" in items
    assert "ACME Ltd" in items
    assert f"/runs?opportunity={OK_DEAL}" in items
    trend = html.split('id="reconcile-trend"', 1)[1].split("</svg>", 1)[0]
    assert re.findall(r'data-value="([\d.]+)"', trend) == ["4", "2"]  # oldest first


def test_audit_page_lists_entries(
    console_app: FastAPI, console_ledger: sessionmaker[Session]
) -> None:
    with session_scope(console_ledger) as session:
        audit(session, "otto", "error.retry", target_type="error", target_id=5,
              detail={"workflow_id": "retry:5:1"})  # fmt: skip
    with signed_in(console_app, "ada") as client:
        html = client.get("/audit").text
        only = client.get("/audit", params={"action": "error.retry"}).text
    table = html.split('id="audit"', 1)[1].split("</table>", 1)[0]
    assert "error.retry" in table
    assert "otto" in table
    assert 'href="/errors/5"' in table
    assert "retry:5:1" in table
    assert "user.added" in table  # the fixture's users
    assert len(re.findall(r"data-audit-id=", only)) == 1
