"""``dealbridge users`` and ``dealbridge tokens`` on a real ledger, and their effect on the API."""

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dealbridge.cli.main import app as cli
from dealbridge.db.audit import list_audit
from dealbridge.db.session import dispose_engines, engine_for, make_session_factory, session_scope
from dealbridge.settings import Settings
from dealbridge.web import create_web_app
from tests.integration.web.web_client import login

runner = CliRunner()


def run(url: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(cli, [*args, "--url", url], input=stdin, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_users_lifecycle(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    code, out = run(
        url, "users", "add", "nia", "--role", "operator", stdin="nia-password-42\nnia-password-42\n"
    )
    assert code == 0, out
    assert "nia-password-42" not in out
    code, out = run(
        url,
        "users",
        "add",
        "sam",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="sam-password-42\n",
    )
    assert code == 0, out
    code, out = run(
        url,
        "users",
        "add",
        "sam",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="sam-password-42\n",
    )
    assert code == 1
    assert "already exists" in out
    code, out = run(
        url, "users", "add", "tim", "--role", "viewer", "--password-stdin", stdin="short\n"
    )
    assert code == 1
    assert "at least 10" in out
    code, out = run(
        url,
        "users",
        "add",
        "bad name",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="long-enough-pw\n",
    )
    assert code == 1
    code, out = run(url, "users", "disable", "sam")
    assert code == 0
    code, out = run(url, "users", "list")
    assert "nia" in out
    assert "operator" in out
    assert "disabled" in out
    assert "$argon2" not in out
    code, out = run(url, "users", "disable", "nobody")
    assert code == 1
    assert "no user 'nobody'" in out
    with session_scope(make_session_factory(engine_for(url))) as session:
        actions = {(entry.action, entry.target_id) for entry in list_audit(session)}
    assert {("user.added", "nia"), ("user.added", "sam"), ("user.disabled", "sam")} <= actions
    dispose_engines()


def test_mismatched_prompt_is_asked_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    code, out = run(
        url,
        "users",
        "add",
        "nia",
        "--role",
        "admin",
        stdin="first-password-1\nother-password-2\nthe-password-3\nthe-password-3\n",
    )
    assert code == 0, out
    assert "do not match" in out.lower()


def test_tokens_are_shown_once_and_work(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    code, out = run(url, "tokens", "create", "ci-dashboard", "--role", "viewer")
    assert code == 0, out
    value = next(line for line in out.splitlines() if line.startswith("dbt_"))
    code, listing = run(url, "tokens", "list")
    assert "ci-dashboard" in listing
    assert value not in listing
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    with TestClient(create_web_app(settings)) as client:
        auth = {"Authorization": f"Bearer {value}"}
        assert client.get("/api/v1/whoami", headers=auth).json()["name"] == "ci-dashboard"
        code, out = run(url, "tokens", "revoke", "1")
        assert code == 0, out
        assert client.get("/api/v1/whoami", headers=auth).status_code == 401
    code, listing = run(url, "tokens", "list")
    assert "ci-dashboard" not in listing
    code, listing = run(url, "tokens", "list", "--all")
    assert "ci-dashboard" in listing
    dispose_engines()


def test_a_cli_user_can_sign_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    run(
        url, "users", "add", "nia", "--role", "admin", "--password-stdin", stdin="nia-password-42\n"
    )
    settings = Settings(data_dir=tmp_path / "data", database_url=url)
    with TestClient(create_web_app(settings), follow_redirects=False) as client:
        assert login(client, "nia", "nia-password-42").status_code == 303
        assert client.get("/api/v1/whoami").json()["role"] == "admin"
    dispose_engines()
