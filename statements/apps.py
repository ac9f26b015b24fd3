"""Monthly statements (月度对账单): an app above payments. It reads the ledger, payments never
reads statements."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def statements_section(user: Any) -> dict[str, Any]:
    from .models import MonthlyStatement

    person = user.person
    recent = list(
        MonthlyStatement.objects.filter(person=person)
        .only("id", "month", "closing_fen", "person_id")
        .order_by("-month")[:3]
    )
    return {"statements_recent": recent, "statements_show": bool(recent) or person.has_personal_account}


class StatementsConfig(AppConfig):
    name = "statements"
    verbose_name = _("Monthly statements")

    def ready(self) -> None:
        from portal.dashboard import register_section
        from portal.pagecache import register_state

        from .models import MonthlyStatement

        register_section("statements/statement_dashboard_section.html", statements_section, order=35)
        # A kept dashboard (portal/pagecache.py) matches the person's latest statement.
        table = MonthlyStatement._meta.db_table
        register_state("dashboard", f"(SELECT MAX(id) FROM {table} WHERE person_id = %s)")  # noqa: S608
