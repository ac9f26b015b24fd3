"""A citizen page rendered once and shown again while what it shows has not changed.

The dashboard and the spending page are the pages citizens open most and the dearest to build
(a dozen queries and a few hundred template nodes). A person who opens one again, or comes back
to it from another page, is shown the copy rendered a moment ago, if nothing it shows has
changed since. Whether something changed is not left to code remembering to clear a cache (a
payment through the API's plain-SQL fast path, a statement run in a worker or an import would
be easy to miss): every request reads the page's *state*, one SELECT of small figures (for
example the person's balance and the time of their last ledger entry, the last change to any of
their bindings, their unread messages), and the copy is used only if that state, the person,
the language, the display mode, the address and the minute are the same. The apps that own the
data say what the state is (``register_state``), as they register the dashboard's sections.

What is kept and where:
- in this process's memory only, never in Redis or on disk: the pages show the owner's own
  phone number and their relatives' names, which are kept encrypted at rest everywhere else;
- at most ``PAGE_CACHE_ENTRIES`` pages, each for at most the rest of its minute: anything the
  state does not cover (a rule changed by the bureau, an undo window running out) shows within
  a minute, as the rules cache already allows 10 seconds;
- never a page with a message to show once ("Your relative was added") or an answer other than
  200 HTML, never for a POST, never without a logged-in person;
- the CSRF tokens of the page's forms are not kept: the page is rendered with a placeholder, and
  each answer gets the visitor's own token (``csrf_placeholder``).

``PAGE_CACHE_ENTRIES=0`` switches it off.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

# Every page: ALL; else the page's name as the decorator gives it.
ALL = "*"

# Scalar SQL subqueries per page; every %s in one stands for the person's id.
_state: dict[str, list[str]] = {}

# Stands for the CSRF token in a kept page: random per process, never in any real content.
PLACEHOLDER = "pagecache" + secrets.token_hex(24)


def register_state(page: str, sql: str) -> None:
    """Add to a page's state (``ALL``: every cached page's) a scalar subquery, ``(SELECT ...)``,
    whose %s placeholders all stand for the person's id. Apps call it in ``ready()``."""
    parts = _state.setdefault(page, [])
    if sql not in parts:
        parts.append(sql)


def state_of(page: str, person_id: int) -> tuple[Any, ...]:
    """The page's state for the person: one SELECT of every registered subquery."""
    parts = _state.get(ALL, []) + _state.get(page, [])
    if not parts:
        return ()
    sql = "SELECT " + ", ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, [person_id] * sql.count("%s"))
        return tuple(cursor.fetchone())


class _Store:
    """Least recently used first out, per process; a lock for threaded servers."""

    def __init__(self) -> None:
        self._pages: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            content = self._pages.get(key)
            if content is not None:
                self._pages.move_to_end(key)
            return content

    def put(self, key: tuple[Any, ...], content: bytes, limit: int) -> None:
        with self._lock:
            self._pages[key] = content
            self._pages.move_to_end(key)
            while len(self._pages) > limit:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


store = _Store()


def _key(page: str, request: HttpRequest, user: Any) -> tuple[Any, ...]:
    from .context_processors import is_age_friendly

    person = user.person
    return (
        page, user.pk, user.role, person.pk, person.updated_at, get_language(), is_age_friendly(request),
        request.get_full_path(), int(time.time() // 60), state_of(page, person.pk),
    )


def _answer(content: bytes, request: HttpRequest) -> HttpResponse:
    token = get_token(request).encode()  # (and the CSRF cookie is set, as {% csrf_token %} does)
    return HttpResponse(content.replace(PLACEHOLDER.encode(), token), content_type="text/html; charset=utf-8")


def cached_page(page: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Keep the view's page per person and state (see the module's text). Put it inside the
    view's access checks (login_required, citizen_required): it runs only when they pass."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limit = settings.PAGE_CACHE_ENTRIES
            user = request.user
            if (not limit or request.method != "GET" or not user.is_authenticated
                    or getattr(user, "person", None) is None or len(get_messages(request))):
                return view(request, *args, **kwargs)
            key = _key(page, request, user)
            kept = store.get(key)
            if kept is not None:
                return _answer(kept, request)
            request.page_cache_placeholder = True  # type: ignore[attr-defined]
            try:
                response = view(request, *args, **kwargs)
            finally:
                request.page_cache_placeholder = False  # type: ignore[attr-defined]
            if (response.status_code != 200 or response.streaming or response.cookies
                    or not response.get("Content-Type", "").startswith("text/html")
                    or len(get_messages(request))):  # (a message the view itself added)
                # Nothing of it kept; any placeholder gets the visitor's token all the same.
                if not response.streaming:
                    response.content = response.content.replace(PLACEHOLDER.encode(), get_token(request).encode())
                return response
            store.put(key, response.content, limit)
            response.content = response.content.replace(PLACEHOLDER.encode(), get_token(request).encode())
            return response

        return wrapper

    return decorator


def csrf_placeholder(request: HttpRequest) -> dict[str, Any]:
    """Context processor: while a page is rendered to be kept, its forms carry the placeholder
    instead of this visitor's CSRF token (after Django's own csrf processor, so it wins)."""
    if getattr(request, "page_cache_placeholder", False):
        return {"csrf_token": PLACEHOLDER}
    return {}
