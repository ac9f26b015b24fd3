"""One log line per request and per task, each with a request id and the user's role.

Never a personal number: a request is logged by its route pattern (``pooling/answer/<str:token>/``),
not its path or query string, and tasks by name and id, not their arguments. The request id
comes from a trusted proxy's ``X-Request-ID`` when it is well formed, or is made here; it is
sent back in the response and travels with the tasks the request enqueues, so one id ties a
request to the work it caused.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
request_logger = logging.getLogger("portal.request")
task_logger = logging.getLogger("portal.task")
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HEADER = "portal_request_id"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record (``-`` outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def role_of(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return str(getattr(user, "role", "") or "user")
    if request.path.startswith("/api/"):
        return "institution"
    return "anonymous"


class RequestMiddleware:
    """First in the chain: names the request, logs it once, and keeps personal pages out of caches.

    ``Cache-Control: no-store`` goes on every response except static files, so that a shared or
    counter computer shows nothing from the browser's cache or history after log-out (pages that
    show personal data are most of the portal, and a public page loses nothing by it).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = settings.STATIC_URL or "/static/"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _WELL_FORMED.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            static = request.path.startswith(self.static_prefix)
            if not static:
                cache_control = response.get("Cache-Control", "")
                if "no-store" not in cache_control:
                    response["Cache-Control"] = "no-store, private"
            response["X-Request-ID"] = rid
            if not static:
                match = getattr(request, "resolver_match", None)
                route = match.route if match is not None else "-"  # the pattern, never the path
                request_logger.info(
                    "%s /%s %s %.1fms role=%s", request.method, route, response.status_code,
                    (time.monotonic() - started) * 1000, role_of(request),
                )
            return response
        finally:
            request_id_var.reset(token)


# -- tasks -------------------------------------------------------------------------------------

_task_started: dict[str, float] = {}


def _publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None and request_id_var.get() != "-":
        headers.setdefault(HEADER, request_id_var.get())


def _prerun(task_id: str = "", task: Any = None, **_: Any) -> None:
    request = getattr(task, "request", None)
    rid = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER) or f"task-{task_id[:12]}"
    request_id_var.set(str(rid))
    _task_started[task_id] = time.monotonic()


def _postrun(task_id: str = "", task: Any = None, state: str | None = None, **_: Any) -> None:
    started = _task_started.pop(task_id, None)
    took = (time.monotonic() - started) * 1000 if started is not None else 0.0
    task_logger.info("task %s[%s] %s %.1fms role=worker", getattr(task, "name", "?"), task_id, state, took)
    request_id_var.set("-")


def connect_task_logging() -> None:
    """Called by portal/celery.py: the request id travels in the message headers."""
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(_publish, weak=False)
    task_prerun.connect(_prerun, weak=False)
    task_postrun.connect(_postrun, weak=False)
