"""Check a deployment's configuration and print each problem with its fix.

Exit status 1 when anything is wrong, 0 when the deployment is sound. It reads the settings in
force (from the environment) and reaches the database, the broker and the collected static
files the way the running portal would.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal import health

LOOPBACK = {"localhost", "127.0.0.1", "[::1]", "::1"}


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str


def _secrets() -> list[Problem]:
    problems = []
    if settings.DEBUG:
        problems.append(Problem("DJANGO_DEBUG is on: error pages show settings and code to anyone.",
                                "Set DJANGO_DEBUG=0."))
    secret = os.environ.get("DJANGO_SECRET_KEY", "")
    if not secret:
        problems.append(Problem("DJANGO_SECRET_KEY is not set.",
                                "Set DJANGO_SECRET_KEY to a random string of at least 50 characters "
                                "(python -c 'import secrets; print(secrets.token_urlsafe(60))')."))
    elif len(secret) < 50 or len(set(secret)) < 5:
        problems.append(Problem("DJANGO_SECRET_KEY is too short or too simple.",
                                "Use a random string of at least 50 characters."))
    for name, purpose in (("PORTAL_FIELD_ENCRYPTION_KEY", "encrypts ID and phone numbers at rest"),
                          ("PORTAL_LOOKUP_HASH_KEY", "keys the hashes used to look people up")):
        if not os.environ.get(name):
            problems.append(Problem(
                f"{name} is not set explicitly ({purpose}); it is derived from the secret key, so rotating "
                "the secret would make every stored number unreadable.",
                f"Set {name} to its own random value, keep it in your secret store, and never change it "
                "without re-encrypting.",
            ))
    if (os.environ.get("PORTAL_FIELD_ENCRYPTION_KEY") and
            os.environ.get("PORTAL_FIELD_ENCRYPTION_KEY") == os.environ.get("PORTAL_LOOKUP_HASH_KEY")):
        problems.append(Problem("PORTAL_FIELD_ENCRYPTION_KEY and PORTAL_LOOKUP_HASH_KEY are the same.",
                                "Give each its own random value."))
    return problems


def _web() -> list[Problem]:
    problems = []
    hosts = list(settings.ALLOWED_HOSTS)
    if not hosts:
        problems.append(Problem("DJANGO_ALLOWED_HOSTS is empty.",
                                "Set DJANGO_ALLOWED_HOSTS to the portal's host names, comma-separated."))
    if any(host == "*" or host.startswith("*") for host in hosts):
        problems.append(Problem("DJANGO_ALLOWED_HOSTS accepts any host (*).",
                                "List the portal's real host names."))
    only_loopback = bool(hosts) and set(hosts) <= LOOPBACK
    if not settings.HTTPS and not only_loopback:
        problems.append(Problem("DJANGO_HTTPS=0 while the portal serves hosts other than loopback: log-ins and "
                                "personal data would travel unencrypted.",
                                "Set DJANGO_HTTPS=1 (the default) and terminate TLS at the proxy, which sends "
                                "X-Forwarded-Proto."))
    if settings.SMS_SENDER.endswith("ConsoleSender"):
        problems.append(Problem("Text messages go to the console (PORTAL_SMS_SENDER is the development sender): "
                                "sign-up codes would be written to the logs and never reach anyone.",
                                "Set PORTAL_SMS_SENDER=accounts.channels.HttpSmsSender with PORTAL_SMS_GATEWAY_URL "
                                "and PORTAL_SMS_GATEWAY_TOKEN."))
    return problems


def _services() -> list[Problem]:
    problems = []
    database = health.check_database()
    if database:
        problems.append(Problem(f"The database cannot be reached ({database}).",
                                "Check DATABASE_URL, the network and the database's credentials."))
    else:
        migrations = health.check_migrations()
        if migrations:
            problems.append(Problem(f"The database is not up to date: {migrations}.",
                                    "Run `python manage.py migrate` once per release, before starting the web hosts."))
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        problems.append(Problem("DATABASE_URL is not set: the portal uses a SQLite file, which is for one "
                                "machine and a few users.",
                                "Set DATABASE_URL to PostgreSQL, e.g. postgres://portal@db.internal:5432/portal."))
    if not settings.REDIS_URL:
        problems.append(Problem("REDIS_URL is not set: Celery uses the embedded filesystem broker, which only "
                                "works with every process on one machine.",
                                "Set REDIS_URL, e.g. redis://redis.internal:6379/0."))
    broker = health.check_broker()
    if broker:
        problems.append(Problem(f"The Celery broker cannot be reached ({broker}).",
                                "Check REDIS_URL and that Redis is running."))
    return problems


def _static() -> list[Problem]:
    root = Path(settings.STATIC_ROOT)
    manifest = root / "staticfiles.json"
    if not manifest.exists():
        return [Problem(f"Static files are not collected ({manifest} is missing): every page would fail.",
                        "Run `python manage.py collectstatic --noinput` with the production settings.")]
    missing = [name for name in ("css/portal.css", "img/logo.svg", "vendor/bootstrap/bootstrap.min.css")
               if not (root / name).exists()]
    if missing:
        return [Problem(f"Collected static files are incomplete (missing {', '.join(missing)}).",
                        "Run `python manage.py collectstatic --noinput` again.")]
    return []


def find_problems() -> list[Problem]:
    return [*_secrets(), *_web(), *_services(), *_static()]


class Command(BaseCommand):
    help = "Check this deployment's configuration; print each problem with its fix (exit 1 if any)."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = find_problems()
        for number, problem in enumerate(problems, start=1):
            self.stdout.write(f"{number}. problem: {problem.what}\n   fix: {problem.fix}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s) found in this deployment's configuration.")
        self.stdout.write("Deployment configuration: no problems found.")
