from pathlib import Path

import pytest
from fastapi import APIRouter, Depends, FastAPI

from dealbridge.errors import ConfigError
from dealbridge.web.security.coverage import check_routes_guarded, unguarded_routes
from dealbridge.web.security.roles import Principal, allow_anonymous, require_role


def test_unguarded_routes_are_named() -> None:
    app = FastAPI()

    @app.get("/open")
    def open_route() -> dict[str, str]:
        return {}

    @app.post("/guarded")
    def guarded(who: Principal = Depends(require_role("operator"))) -> dict[str, str]:  # noqa: B008
        return {}

    @app.get("/public", dependencies=[Depends(allow_anonymous)])
    def public() -> dict[str, str]:
        return {}

    assert unguarded_routes(app) == ["GET /open"]
    with pytest.raises(ConfigError, match="GET /open"):
        check_routes_guarded(app)


def test_router_level_and_include_level_guards_count() -> None:
    app = FastAPI()
    by_router = APIRouter(dependencies=[Depends(require_role("viewer"))])
    by_include = APIRouter()

    @by_router.get("/a")
    def a() -> dict[str, str]:
        return {}

    @by_include.get("/b")
    def b() -> dict[str, str]:
        return {}

    app.include_router(by_router)
    app.include_router(by_include, prefix="/x", dependencies=[Depends(require_role("admin"))])
    assert unguarded_routes(app) == []


def test_guard_nested_in_another_dependency_counts() -> None:
    app = FastAPI()

    def acting_user(who: Principal = Depends(require_role("operator"))) -> str:  # noqa: B008
        return who.name

    @app.get("/nested")
    def nested(name: str = Depends(acting_user)) -> dict[str, str]:
        return {"name": name}

    assert unguarded_routes(app) == []


def test_unknown_roles_are_refused() -> None:
    with pytest.raises(ConfigError, match="unknown role"):
        require_role("superuser")


def test_same_guard_instance_per_role() -> None:
    assert require_role("viewer") is require_role("viewer")


def test_create_web_app_refuses_unguarded_routers(tmp_path: Path) -> None:
    from dealbridge.settings import Settings
    from dealbridge.web import create_web_app

    router = APIRouter()

    @router.get("/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'l.sqlite3'}")
    with pytest.raises(ConfigError, match="GET /forgotten"):
        create_web_app(settings, routers=[router])
