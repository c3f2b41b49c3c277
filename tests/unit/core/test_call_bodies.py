"""Bodies in call records: credential values masked, size bounded, non-JSON summarised.

``capture_body`` runs on every remote call, so these tests pin what it keeps and what it must
never keep; the connectors' own use of it is checked against the emulators (tests/contract).
"""

from __future__ import annotations

import json

import pytest
import structlog

from dealbridge.core.calls import (
    MAX_BODY_BYTES,
    REDACTED,
    TOKEN_ENDPOINT_BODY,
    CallRecord,
    capture_body,
    capture_exchange,
    log_call,
    mask_json_text,
)

JSON = "application/json; charset=utf-8"


def kept(data: object, *, secrets: tuple[str, ...] = (), limit: int = MAX_BODY_BYTES) -> str:
    text = capture_body(json.dumps(data).encode(), JSON, secrets, limit=limit)
    assert text is not None
    return text


def test_a_body_without_credentials_is_kept_as_sent() -> None:
    data = {"companyName": "Acme", "subsidiary": {"id": "1"}, "items": [1, 2.5, None, True]}
    assert kept(data) == json.dumps(data)


def test_a_token_endpoint_style_body_loses_every_credential() -> None:
    body = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": "eyJhbGciOiJQUzI1NiJ9.payload.signature",
        "client_secret": "s3cr3t-value",
        "access_token": "00Dxx!AQ.token-value",
        "refresh_token": "5Aep-refresh",
        "signature": "c2lnbmF0dXJl",
        "Authorization": "Bearer 00Dxx!AQ.token-value",
        "instance_url": "https://example.my.salesforce.com",
    }
    text = kept(body)
    for value in (
        "eyJhbGciOiJQUzI1NiJ9",
        "s3cr3t-value",
        "00Dxx!AQ.token-value",
        "5Aep-refresh",
        "c2lnbmF0dXJl",
    ):
        assert value not in text
    masked = json.loads(text)
    assert masked["client_assertion"] == masked["client_secret"] == REDACTED
    assert masked["Authorization"] == masked["signature"] == REDACTED
    assert masked["grant_type"] == "client_credentials"
    assert masked["instance_url"] == "https://example.my.salesforce.com"


def test_nested_credential_keys_are_masked_at_any_depth_with_their_whole_value() -> None:
    body = {
        "records": [
            {"Name": "Acme", "Api_Key__c": "AK-1234567", "IsPrivate": False},
            {"Name": "Beta", "config": {"password": 12345678, "sessionId": ["S-1", {"x": "S-2"}]}},
        ],
        "privateKey": {"pem": "-----BEGIN KEY-----MIIB", "bits": 2048},
    }
    text = kept(body)
    for value in ("AK-1234567", "12345678", "S-1", "S-2", "MIIB", "2048"):
        assert value not in text
    masked = json.loads(text)
    assert masked["records"][0] == {"Name": "Acme", "Api_Key__c": REDACTED, "IsPrivate": False}
    assert masked["records"][1]["config"]["password"] == REDACTED
    assert masked["records"][1]["config"]["sessionId"] == [REDACTED, {REDACTED: REDACTED}]
    assert f'"privateKey": {{"{REDACTED}": "{REDACTED}", "{REDACTED}": "{REDACTED}"}}' in text


def test_a_key_spelt_with_unicode_escapes_is_still_recognised() -> None:
    raw = b'{"to\\u006Ben": "tok-9876543", "name": "x"}'
    text = capture_body(raw, "application/json")
    assert text is not None
    assert "tok-9876543" not in text
    assert json.loads(text)["token"] == REDACTED


def test_words_inside_values_do_not_mask_their_neighbours() -> None:
    body = {"Name": "Turkey Key Accounts", "Description": 'say "token": here', "Amount": 10}
    assert json.loads(kept(body)) == body


