r"""Where to send someone after login: only a path on this site (no open redirect).

Why so strict: ``/login?next=https://evil.example`` is a classic phishing aid. Browsers also
treat ``//host``, ``/\\host`` and paths with control characters or a scheme as other sites, so
only a plain absolute path survives; anything else becomes ``/``.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

DEFAULT_TARGET = "/"
MAX_TARGET_LENGTH = 2000


def safe_next(target: str | None) -> str:
    """``target`` if it is a same-site relative path, else ``/``."""
    if not target or len(target) > MAX_TARGET_LENGTH:
        return DEFAULT_TARGET
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return DEFAULT_TARGET
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return DEFAULT_TARGET
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return DEFAULT_TARGET
    return target


def login_url(path: str, query: str) -> str:
    """The login page with ``next`` pointing back at ``path?query``."""
    target = path + (f"?{query}" if query else "")
    return "/login?" + urlencode({"next": safe_next(target)})
