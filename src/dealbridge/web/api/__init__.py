"""The REST API under ``/api/v1`` and ``/metrics`` (issue 6); routers are added as they land."""

from __future__ import annotations

from fastapi import APIRouter

routers: list[APIRouter] = []

__all__ = ["routers"]
