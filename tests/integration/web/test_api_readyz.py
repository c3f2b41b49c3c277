"""``/readyz`` follows the real runtime: ready once launched, not before, not after shutdown."""

from __future__ import annotations

from pathlib import Path

from dbos import DBOS
from fastapi.testclient import TestClient

from dealbridge.db.session import dispose_engines
from dealbridge.settings import Settings
from dealbridge.sync import Runtime
from tests.integration.web.api_support import api_app


def test_readyz_follows_the_runtime(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", web={"session_secret": "s" * 40})
    DBOS.destroy()
    runtime = Runtime(settings)
    app = api_app(settings, runtime=runtime)
    with TestClient(app) as client:
        before = client.get("/readyz")
        runtime.launch()
        try:
            during = client.get("/readyz")
        finally:
            runtime.shutdown(0)
        after = client.get("/readyz")
    dispose_engines()

    assert (before.status_code, before.json()["checks"]["runtime"]) == (503, "not ready")
    assert during.status_code == 200
    assert during.json() == {"status": "ready", "checks": {"database": "ok", "runtime": "ok"}}
    assert (after.status_code, after.json()["checks"]["runtime"]) == (503, "not ready")
