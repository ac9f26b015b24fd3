"""Wiring of monthly statements, called from PaymentsConfig.ready (kept apart from the rest
of payments' start-up so that the two can change independently)."""

from __future__ import annotations

from typing import Any


def statements_section(user: Any) -> dict[str, Any]:
    from .models import MonthlyStatement

    person = user.person
    recent = list(
        MonthlyStatement.objects.filter(person=person)
        .only("id", "month", "closing_fen", "person_id")
        .order_by("-month")[:3]
    )
    return {"statements_recent": recent, "statements_show": bool(recent) or person.has_personal_account}


def ready() -> None:
    from portal.dashboard import register_section

    from . import statement_admin  # noqa: F401  (registers the admin pages)

    register_section("payments/statement_dashboard_section.html", statements_section, order=35)
