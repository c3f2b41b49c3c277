"""Pages of record collections and SuiteQL results (contracts §2.3, §4).

Both share NetSuite's rules: ``limit`` 1-1000 (default 1000), ``offset`` a multiple of ``limit``,
and a body of ``links`` / ``count`` / ``hasMore`` / ``offset`` / ``totalResults`` / ``items``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from dealbridge.connectors.netsuite.emulator.problems import NetSuiteProblem
from dealbridge.connectors.netsuite.models import COLLECTION_MAX_PAGE

# The code and wording of NetSuite's bad-paging error are UNCONFIRMED; §5 documents the
# ``o:errorQueryParam`` field that names the parameter, so it is sent.
INVALID_PARAMETER = "INVALID_PARAMETER"


class QueryParameterProblem(NetSuiteProblem):
    """A 400 naming the query parameter at fault in ``o:errorQueryParam`` (§5)."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(400, INVALID_PARAMETER, detail)
        self.parameter = parameter

    def body(self) -> dict[str, Any]:
        """NetSuite's error document with ``o:errorQueryParam`` set."""
        document = super().body()
        document["o:errorDetails"][0]["o:errorQueryParam"] = self.parameter
        return document


@dataclass(frozen=True)
class PageRequest:
    """A validated ``limit`` / ``offset`` pair."""

    limit: int
    offset: int

    @classmethod
    def parse(
        cls, limit: str | None, offset: str | None, max_limit: int = COLLECTION_MAX_PAGE
    ) -> PageRequest:
        """Validate the raw query values (absent = defaults: a full first page).

        Raises:
            QueryParameterProblem: For a non-integer, out-of-range or misaligned value.
        """
        size = _integer("limit", limit, max_limit, minimum=1, maximum=max_limit)
        start = _integer("offset", offset, 0, minimum=0, maximum=None)
        if start % size:
            raise QueryParameterProblem(
                "offset",
                f"Invalid value for the 'offset' query parameter: {start}. "
                f"The offset must be a multiple of the limit ({size}).",
            )
        return cls(limit=size, offset=start)


def _integer(name: str, raw: str | None, default: int, *, minimum: int, maximum: int | None) -> int:
    if raw is None or raw == "":
        return default
    value = int(raw) if raw.isdigit() else -1
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise QueryParameterProblem(
            name,
            f"Invalid value for the '{name}' query parameter: {raw}. "
            f"The value must be an integer {bounds}.",
        )
    return value


def page_url(url: str, params: Mapping[str, str], page: PageRequest, offset: int) -> str:
    """``url`` with the request's other parameters and this page's ``limit`` and ``offset``."""
    query = {
        **{k: v for k, v in params.items() if k not in ("limit", "offset")},
        "limit": str(page.limit),
        "offset": str(offset),
    }
    return f"{url}?{urlencode(query, quote_via=quote)}"


def page_body(
    page: PageRequest, total: int, items: Sequence[Any], href: Callable[[int], str]
) -> dict[str, Any]:
    """A page in NetSuite's shape; ``href(offset)`` builds each link (§2.3).

    ``first``/``prev`` appear past the first page, ``next``/``last`` while more remain, as in
    the documented example (which shows ``self``, ``next`` and ``last`` on page one).
    """
    has_more = page.offset + len(items) < total
    links = [{"rel": "self", "href": href(page.offset)}]
    if page.offset > 0:
        links.append({"rel": "first", "href": href(0)})
        links.append({"rel": "prev", "href": href(max(page.offset - page.limit, 0))})
    if has_more:
        links.append({"rel": "next", "href": href(page.offset + page.limit)})
        links.append({"rel": "last", "href": href((total - 1) // page.limit * page.limit)})
    return {
        "links": links,
        "count": len(items),
        "hasMore": has_more,
        "offset": page.offset,
        "totalResults": total,
        "items": list(items),
    }
