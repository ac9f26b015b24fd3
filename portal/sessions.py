"""Database sessions, read and re-saved with one plain statement each (SESSION_ENGINE).

Every logged-in request reads its session and, since sessions end after a period of inactivity
(SESSION_SAVE_EVERY_REQUEST), writes it back. Django's database store does that through the
ORM: a SELECT built by the query compiler, then a model save inside a transaction (BEGIN,
UPDATE, COMMIT). On this portal's pages that was a fifth of a logged-in request's CPU time, so
this store sends the same two statements as plain SQL: same table, same rows, same
expiry rule (a session past its expiry date is not read), same errors (an update that finds
no row raises UpdateError, as Django's store does when the session was deleted meanwhile, for
example by a log-out elsewhere). Creating and deleting sessions stay Django's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError, connections, router
from django.utils import timezone


class SessionStore(DatabaseSessionStore):
    def _table(self, using: str) -> str:
        return connections[using].ops.quote_name(self.model._meta.db_table)

    def load(self) -> dict[str, Any]:
        if not self.session_key:  # (Django's store would find nothing either)
            self._session_key = None
            return {}
        using = router.db_for_read(self.model)
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {self._table(using)} WHERE session_key = %s AND expire_date > %s",  # noqa: S608
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        return self.decode(row[0])

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None or must_create:
            super().save(must_create=must_create)
            return
        data = self._get_session()  # type: ignore[attr-defined]  # (as Django's store reads it)
        using = router.db_for_write(self.model)
        connection = connections[using]
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {self._table(using)} SET session_data = %s, expire_date = %s WHERE session_key = %s",  # noqa: S608
                    [self.encode(data), connection.ops.adapt_datetimefield_value(self.get_expiry_date()),
                     self.session_key],
                )
                updated = cursor.rowcount
        except DatabaseError as exc:
            raise UpdateError from exc
        if updated != 1:
            raise UpdateError
