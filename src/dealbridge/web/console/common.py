"""What every console page shares: the role dependencies, paging, notices and the ledger hand-off.

Why ``release``: on SQLite every ledger transaction starts with ``BEGIN IMMEDIATE`` (see
``db/session.py``), and the request's own session took that lock when the role guard read the
user. An action that goes through ``sync.operator`` (or any other component opening its own
session) must end the request's transaction first, or it would wait on a lock its own request
holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends
from sqlalchemy.orm import Session

from dealbridge.web.context import ledger_session
from dealbridge.web.security.roles import Principal, require_role

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200

Viewer = Annotated[Principal, Depends(require_role("viewer"))]
OperatorRole = Annotated[Principal, Depends(require_role("operator"))]
Admin = Annotated[Principal, Depends(require_role("admin"))]
LedgerSession = Annotated[Session, Depends(ledger_session)]

# Notices are chosen by code, never echoed from the query string (no reflected text).
NOTICES = {
    "retried": "Retry queued: the deal will be synced again as it is now in Salesforce.",
    "resolved": "Error resolved. The reason is kept in the audit log.",
    "edited": "Edited payload saved; the deal is queued to sync again with it.",
    "bulk-retried": "Retries queued for the selected errors.",
    "nothing-selected": "Select at least one error to retry.",
}


def notice_text(code: str | None) -> str | None:
    """The sentence for a notice code from a redirect, or ``None`` for an unknown code."""
    return NOTICES.get(code or "")


def release(session: Session) -> None:
    """End the request's ledger transaction before another session writes (module docstring)."""
    session.commit()


@dataclass(frozen=True)
class Pager:
    """One page of a list: which rows, and the links to the neighbouring pages.

    Attributes:
        page: 1-based page number.
        per_page: Rows per page (at most ``MAX_PER_PAGE``).
        total: Rows matching the filters.
        params: The list's other query parameters, kept in the page links.
    """

    page: int
    per_page: int
    total: int
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        page: int,
        per_page: int,
        total: int,
        params: dict[str, str | None] | None = None,
    ) -> Pager:
        """A pager with ``page`` and ``per_page`` brought into range."""
        size = min(max(1, per_page), MAX_PER_PAGE)
        last = max(1, -(-total // size))
        kept = tuple((key, value) for key, value in (params or {}).items() if value)
        return cls(min(max(1, page), last), size, total, kept)

    @property
    def offset(self) -> int:
        """Rows before this page."""
        return (self.page - 1) * self.per_page

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))

    def link(self, page: int) -> str:
        """The query string of ``page`` with the same filters."""
        query = [*self.params, ("page", str(page))]
        if self.per_page != DEFAULT_PER_PAGE:
            query.append(("per_page", str(self.per_page)))
        return "?" + urlencode(query)

    @property
    def previous(self) -> str | None:
        """The link to the previous page, if there is one."""
        return self.link(self.page - 1) if self.page > 1 else None

    @property
    def next(self) -> str | None:
        """The link to the next page, if there is one."""
        return self.link(self.page + 1) if self.page < self.pages else None


def blank_to_none(value: str | None) -> str | None:
    """A filter left empty in a form means "any"."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None
