"""``/healthz`` and ``/readyz``: public, and silent about what failed."""

from pathlib import Path

from fastapi.testclient import TestClient

from dealbridge.db.session import dispose_engines
from dealbridge.settings import Settings
from dealbridge.web import create_web_app


class Probe:
    def __init__(self, ready: bool | None) -> None:
        self.ready = ready

    def is_ready(self) -> bool:
        if self.ready is None:
            raise RuntimeError("probe exploded")
        return self.ready


def test_liveness(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_with_a_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


def test_runtime_readiness(settings: Settings) -> None:
    for ready, status, word in [
        (True, 200, "ok"),
        (False, 503, "not ready"),
        (None, 503, "not ready"),
    ]:
        with TestClient(create_web_app(settings, runtime=Probe(ready))) as client:
            response = client.get("/readyz")
            assert response.status_code == status
            assert response.json()["checks"]["runtime"] == word
    with TestClient(create_web_app(settings, runtime=object())) as client:
        assert client.get("/readyz").json()["checks"]["runtime"] == "ok"
    dispose_engines()


def test_unreachable_database_is_not_ready_and_not_described(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory-not-a-database"
    directory.mkdir()
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{directory}")
    with TestClient(create_web_app(settings)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "not ready", "checks": {"database": "unreachable"}}
        assert str(directory) not in response.text
        assert client.get("/healthz").status_code == 200
    dispose_engines()
