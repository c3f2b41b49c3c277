"""One record per remote API call, and the single hook every connector reports through.

Why a hook rather than direct logging: the same record feeds the structured log today and the
run history, metrics and console later, and redaction happens once, here, before any of them see
it.
"""

from __future__ import annotations

import codecs
import functools
import json
import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import structlog

REDACTED = "***"

_SECRET_WORDS = re.compile(
    r"(secret|token|password|passwd|authorization|assertion|signature|private|key|session|cookie)",
    re.IGNORECASE,
)
# Query parameters that are identifiers, not credentials, even though their names look risky.
_SAFE_QUERY_KEYS = frozenset({"q", "limit", "offset", "replace", "expandsubresources", "fields"})


@dataclass(frozen=True)
class CallRecord:
    """What one HTTP call to a remote system did, with nothing secret in it."""

    system: str
    method: str
    path: str
    status: int | None
    duration_ms: float
    error_code: str | None = None
    request_id: str | None = None
    attempt: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    request_body: str | None = None
    response_body: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for logs and storage.

        Shallow (``extra`` copied, its values shared): every call of every deal is logged
        through here, and ``dataclasses.asdict`` deep-copies field by field, several times the
        cost, for values that are strings and numbers.
        """
        data = dict(self.__dict__)
        data["extra"] = dict(self.extra)
        return data


CallObserver = Callable[[CallRecord], None]

_log = structlog.get_logger("dealbridge.calls")


def log_call(record: CallRecord) -> None:
    """Default observer: one structured log line per call.

    Bodies stay out of the line: up to 16 KiB per call would swamp the log, and the run history
    (``dealbridge.db.api_calls``) is where an operator reads them.
    """
    data = record.as_dict()
    del data["request_body"], data["response_body"]
    _log.info("api_call", **data)


def is_secret_name(name: str) -> bool:
    """Whether a header, field or parameter name suggests its value is a credential."""
    return name.lower() not in _SAFE_QUERY_KEYS and bool(_SECRET_WORDS.search(name))


def redact_url(url: str) -> str:
    """Keep a URL's path and harmless query parameters, mask anything credential-like."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, _redacted_query(parts.query), ""))


def recorded_path(url: str) -> str:
    """What the call log keeps of a request's URL: its path and redacted query, no host.

    Most calls have no query, and those skip the parse and re-encode of ``redact_url``.
    """
    parts = urlsplit(url)
    query = _redacted_query(parts.query) if parts.query else ""
    return f"{parts.path}?{query}" if query else parts.path


def _redacted_query(query: str) -> str:
    """A query string with credential-named parameters' values masked (re-encoded)."""
    if (
        _ENCODED_PAIRS.fullmatch(query)
        and not _NOT_KEPT_ESCAPE.search(query)
        and not any(is_secret_name(pair.partition("=")[0]) for pair in query.split("&"))
    ):
        return query.replace("%20", "+")
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(key, REDACTED if is_secret_name(key) else value) for key, value in pairs])


# A query as the connectors encode one (``core.http_transport``): ``name=value`` pairs of
# unreserved characters and ``%XX`` escapes of the other ASCII characters. Decoded and encoded
# again by ``urlencode`` it comes back the same but for spaces, written ``+``; a deal's Salesforce
# queries are ~1.8 KB of it, which that round trip decoded and encoded character by character
# (issue 8). Any other escape (lower case, of a letter, of UTF-8) takes the round trip.
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_ENCODED_PAIRS = re.compile(r"[\w.~%-]*=[\w.~%-]*(?:&[\w.~%-]*=[\w.~%-]*)*", re.ASCII)


def _escapes_of(characters: Iterable[str]) -> str:
    """A pattern of the ``%XX`` escapes of ASCII ``characters``: ``2[DE]|3[0-9]…``."""
    by_high: dict[int, str] = {}
    for byte in sorted(ord(character) for character in characters):
        by_high[byte >> 4] = by_high.get(byte >> 4, "") + f"{byte & 15:X}"
    return "|".join(f"{high:X}[{lows}]" for high, lows in sorted(by_high.items()))


_NOT_KEPT_ESCAPE = re.compile(f"%(?:(?![0-7][0-9A-F])|{_escapes_of(_UNRESERVED)})")


