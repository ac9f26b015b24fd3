"""The inbox in the page header (unread count) and message texts with plain-labelled links."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()

_URL = re.compile(r"https?://[^\s，。；、）)]+")


@register.simple_tag(takes_context=True)
def unread_count(context: Any) -> int:
    """Unread messages of the logged-in person (one query, only on pages that show the header).

    In every page's header, so plain SQL rather than the ORM's
    ``Notification.objects.filter(person_id=..., read_at__isnull=True).exclude(kind="one_time_code").count()``,
    which took longer to build than to run (tests/payments/test_page_costs.py compares the two)."""
    from django.db import connections, router

    from accounts.models import Notification

    request = context.get("request")
    user = getattr(request, "user", None)
    person_id = getattr(user, "person_id", None) if user is not None and user.is_authenticated else None
    if person_id is None:
        return 0
    connection = connections[router.db_for_read(Notification)]
    with connection.cursor() as cursor:
        cursor.execute(unread_sql(connection.ops.quote_name(Notification._meta.db_table)), [person_id])
        return int(cursor.fetchone()[0])


def unread_sql(table: str) -> str:
    """The unread count's SQL, the person's id its one parameter (also a kept page's state:
    portal/apps.py). One-time codes are never counted."""
    return f"SELECT COUNT(*) FROM {table} WHERE person_id = %s AND read_at IS NULL AND kind <> 'one_time_code'"  # noqa: S608


@register.filter
def message_text(body: str) -> SafeString:
    """A message text for the page: web addresses become a link with a plain label (never the
    long signed address itself), line breaks stay."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(body):
        parts.append(escape(body[last:match.start()]))
        parts.append(format_html('<a href="{}">{}</a>', match.group(0), _("open this link")))
        last = match.end()
    parts.append(escape(body[last:]))
    return mark_safe("".join(parts).replace("\n", "<br>"))  # noqa: S308 (every part is escaped above)
