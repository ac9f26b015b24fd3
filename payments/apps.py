from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def dashboard_section(user: Any) -> dict[str, Any]:
    from functools import partial

    from . import consumption, ledger

    person = user.person
    recent = consumption.recent_from(person, 5) if person.has_personal_account else []
    return {
        # Read only if the section shows it (not when the pooling section already does): the
        # template calls it.
        "payments_balance": partial(ledger.balance_of, person),
        "payments_has_account": person.has_personal_account,
        "payments_recent": recent,
    }


def account_state() -> list[str]:
    """What a kept dashboard or spending page must match of the person's own account
    (portal/pagecache.py): its balance and its last entry (the (account, created_at) index)."""
    from .models import LedgerAccount, LedgerEntry

    account, entry = LedgerAccount._meta.db_table, LedgerEntry._meta.db_table
    return [
        f"(SELECT balance_fen FROM {account} WHERE person_id = %s)",  # noqa: S608
        f"(SELECT MAX(created_at) FROM {entry} WHERE account_id = (SELECT id FROM {account} WHERE person_id = %s))",  # noqa: E501, S608
    ]


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from portal.counter import register_person_section
        from portal.dashboard import register_section
        from portal.pagecache import register_state

        from . import activity
        from .counter import person_section

        activity.register()
        register_section("payments/_dashboard.html", dashboard_section, order=30)
        for sql in account_state():
            register_state("dashboard", sql)
            register_state("spending", sql)
        register_person_section("payments/_counter_person.html", person_section)
