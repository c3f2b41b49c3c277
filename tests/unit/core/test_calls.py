"""Redaction: nothing credential-like leaves a call record or a log line."""

from __future__ import annotations

import dataclasses
import json
import random
import string
from urllib.parse import parse_qsl, quote, urlencode

import pytest
import structlog

from dealbridge.core.backoff import backoff_delay
from dealbridge.core.calls import (
    REDACTED,
    CallRecord,
    is_secret_name,
    recorded_path,
    redact_mapping,
    redact_text,
    redact_url,
)
from dealbridge.core.logs import configure_logging


def test_redact_url_masks_credential_parameters_and_userinfo() -> None:
    url = "https://user:pw@host.example/services/rest/x?q=name&access_token=abc123&limit=5"
    redacted = redact_url(url)
    assert "abc123" not in redacted
    assert "pw" not in redacted
    assert "q=name" in redacted
    assert "limit=5" in redacted


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://user:pw@h.example/services/rest/record/v1/customer/eid:A%2F1", None),
        ("https://h.example/services/data/v60.0/query?q=SELECT+Id+FROM+Account&limit=5", None),
        ("https://h.example/x?access_token=abc123&limit=5", "/x?access_token=%2A%2A%2A&limit=5"),
        ("https://h.example/x?", "/x"),
    ],
)
def test_recorded_path_is_the_redacted_url_without_its_host(url: str, kept: str | None) -> None:
    """The log keeps what ``redact_url`` keeps, minus scheme and host; no secret, no userinfo."""
    expected = redact_url(url).split("h.example", 1)[1]
    assert recorded_path(url) == expected
    if kept is not None:
        assert recorded_path(url) == kept
    assert "pw" not in recorded_path(url)
    assert "abc123" not in recorded_path(url)


def test_a_call_record_as_plain_data_is_what_asdict_gives() -> None:
    record = CallRecord(
        system="netsuite",
        method="PUT",
        path="/record/v1/customer/eid:A",
        status=204,
        duration_ms=1.5,
        extra={"operation": "upsert customer"},
        request_body="{}",
    )
    data = record.as_dict()
    assert data == dataclasses.asdict(record)
    data["extra"]["at"] = "now"
    assert record.extra == {"operation": "upsert customer"}  # the record is never changed


def test_redact_mapping_masks_nested_secret_keys_and_known_values() -> None:
    data = {
        "client_assertion": "eyJhbGciOi",
        "nested": [{"token_secret": "x", "name": "Acme uses hunter22 as a word"}],
        "ok": 3,
    }
    redacted = redact_mapping(data, secrets=("hunter22",))
    assert redacted["client_assertion"] == REDACTED
    assert redacted["nested"][0]["token_secret"] == REDACTED
    assert "hunter22" not in redacted["nested"][0]["name"]
    assert redacted["ok"] == 3


def test_redact_text_ignores_trivially_short_secrets() -> None:
    assert redact_text("abc", ("a",)) == "abc"


def test_log_lines_mask_secret_keys(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    try:
        structlog.get_logger("t").info("login", consumer_secret="do-not-print", account="123")
    finally:
        # configure_logging binds the sink to this test's captured stderr; later tests must not
        # write into a stream pytest has closed.
        structlog.reset_defaults()
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["consumer_secret"] == REDACTED
    assert line["account"] == "123"


@pytest.mark.parametrize("attempt", [1, 2, 5, 30])
def test_backoff_stays_under_the_cap(attempt: int) -> None:
    for _ in range(50):
        assert 0 <= backoff_delay(attempt, base=0.5, cap=8.0) <= 8.0


def test_backoff_honours_retry_after_as_a_floor() -> None:
    assert backoff_delay(1, base=0.01, cap=30.0, retry_after=5.0) >= 5.0


def test_logging_follows_a_replaced_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: the sink used to be bound at configuration time and outlive its stream."""
    import io
    import sys

    configure_logging("INFO", "json")
    try:
        replacement = io.StringIO()
        monkeypatch.setattr(sys, "stderr", replacement)
        structlog.get_logger("t").info("after_swap")
        assert "after_swap" in replacement.getvalue()
    finally:
        structlog.reset_defaults()


def _round_trip(query: str) -> str:
    """What ``recorded_path`` always wrote: the query decoded and encoded again."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(key, REDACTED if is_secret_name(key) else value) for key, value in pairs])


def _random_query(chance: random.Random) -> str:
    letters = string.ascii_letters + " ,=&%+'\"_-.~/éü"
    escapes = [f"%{byte:02X}" for byte in range(256)] + [f"%{byte:02x}" for byte in range(256)]

    def word(size: int) -> str:
        return "".join(chance.choice(letters) for _ in range(chance.randint(0, size)))

    pairs: list[str] = []
    for _ in range(chance.randint(1, 4)):
        kind = chance.random()
        if kind < 0.6:
            pairs.append(f"{quote(word(6), safe='')}={quote(word(12), safe='')}")
        elif kind < 0.7:
            pairs.append(quote(word(6), safe=""))
        elif kind < 0.8:
            pairs.append(f"{word(6)}={word(12)}")
        else:
            pieces = ["a", "Z", "9", "_", "-", ".", "~", *escapes]
            pairs.append("".join(chance.choice(pieces) for _ in range(6)) + "=%20")
    query = "&".join(pairs)
    return query.replace("a", "token", 1) if chance.random() < 0.1 else query


def test_a_query_is_recorded_as_its_round_trip_would_write_it() -> None:
    """The short way for queries the connectors encode gives what decoding and encoding gave."""
    chance = random.Random(8)
    for _ in range(4000):
        query = _random_query(chance)
        url = f"https://h.example/services/data/v61.0/query?{query}"
        kept = _round_trip(query)
        path = "/services/data/v61.0/query"
        assert recorded_path(url) == (f"{path}?{kept}" if kept else path), query


def test_a_long_soql_query_keeps_its_text() -> None:
    soql = "SELECT Id, Name FROM Opportunity WHERE Id = '006A' AND Amount > 10"
    recorded = recorded_path("https://h.example/q?q=" + quote(soql, safe=""))
    assert recorded == "/q?" + urlencode({"q": soql})
    assert "SELECT+Id%2C+Name+FROM+Opportunity" in recorded
