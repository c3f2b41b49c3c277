"""Outbound Message definitions registered through the control API, validated on the way in.

In Salesforce an Outbound Message (key prefix ``04k``) names one endpoint URL and the fields of
the record it sends; ``Id`` is always among them (contracts §3.1). Every input is bounded: a
control API caller is not trusted to send sane sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dealbridge.connectors.salesforce.emulator.outbound_envelope import FIELD_NAME
from dealbridge.connectors.salesforce.models import is_salesforce_id, to_id18

ACTION_PREFIX = "04k"  # an Outbound Message action
DEFAULT_FIELDS = ("Id", "AccountId", "StageName", "IsWon", "SystemModstamp", "Amount", "CloseDate")
URL_MAX = 2000
NAME_MAX = 80
FIELDS_MAX = 100
_KEYS = frozenset({"url", "fields", "action_id", "name"})


@dataclass(frozen=True)
class OutboundEndpoint:
    """One Outbound Message on Opportunity: where it goes and which fields it carries."""

    action_id: str
    url: str
    fields: tuple[str, ...]
    name: str | None

    def as_dict(self) -> dict[str, Any]:
        """The JSON the control API shows; ``id`` is the action id."""
        return {
            "id": self.action_id,
            "action_id": self.action_id,
            "url": self.url,
            "fields": list(self.fields),
            "name": self.name,
            "sobject": "Opportunity",
        }


def endpoint_from_config(
    config: Mapping[str, Any], new_action_id: Callable[[], str]
) -> OutboundEndpoint:
    """Validate a registration; ``new_action_id()`` names it when the config does not.

    Raises:
        ValueError: With a message that says which key is wrong and why.
    """
    if not isinstance(config, Mapping):
        raise ValueError("an endpoint config must be a JSON object")
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise ValueError(f"unknown endpoint keys: {', '.join(map(str, unknown))}")
    url, fields, name = _url(config.get("url")), _fields(config.get("fields")), _name(config)
    action_id = config.get("action_id")
    return OutboundEndpoint(
        action_id=new_action_id() if action_id is None else _action_id(action_id),
        url=url,
        fields=fields,
        name=name,
    )


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > URL_MAX:
        raise ValueError(f"url is required: an http(s) URL of at most {URL_MAX} characters")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"url must be http:// or https:// with a host, got {value!r}")
    return value


def _fields(value: Any) -> tuple[str, ...]:
    """The configured fields, ``Id`` first (Salesforce always sends it), no duplicates."""
    if value is None:
        return DEFAULT_FIELDS
    if not isinstance(value, list | tuple) or not value or len(value) > FIELDS_MAX:
        raise ValueError(f"fields must be a list of 1 to {FIELDS_MAX} field names")
    names: list[str] = ["Id"]
    for name in value:
        if not isinstance(name, str) or not FIELD_NAME.match(name):
            raise ValueError(f"not a field name: {name!r}")
        if name.lower() not in {known.lower() for known in names}:
            names.append(name)
    return tuple(names)


def _action_id(value: Any) -> str:
    if not isinstance(value, str) or not is_salesforce_id(value) or not value.startswith("04k"):
        raise ValueError(f"action_id must be a 15- or 18-character 04k… id, got {value!r}")
    return to_id18(value)


def _name(config: Mapping[str, Any]) -> str | None:
    value = config.get("name")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > NAME_MAX:
        raise ValueError(f"name must be a string of at most {NAME_MAX} characters")
    return value
