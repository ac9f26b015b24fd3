"""Health checks for a load balancer: small JSON answers, no log-in, no personal data.

``/healthz``: the process answers. ``/readyz``: it can serve — the database is reachable, every
migration is applied and the broker is reachable; otherwise 503 with the reason of each check.
"""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)
_migrated = False  # once all migrations are applied they stay applied for this process


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> str | None:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"database unreachable: {type(exc).__name__}"
    return None


def check_migrations() -> str | None:
    global _migrated
    if _migrated:
        return None
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return f"migrations cannot be read: {type(exc).__name__}"
    if plan:
        return f"{len(plan)} migrations not applied (run manage.py migrate)"
    _migrated = True
    return None


def broker_url() -> str:
    from portal.celery import app

    return str(app.conf.broker_write_url or app.conf.broker_url)


def check_broker(timeout: float = 2.0) -> str | None:
    """Open a fresh connection (never the app's pool, which requests share) and close it."""
    from kombu import Connection

    from portal.celery import app

    try:
        with Connection(broker_url(), connect_timeout=timeout,
                        transport_options=dict(app.conf.broker_transport_options or {})) as connection:
            connection.ensure_connection(max_retries=0, timeout=timeout)  # type: ignore[call-arg]
    except Exception as exc:
        return f"broker unreachable: {type(exc).__name__}"
    return None


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    problems = {"database": check_database()}
    if problems["database"] is None:
        problems["migrations"] = check_migrations()
    problems["broker"] = check_broker()
    ready = not any(problems.values())
    if not ready:
        logger.warning("not ready: %s", "; ".join(p for p in problems.values() if p))
    checks = {name: (problem or "ok") for name, problem in problems.items()}
    return JsonResponse({"status": "ready" if ready else "not_ready", "checks": checks}, status=200 if ready else 503)
