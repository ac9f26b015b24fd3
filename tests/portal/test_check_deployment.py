"""`manage.py check_deployment`: each problem of a deployment printed with its fix, and a clean bill
for a sound one; static files collect with the production (manifest) storage."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "PORTAL_", "DATABASE_", "REDIS_"))}
    clean["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    clean.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True,
                          text=True, timeout=300)


def _production(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn", "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "PORTAL_VAR_DIR": str(tmp_path / "var"), **extra,
    }


def test_it_collects_static_files_with_the_manifest_storage(tmp_path: Path) -> None:
    result = _manage("collectstatic", "--noinput", **_production(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    for name in ("img/logo.svg", "css/portal.css", "vendor/bootstrap/bootstrap.min.css", "js/portal.js"):
        assert name in manifest, name
        assert (tmp_path / "static" / manifest[name]).exists()
        assert (tmp_path / "static" / (manifest[name] + ".gz")).exists()  # served compressed


def test_it_reports_each_problem_of_an_unsound_deployment_with_its_fix(tmp_path: Path) -> None:
    result = _manage("check_deployment", **_production(tmp_path, DJANGO_HTTPS="0"))
    assert result.returncode == 1
    out = result.stdout
    expected = [
        "PORTAL_FIELD_ENCRYPTION_KEY is not set explicitly",
        "PORTAL_LOOKUP_HASH_KEY is not set explicitly",
        "DJANGO_HTTPS=0 while the portal serves hosts other than loopback",
        "Text messages go to the console",
        "The database is not up to date",
        "DATABASE_URL is not set",
        "REDIS_URL is not set",
        "Static files are not collected",
    ]
    for problem in expected:
        assert problem in out, problem
    assert out.count("problem:") == len(expected)
    assert out.count("fix:") == len(expected)
    assert f"{len(expected)} problem(s) found" in result.stderr


def test_it_reports_unreachable_services_and_shared_keys(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    result = _manage("check_deployment", **_production(
        tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:1/none", REDIS_URL="redis://127.0.0.1:1/0",
        PORTAL_FIELD_ENCRYPTION_KEY=key, PORTAL_LOOKUP_HASH_KEY=key,
    ))
    assert result.returncode == 1
    assert "The database cannot be reached" in result.stdout
    assert "The Celery broker cannot be reached" in result.stdout
    assert "PORTAL_FIELD_ENCRYPTION_KEY and PORTAL_LOOKUP_HASH_KEY are the same" in result.stdout


def test_a_sound_deployment_has_no_problem(tmp_path: Path) -> None:
    import redis

    database = os.environ.get("DATABASE_URL", "")
    need(database.startswith("postgres"), "PostgreSQL (set DATABASE_URL)")
    redis_url = os.environ.get("REDIS_URL", "")
    try:
        ok = bool(redis_url) and redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except Exception:
        ok = False
    need(ok, "Redis (set REDIS_URL)")
    name = f"portal_deploycheck_{os.getpid()}"
    admin = database.rsplit("/", 1)[0]
    subprocess.run(["psql", f"{admin}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", f"{admin}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        env = _production(
            tmp_path, DATABASE_URL=f"{admin}/{name}", REDIS_URL=redis_url,
            PORTAL_FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(), PORTAL_LOOKUP_HASH_KEY=secrets.token_urlsafe(32),
            PORTAL_SMS_SENDER="accounts.channels.HttpSmsSender", PORTAL_SMS_GATEWAY_URL="https://sms.example.gov.cn/send",
        )
        assert _manage("migrate", "--noinput", **env).returncode == 0
        assert _manage("collectstatic", "--noinput", **env).returncode == 0
        result = _manage("check_deployment", **env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "no problems found" in result.stdout
    finally:
        subprocess.run(["psql", f"{admin}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])


@pytest.mark.parametrize("hosts", ["localhost,127.0.0.1"])
def test_plain_http_is_fine_on_loopback_only(tmp_path: Path, hosts: str) -> None:
    result = _manage("check_deployment", **_production(tmp_path, DJANGO_HTTPS="0", DJANGO_ALLOWED_HOSTS=hosts))
    assert "DJANGO_HTTPS=0" not in result.stdout


def test_a_field_key_that_is_not_a_fernet_key_stops_the_process(tmp_path: Path) -> None:
    result = _manage("check", **_production(tmp_path, PORTAL_FIELD_ENCRYPTION_KEY="not-a-key"))
    assert result.returncode != 0
    assert "PORTAL_FIELD_ENCRYPTION_KEY must be a Fernet key" in result.stderr