def redact_mapping(data: Any, secrets: tuple[str, ...] = ()) -> Any:
    """Deep-copy JSON-like data with credential-named keys and known secret values masked."""
    if isinstance(data, dict):
        return {
            key: REDACTED if is_secret_name(str(key)) else redact_mapping(value, secrets)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [redact_mapping(item, secrets) for item in data]
    if isinstance(data, str):
        return redact_text(data, secrets)
    return data


def redact_text(text: str, secrets: tuple[str, ...]) -> str:
    """Replace every occurrence of a known secret value in free text."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


# --- Bodies -------------------------------------------------------------------------------------
#
# Every call of every deal passes through ``capture_body``, so its cost is bounded by the size kept
# (``MAX_BODY_BYTES``), never by the size of the body: the body is cut first, and the text kept is
# only tokenised when it could hold a credential-named key at all (one ``str.lower`` and a few
# substring searches decide that). Redaction works on the JSON text itself, so a body cut in the
# middle is still masked, and a body is never decoded into Python objects and encoded again.

MAX_BODY_BYTES = 8 * 1024
TOKEN_ENDPOINT_BODY = "[token endpoint: body not recorded]"  # noqa: S105 - a marker
_MASKED_VALUE = f'"{REDACTED}"'
# The words of ``_SECRET_WORDS``: when none occurs anywhere in a text, no key in it is secret.
_SECRET_WORD_BYTES = tuple(word.encode() for word in _SECRET_WORDS.pattern.strip("()").split("|"))
# A JSON string (possibly cut off at the end of the text) or a run of anything else. Scanning
# alternates between the two, so a string token always starts at a real opening quote.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[^"]+', re.DOTALL)
_STRUCTURE = re.compile(r"([{}\[\],:])")
_KEEP_LITERALS = frozenset({"true", "false", "null"})


class HttpMessage(Protocol):
    """What ``capture_exchange`` reads of a request or response (``httpx`` ones fit)."""

    @property
    def content(self) -> bytes:
        """The raw body."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers; ``content-type`` is read."""


def capture_exchange(
    request: HttpMessage, response: HttpMessage | None, secrets: tuple[str, ...] = ()
) -> tuple[str | None, str | None]:
    """The request and response bodies of one call as ``CallRecord`` keeps them."""
    sent = capture_body(request.content, request.headers.get("content-type"), secrets)
    if response is None:
        return sent, None
    return sent, capture_body(response.content, response.headers.get("content-type"), secrets)


def capture_body(
    content: bytes,
    content_type: str | None,
    secrets: tuple[str, ...] = (),
    *,
    limit: int = MAX_BODY_BYTES,
) -> str | None:
    """The text of a request or response body as the run history may keep it.

    JSON bodies are kept as sent, with the value of every credential-named key masked (nested
    values included), every known secret value replaced, and anything past ``limit`` bytes cut
    with a marker saying how much. Other bodies are summarised, not kept: only JSON is parsed
    safely enough to redact. Returns None for an empty body.

    Args:
        content: The raw body.
        content_type: Its ``Content-Type`` header.
        secrets: Values that must not appear (tokens, keys) wherever they occur.
        limit: Bytes of the body kept.
    """
    if not content:
        return None
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if "json" not in media:
        return f"[{media or 'untyped'} body of {len(content)} bytes: not recorded]"
    cut = len(content) > limit
    head = content[:limit] if cut else content
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    text = decoder.decode(head, final=not cut)
    if _may_hold_secret_keys(head):
        text = mask_json_text(text)
    text = redact_text(text, secrets)
    if not cut:
        return text
    text = _mask_cut_secret(text, secrets)
    kept = limit - len(decoder.getstate()[0])
    return f"{text}\n… [truncated: {len(content) - kept} of {len(content)} bytes not recorded]"


def mask_json_text(text: str) -> str:
    """JSON text with the value of every credential-named key replaced by ``"***"``.

    Works token by token on the text rather than on parsed data, so it keeps the text's layout
    and handles a document cut off anywhere. An object or array under such a key is kept as
    brackets with every scalar inside masked; ``true``, ``false`` and ``null`` stay, as no
    credential is spelt that way.
    """
    out: list[str] = []
    depth = 0  # > 0 inside an object or array held by a credential-named key
    awaiting = False  # a credential-named key and its colon were seen; the value comes next
    last_string: str | None = None  # the latest string token: a key if a colon follows
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            if awaiting or depth:
                out.append(_MASKED_VALUE)
                awaiting = False
                last_string = None
            else:
                out.append(token)
                last_string = token
            continue
        if not (awaiting or depth) and not _opens_secret_value(last_string, token):
            out.append(token)
            last_string = None
            continue
        # A run of structure and literals that starts, continues or ends a masked value.
        for piece in _STRUCTURE.split(token):
            if piece == ":":
                awaiting = not depth and last_string is not None
                last_string = None
            elif piece in ("{", "["):
                depth += 1 if (awaiting or depth) else 0
                awaiting = False
            elif piece in ("}", "]"):
                depth = max(depth - 1, 0)
            elif piece == ",":
                awaiting = False
            elif piece.strip() and (awaiting or depth):
                literal = piece.strip()
                if literal not in _KEEP_LITERALS:
                    piece = piece.replace(literal, _MASKED_VALUE)
                awaiting = False
            out.append(piece)
        last_string = None
    return "".join(out)


def _opens_secret_value(last_string: str | None, run: str) -> bool:
    """Whether ``run`` follows a credential-named key with its colon (a value is due)."""
    return last_string is not None and run.lstrip().startswith(":") and _secret_key(last_string)


def _may_hold_secret_keys(raw: bytes) -> bool:
    r"""Whether a credential-named key could be in ``raw`` (cheap; false positives are fine).

    Bytes rather than text: the substring searches are the main cost of capturing a body, and
    they run faster there. A ``\u`` escape can spell any letter, so a body holding one is always
    checked key by key.
    """
    lowered = raw.lower()
    return b"\\u" in lowered or any(word in lowered for word in _SECRET_WORD_BYTES)


@functools.lru_cache(maxsize=1024)
def _secret_key(token: str) -> bool:
    """Whether a JSON string token names a credential; its escapes decoded first."""
    name = token[1:-1] if token.endswith('"') and len(token) > 1 else token[1:]
    if "\\" in name:
        try:
            name = json.loads(token)
        except ValueError:
            return True  # undecodable: assume the worst
    return is_secret_name(name)


def _mask_cut_secret(text: str, secrets: tuple[str, ...]) -> str:
    """Mask the start of a known secret left at the end of a cut text."""
    for secret in secrets:
        if len(secret) < 4:
            continue
        for size in range(min(len(secret) - 1, len(text)), 3, -1):
            if text.endswith(secret[:size]):
                return text[:-size] + REDACTED
    return text
