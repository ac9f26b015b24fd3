"""Production configuration: `check --deploy` is clean, and bad configuration stops the process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
SECRET = secrets.token_urlsafe(60)[:60]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))}
    clean["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": SECRET, "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn"}


def test_it_passes_check_deploy_with_production_settings():
    assert len(SECRET) == 60
    result = _manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_it_refuses_to_start_without_a_secret_when_debug_is_off():
    result = _manage("check", **{**PRODUCTION, "DJANGO_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_migrations_match_the_models_on_a_checkout_without_configuration():
    """makemigrations needs no secret: it runs with the development defaults; a server does not."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_", "DATABASE_", "REDIS_"))}
    result = subprocess.run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], cwd=ROOT,
                            env=clean, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
    assert "DJANGO_SECRET_KEY is required" in _manage("migrate", "--check").stderr


def test_it_refuses_a_short_secret_when_debug_is_off():
    result = _manage("check", **{**PRODUCTION, "DJANGO_SECRET_KEY": "too-short"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be at least 50 characters long" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "2", "ja"])
def test_it_refuses_a_debug_value_that_is_not_0_or_1(value):
    result = _manage("check", **{**PRODUCTION, "DJANGO_DEBUG": value})
    assert result.returncode != 0
    assert f"DJANGO_DEBUG must be 0 or 1, not '{value}'" in result.stderr


def test_it_refuses_to_start_without_allowed_hosts_when_debug_is_off():
    result = _manage("check", **{**PRODUCTION, "DJANGO_ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS is required" in result.stderr


def test_production_redirects_to_https_with_secure_cookies_and_hsts():
    code = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0,"
        " s.CSRF_TRUSTED_ORIGINS, s.DEBUG)"
    )
    result = _manage("shell", "-c", code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True True True True ['https://portal.example.gov.cn'] False"
    plain = _manage("shell", "-c", "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE)",
                    **PRODUCTION, DJANGO_HTTPS="0")
    assert plain.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.django_db
def test_every_page_has_a_strict_content_security_policy(client, holder):
    client.force_login(holder.user)
    for name in ("portal:home", "accounts:preferences", "accounts:inbox", "accounts:login", "accounts:signup"):
        policy = client.get(reverse(name))["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "script-src 'self'" in policy and "style-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_templates_have_no_inline_script_or_style(client):
    page = client.get(reverse("portal:home")).content.decode()
    assert "style=" not in page
    assert " onclick=" not in page
    assert "<script>" not in page  # only <script src=...>
