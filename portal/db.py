"""Database helpers shared by the apps.

``prepared_cursor`` is for the few statements every payment runs (payments.fastpath,
payments.vouchers, payments.idempotency): on PostgreSQL each is parsed and planned once per
connection, as a server-side prepared statement, instead of on every request (for the
payment's one big statement that planning cost as much as running it). Django's own queries
keep client-side binding and are never prepared. DATABASE_PREPARED_STATEMENTS=0 turns this off
(for a connection pooler that cannot carry prepared statements, such as PgBouncer before 1.21
in transaction mode).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

# psycopg prepares a statement after this many runs; Django's client-side cursors never
# prepare, and ours ask for it on the first run, so this only has to be not None.
_THRESHOLD = 1_000_000


class _PreparingCursor(psycopg.Cursor):  # type: ignore[type-arg]
    """Server-side binding, and every statement prepared (psycopg keeps them per connection)."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        return super().execute(query, params, prepare=True)

    def _maybe_prepare_gen(self, pgq: Any, **kwargs: Any) -> Any:
        # A prepared run leaves psycopg's ``_query`` unset, where Django reads the statement it
        # logs (connection.queries, the tests' query counts): set it as an unprepared run would.
        self._query = pgq
        return super()._maybe_prepare_gen(pgq, **kwargs)


@contextlib.contextmanager
def prepared_cursor() -> Iterator[Any]:
    """A cursor like ``connection.cursor()`` (queries logged, errors translated) whose
    statements are prepared on PostgreSQL."""
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = _THRESHOLD
    raw_cursor: Any = _PreparingCursor(raw)  # (the stubs expect a wrapper here; Django wraps it)
    wrapped = (connection.make_debug_cursor(raw_cursor) if connection.queries_logged
               else connection.make_cursor(raw_cursor))
    with wrapped:
        yield wrapped