def test_known_secret_values_are_replaced_wherever_they_occur() -> None:
    body = {"message": "session 00Dxx!AQ.abcdefgh is invalid", "errorCode": "INVALID_SESSION_ID"}
    text = kept(body, secrets=("00Dxx!AQ.abcdefgh",))
    assert "00Dxx!AQ.abcdefgh" not in text
    assert json.loads(text)["message"] == f"session {REDACTED} is invalid"


def test_a_huge_body_is_cut_with_a_marker_saying_how_much() -> None:
    rows = [{"id": str(n), "companyName": f"Customer {n:05d}"} for n in range(5000)]
    raw = json.dumps({"items": rows, "hasMore": False}).encode()
    text = capture_body(raw, JSON)
    assert text is not None
    head, marker = text.rsplit("\n", 1)
    assert head == raw[:MAX_BODY_BYTES].decode()
    assert marker == (
        f"… [truncated: {len(raw) - MAX_BODY_BYTES} of {len(raw)} bytes not recorded]"
    )


def test_a_cut_inside_a_credential_value_masks_what_is_left_of_it() -> None:
    raw = b'{"name": "Acme", "client_secret": "abcdefghijklmnopqrstuvwxyz"}'
    cut_at = raw.index(b"klmn")
    text = capture_body(raw, JSON, limit=cut_at)
    assert text is not None
    assert "abcdefghij" not in text
    assert text.startswith(f'{{"name": "Acme", "client_secret": "{REDACTED}"')


def test_a_cut_through_a_known_secret_masks_its_visible_start() -> None:
    secret = "S3CRET-VALUE-0123456789"
    raw = json.dumps({"note": f"echo {secret} end"}).encode()
    text = capture_body(raw, JSON, (secret,), limit=raw.index(b"0123"))
    assert text is not None
    assert "S3CRET-VALUE" not in text
    assert f"echo {REDACTED}\n…" in text


def test_a_cut_never_splits_a_character() -> None:
    raw = json.dumps({"name": "Zürich GmbH"}, ensure_ascii=False).encode()
    cut_at = raw.index("ü".encode()) + 1  # inside the two bytes of "ü"
    text = capture_body(raw, JSON, limit=cut_at)
    assert text is not None
    head = text.split("\n", 1)[0]
    assert head == '{"name": "Z'
    assert f"{len(raw) - len(head.encode())} of {len(raw)} bytes" in text


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b"", JSON, None),
        (
            b"<html>502 Bad Gateway</html>",
            "text/html",
            "[text/html body of 28 bytes: not recorded]",
        ),
        (b"access_token=abc", None, "[untyped body of 16 bytes: not recorded]"),
    ],
)
def test_empty_and_non_json_bodies(
    content: bytes, content_type: str | None, expected: str | None
) -> None:
    assert capture_body(content, content_type) == expected


def test_masking_keeps_the_text_layout() -> None:
    text = '{\n  "name": "Acme",\n  "token" : "abc",\n  "n": [1, 2]\n}'
    assert mask_json_text(text) == '{\n  "name": "Acme",\n  "token" : "***",\n  "n": [1, 2]\n}'


class _Message:
    def __init__(self, content: bytes, content_type: str) -> None:
        self.content = content
        self.headers = {"content-type": content_type}


def test_capture_exchange_reads_both_sides() -> None:
    request = _Message(b'{"password": "pw-123456"}', "application/json")
    response = _Message(b'{"id": "42"}', "application/json")
    assert capture_exchange(request, response) == ('{"password": "***"}', '{"id": "42"}')
    assert capture_exchange(request, None) == ('{"password": "***"}', None)


def test_log_lines_leave_bodies_out() -> None:
    record = CallRecord(
        "netsuite",
        "POST",
        "/record/v1/customer",
        204,
        1.0,
        request_body='{"companyName": "Acme"}',
        response_body=TOKEN_ENDPOINT_BODY,
    )
    with structlog.testing.capture_logs() as logs:
        log_call(record)
    [line] = logs
    assert "request_body" not in line
    assert "response_body" not in line
    assert line["path"] == "/record/v1/customer"
    assert record.as_dict()["request_body"] == '{"companyName": "Acme"}'
