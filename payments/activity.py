"""How payments' audit rows read on a citizen's "who saw or changed my information" page:
amounts in yuan and categories by name, never the codes stored. Registered in PaymentsConfig.ready."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounts.activity import DetailContext, choice_label, data, joined, register_detail
from accounts.models import AuditEvent, SpendingCategory


def _money(fen: Any) -> str:
    from portal.templatetags.portal_tags import format_fen

    return format_fen(fen) if isinstance(fen, int) else ""


def premium_detail(event: AuditEvent, context: DetailContext) -> str:
    """The year, the amount and whose premium it was (the payer's own relative: their name, as
    their dashboard shows it; a premium row is rare, so one small query for it)."""
    from accounts.models import InsuredPerson

    after = data(event)
    year, amount, relative = after.get("year"), _money(after.get("amount_fen")), after.get("relative")
    if not (year and amount):
        return ""
    name = (InsuredPerson.objects.filter(pk=relative).values_list("name", flat=True).first()
            if isinstance(relative, int) else None)
    if name:
        return _("Premium for %(name)s for %(year)s: %(amount)s") % {"name": name, "year": year, "amount": amount}
    return _("Premium for %(year)s: %(amount)s") % {"year": year, "amount": amount}


def settlement_detail(event: AuditEvent, context: DetailContext) -> str:
    after = data(event)
    amount, paid = _money(after.get("amount_fen")), _money(after.get("paid_fen"))
    what = choice_label(SpendingCategory, after.get("category")) if after.get("category") else ""
    cost = _("cost %(amount)s") % {"amount": amount} if amount else ""
    from_accounts = _("%(amount)s paid from personal accounts") % {"amount": paid} if paid else ""
    return joined([what, cost, from_accounts])


def refund_detail(event: AuditEvent, context: DetailContext) -> str:
    amount = _money(data(event).get("amount_fen"))
    return _("%(amount)s refunded") % {"amount": amount} if amount else ""


def register() -> None:
    register_detail(["premium.pay"], premium_detail)
    register_detail(["settlement.create"], settlement_detail)
    register_detail(["settlement.refund"], refund_detail)
