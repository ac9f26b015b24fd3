"""Settlements and refunds: the deduction plan executed through the ledger (SPEC §6).

``settle`` charges a patient's sources for one payment at an institution; ``refund`` returns
money to those sources, newest-charged first. Both lock the personal accounts they touch in
ascending id order before reading their balances, then post one ledger transaction: every
source is charged, or none is. The locked section does only what must see the locked balances
(the plan and the writes); the voucher, policy and a first plan are read before it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditChannel, SpendingCategory, audit
from accounts.notifications import notify
from pooling.planning import plan_payment

from . import fastpath, idempotency, ledger
from .institutions import may_charge
from .models import Institution, Refund, Settlement, SettlementSource, TransactionKind
from .settlement_base import SettlementError, SettlementView, clearing_shard, settlement_json, source_json, voucher_gone
from .vouchers import VoucherError, check_usable, consume

# Categories an institution may send (SPEC §6); resident premiums are paid in the portal only.
API_CATEGORIES = ("outpatient", "inpatient", "pharmacy_drug", "medical_device", "medical_consumable", "vaccine_class2")
MAX_AMOUNT_FEN = 10**11  # ¥1,000,000,000: anything larger is a typo, not a medical bill


def category_label(category: str) -> Any:
    return SpendingCategory(category).label if category in SpendingCategory.values else category


def settle(
    institution: Institution,
    voucher_code: str,
    category: str,
    amount_fen: int,
    reference: str,
    *,
    now: datetime.datetime | None = None,
    claim: idempotency.Claim | None = None,
) -> SettlementView:
    """Charge the patient behind ``voucher_code`` for ``amount_fen`` of ``category`` care.

    Sources pay in the patient's deduction order within balances and caps; what they cannot
    cover is ``remaining_fen`` (paid by the patient in cash). Raises SettlementError.
    ``claim``: the API's idempotency key, taken in the first query (idempotency.Taken if it
    was taken already) and completed with the response in the payment's transaction.

    Two ways to the same result (see ``fastpath``): when no source has a cap that depends on
    spending so far, the plan computed without locks is written in one statement whose
    balance trigger locks the accounts and whose CHECK constraint refuses an overdraft (then
    we plan again); otherwise the accounts are locked first and the plan computed under lock.
    """
    now = now or timezone.now()
    # The claim first: a key used before is answered from its record whatever this body says.
    voucher, read = fastpath.find_voucher_and_read(voucher_code, claim)
    record_id = claim.take() if claim is not None else None  # (taken already by the read on PostgreSQL)
    if category not in API_CATEGORIES or not may_charge(institution, category):
        raise SettlementError("category_not_allowed", _(
            "This institution cannot charge the category %(category)s to medical-insurance accounts."
        ) % {"category": category})
    if type(amount_fen) is not int or not 0 < amount_fen <= MAX_AMOUNT_FEN:
        raise SettlementError("invalid_amount", _("amount_fen must be a whole number of fen greater than 0."), 400)
    try:
        check_usable(voucher, now)
    except VoucherError as exc:
        raise SettlementError(exc.code, exc.message) from None
    assert voucher is not None
    patient = voucher.person
    # The region's category list governs pooled money only (the planner applies it per holder);
    # the patient's own account pays every category of SPEC §2.
    for attempt in range(3):
        # First with the balances read beside the voucher; after a refused overdraft, fresh ones.
        plan = plan_payment(patient, category, amount_fen, now,
                            read.balances if read and attempt == 0 else None, read.sources if read else None,
                            institution.region_id)
        refuse_outside_area(plan, institution)
        if not fastpath.applies(plan):
            break
        view = fastpath.settle(institution, voucher, plan, reference, now, record_id, spending_notice_text,
                               read.languages if read else None)
        if view is not None:
            return view
    return _settle_locked(institution, voucher, patient, category, amount_fen, reference, now, record_id,
                          {step.owner.pk for step in plan.steps})


def _settle_locked(
    institution: Institution, voucher: Any, patient: Any, category: str, amount_fen: int, reference: str,
    now: datetime.datetime, record_id: int | None, owner_ids: set[int],
) -> SettlementView:
    """Lock every account that may pay (ascending id), plan with the locked balances, write."""
    with transaction.atomic():
        if not consume(voucher, now):
            raise SettlementError("voucher_invalid", voucher_gone())
        accounts = ledger.lock_personal_accounts(owner_ids)
        # Accounts not locked count as 0 (see plan_payment): nothing unlocked is ever charged.
        plan = plan_payment(patient, category, amount_fen, now, {pid: a.balance_fen for pid, a in accounts.items()},
                            institution_region=institution.region_id)
        refuse_outside_area(plan, institution)
        steps = [s for s in plan.steps if s.amount_fen > 0 and s.owner.pk in accounts]
        paid = sum(s.amount_fen for s in steps)
        clearing = ledger.institution_account_ref(institution, clearing_shard())
        settlement = Settlement.objects.create(
            institution=institution, patient=patient, category=category, amount_fen=amount_fen,
            paid_fen=paid, reference=reference, created_at=now, clearing_account_id=clearing.pk,
        )
        sources = [
            SettlementSource(
                settlement=settlement, position=i, account=accounts[s.owner.pk], owner=s.owner, source=s.source,
                relationship=s.relationship or "", binding_id=s.binding_id, holder_masked=s.owner.masked_name,
                amount_fen=s.amount_fen,
            )
            for i, s in enumerate(steps, start=1)
        ]
        SettlementSource.objects.bulk_create(sources)
        for source in sources:
            if source.source == "pooled":
                _spending_notice(source, settlement, institution)
        audit("settlement.create", channel=AuditChannel.API, on_behalf_of=patient, obj=settlement,
              after={"institution": institution.code, "amount_fen": amount_fen, "paid_fen": paid,
                     "category": category, "reference": reference})
        view = SettlementView(settlement, sources, [])
        if record_id is not None:
            idempotency.complete(record_id, 201, settlement_json(view))
        if sources:
            # Last, so the institution's clearing row (locked by the balance trigger) is held briefly.
            ledger.post(
                TransactionKind.SETTLEMENT,
                [ledger.Line(src.account, -src.amount_fen, patient, category) for src in sources]
                + [ledger.Line(clearing, paid, patient, category)],
                reference=f"settlement:{settlement.pk}", at=now,
            )
    return view


def refuse_outside_area(plan: Any, institution: Institution) -> None:
    """Pooled money would be needed, but a holder's region forbids it outside their province."""
    if plan.outside_area and plan.remaining_fen > 0:
        raise SettlementError("outside_area", _(
            "Family pooling money cannot be spent at %(institution)s: the account holder's region allows it "
            "only inside their own province. The patient's own account can still pay: send at most "
            "%(own)s fen, and the patient pays the rest another way."
        ) % {"institution": institution.name, "own": plan.paid_fen}, 403)


