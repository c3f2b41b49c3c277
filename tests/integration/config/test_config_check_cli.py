"""``dealbridge config check`` run as a user runs it, against both emulators."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from dealbridge.cli.config_cmd import mask_url_password
from tests.integration.sync.harness import Emulators, env_for, settings_for
from tests.support.netsuite import netsuite_settings

COMMAND_TIMEOUT = 120
DB_PASSWORD = "db-password-7d41c9"
WEBHOOK_TOKEN = "hook-token-0a9b8c7d6e5f4321"
ALERT_WEBHOOK = "https://hooks.example.com/services/T000/B000/alert-secret-55aa"


def config_check(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "dealbridge", "config", "check", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def _env(emulators: Emulators, tmp_path: Path, **extra: str) -> dict[str, str]:
    settings = settings_for(emulators, tmp_path / "data")
    settings = settings.model_copy(
        update={"netsuite": netsuite_settings(emulators.netsuite, "tba")}
    )
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("DEALBRIDGE_")}
    return {**inherited, **env_for(settings), **extra}


def _secrets(emulators: Emulators) -> list[str]:
    tba = emulators.netsuite["tba"]
    key_lines = Path(emulators.salesforce["jwt"]["private_key"]).read_text().splitlines()
    body_lines = [line for line in key_lines if line and not line.startswith("-----")]
    return [
        tba["consumer_secret"],
        tba["token_secret"],
        DB_PASSWORD,
        WEBHOOK_TOKEN,
        ALERT_WEBHOOK,
        "alert-secret-55aa",
        *body_lines,
    ]


def test_json_report_with_both_connections_ok_exits_0(emulators: Emulators, tmp_path: Path) -> None:
    done = config_check(_env(emulators, tmp_path), tmp_path, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["ok"] is True
    assert [c["system"] for c in report["connections"]] == ["salesforce", "netsuite"]
    assert all(c["ok"] and c["error"] is None for c in report["connections"])
    assert report["settings"]["netsuite"]["account"] == emulators.netsuite["account"]
    assert report["settings"]["netsuite"]["token_secret"] == "**********"


def test_a_refused_credential_exits_non_zero_naming_the_system(
    emulators: Emulators, tmp_path: Path
) -> None:
    env = _env(emulators, tmp_path, DEALBRIDGE_SALESFORCE__CONSUMER_KEY="not-the-connected-app")
    done = config_check(env, tmp_path, "--json")
    assert done.returncode == 1, done.stderr[-3000:]
    report = json.loads(done.stdout)
    connections = {c["system"]: c for c in report["connections"]}
    assert report["ok"] is False
    assert connections["salesforce"]["kind"] == "auth"
    assert connections["netsuite"]["ok"] is True


def test_text_report_names_each_outcome(emulators: Emulators, tmp_path: Path) -> None:
    env = _env(emulators, tmp_path, DEALBRIDGE_NETSUITE__BASE_URL="http://127.0.0.1:9")
    done = config_check(env, tmp_path, "--timeout", "5")
    assert done.returncode == 1, done.stderr[-3000:]
    assert "ok     salesforce" in done.stdout
    assert "failed netsuite: unreachable:" in done.stdout
    assert "netsuite.base_url = 'http://127.0.0.1:9'" in done.stdout


def test_no_secret_appears_in_any_output(emulators: Emulators, tmp_path: Path) -> None:
    extra = {
        "DEALBRIDGE_DATABASE_URL": f"postgresql://dealbridge:{DB_PASSWORD}@127.0.0.1:5432/x",
        "DEALBRIDGE_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "DEALBRIDGE_ALERTS__WEBHOOK_URL": ALERT_WEBHOOK,
    }
    good = _env(emulators, tmp_path, **extra)
    # A wrong secret that the remote refuses: the failure message must not echo it either.
    wrong = {**good, "DEALBRIDGE_NETSUITE__TOKEN_SECRET": "wrong-secret-3e8f1a2b"}
    outputs = []
    for env in (good, wrong):
        for args in ((), ("--json",)):
            done = config_check(env, tmp_path, *args)
            outputs.append(done.stdout + done.stderr)
    assert "dealbridge:***@127.0.0.1:5432" in outputs[0]
    assert "auth:" in outputs[3]
    for secret in [*_secrets(emulators), "wrong-secret-3e8f1a2b"]:
        for output in outputs:
            assert secret not in output


def test_url_password_masking() -> None:
    assert mask_url_password("postgresql://u:p4ss@db:5432/x") == "postgresql://u:***@db:5432/x"
    assert mask_url_password("postgresql://db/x") == "postgresql://db/x"
    assert mask_url_password(None) is None
