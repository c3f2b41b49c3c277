"""The console, the REST API and the health endpoints (FastAPI, Jinja2, no front-end build).

Start at ``app.create_web_app``; the security building blocks live in ``security``.
"""

from __future__ import annotations

from dealbridge.web.app import create_web_app

__all__ = ["create_web_app"]