def spending_notice_text(
    source: SettlementSource, settlement: Settlement, institution: Institution
) -> tuple[Any, Any, dict[str, Any]]:
    """Subject, body and parameters of the notice telling a holder a relative paid from their account."""
    return (
        _("%(relative)s paid %(amount)s from your account"),
        _("%(relative)s paid %(amount)s for %(category)s at %(institution)s from your medical-insurance "
          "personal account. If you do not recognise this payment, you can pause family pooling on "
          "your pooling page."),
        {
            "relative": settlement.patient.name, "amount": _fen(source.amount_fen),
            "category": category_label(settlement.category), "institution": institution.name,
        },
    )


def _spending_notice(source: SettlementSource, settlement: Settlement, institution: Institution) -> None:
    """Tell a holder that a relative paid from their account (inside the payment's transaction)."""
    subject, body, params = spending_notice_text(source, settlement, institution)
    notify(source.owner, "spending", subject, body, params=params, link=reverse("payments:spending"))


def _fen(fen: int) -> str:
    from portal.templatetags.portal_tags import format_fen

    return format_fen(fen)


def refund(
    institution: Institution,
    settlement_id: int,
    amount_fen: int | None = None,
    *,
    now: datetime.datetime | None = None,
    claim: idempotency.Claim | None = None,
) -> SettlementView:
    """Return up to what is still refundable to the sources, newest-charged first.

    ``claim``: the API's idempotency key, as for ``settle``."""
    now = now or timezone.now()
    record_id = claim.take() if claim is not None else None
    if amount_fen is not None and (type(amount_fen) is not int or amount_fen <= 0):
        raise SettlementError("invalid_amount", _("amount_fen must be a whole number of fen greater than 0."), 400)
    with transaction.atomic():
        settlement = (
            Settlement.objects.select_for_update().select_related("patient")
            .filter(pk=settlement_id, institution=institution).first()
        )
        if settlement is None:
            raise SettlementError("not_found", _("There is no settlement with this id for your institution."), 404)
        refundable = settlement.paid_fen - settlement.refunded_fen
        if refundable <= 0:
            raise SettlementError("refund_exceeds_payment", _(
                "Nothing is left to refund: everything paid from medical-insurance accounts has been refunded."
            ))
        amount = refundable if amount_fen is None else amount_fen
        if amount > refundable:
            raise SettlementError("refund_exceeds_payment", _(
                "You can refund at most %(left)s fen for this settlement."
            ) % {"left": refundable})
        sources = list(settlement.sources.all())
        left = amount
        changed: list[SettlementSource] = []
        parts: list[dict[str, Any]] = []
        for source in sorted(sources, key=lambda s: -s.position):  # newest-charged first
            if left == 0:
                break
            back = min(left, source.amount_fen - source.refunded_fen)
            if back <= 0:
                continue
            source.refunded_fen += back
            left -= back
            changed.append(source)
            parts.append({**source_json(source), "amount_fen": back})
        ledger.lock_accounts(s.account_id for s in changed)
        SettlementSource.objects.bulk_update(changed, ["refunded_fen"])
        settlement.refunded_fen += amount
        settlement.save(update_fields=["refunded_fen"])
        new_refund = Refund.objects.create(settlement=settlement, amount_fen=amount, parts=parts, created_at=now)
        audit("settlement.refund", channel=AuditChannel.API, on_behalf_of=settlement.patient, obj=settlement,
              after={"refund_id": new_refund.pk, "amount_fen": amount})
        refunds = list(settlement.refunds.all())
        view = SettlementView(settlement, sources, refunds)
        if record_id is not None:
            idempotency.complete(record_id, 201, settlement_json(view))
        patient, category = settlement.patient, settlement.category
        backs = {s.pk: p["amount_fen"] for s, p in zip(changed, parts, strict=True)}
        for source in changed:
            if source.source == "pooled":
                _refund_notice(source, backs[source.pk], settlement, institution)
        ledger.post(
            TransactionKind.REFUND,
            [ledger.Line(_clearing_of(settlement, institution), -amount, patient, category)]
            + [ledger.Line(s.account, backs[s.pk], patient, category) for s in changed],
            reference=f"refund:{new_refund.pk}", at=now,
        )
    return view


def _refund_notice(source: SettlementSource, amount: int, settlement: Settlement, institution: Institution) -> None:
    """Tell a holder that a refund of a relative's payment returned money to their account."""
    notify(
        source.owner, "refund",
        _("%(amount)s returned to your account"),
        _("%(institution)s refunded a payment of %(relative)s: %(amount)s went back to your medical-insurance "
          "personal account."),
        params={"amount": _fen(amount), "institution": institution.name, "relative": settlement.patient.name},
        link=reverse("payments:spending"),
    )


def _clearing_of(settlement: Settlement, institution: Institution) -> Any:
    from .models import LedgerAccount

    if settlement.clearing_account_id:
        return LedgerAccount(pk=settlement.clearing_account_id)
    return ledger.institution_account_ref(institution)


def get_settlement(institution: Institution, settlement_id: int) -> SettlementView:
    settlement = Settlement.objects.filter(pk=settlement_id, institution=institution).first()
    if settlement is None:
        raise SettlementError("not_found", _("There is no settlement with this id for your institution."), 404)
    return SettlementView(settlement, list(settlement.sources.all()), list(settlement.refunds.all()))


