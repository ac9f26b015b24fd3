"""Monthly statements (月度对账单) and the runs that produce them.

The tables keep the names they had when these models belonged to payments (payments_...). The
database keeps the promises: one statement per (personal account, month), one run per month, one chunk
per (run, number), and a statement's printed arithmetic must add up (CHECK constraint).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import InsuredPerson

# The largest chunk a task may take: big enough to be efficient, small enough that a lost
# chunk is cheap to redo and no task runs for long.
MAX_CHUNK_SIZE = 5000


class StatementRun(models.Model):
    """The statement job of one month. Exactly one per month, however often it is started."""

    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month the statements cover."))
    chunk_size = models.PositiveIntegerField(_("accounts per chunk"))
    total_accounts = models.PositiveIntegerField(_("accounts"), default=0)
    total_chunks = models.PositiveIntegerField(_("chunks"), default=0)
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        db_table = "payments_statementrun"
        verbose_name = _("statement run")
        verbose_name_plural = _("statement runs")
        ordering = ["-month"]
        constraints = [
            models.CheckConstraint(condition=Q(month__day=1), name="statement_run_month_starts_on_day_1"),
            models.CheckConstraint(
                condition=Q(chunk_size__gte=1) & Q(chunk_size__lte=MAX_CHUNK_SIZE), name="statement_run_chunk_size_bounded"
            ),
        ]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")


class ChunkStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class StatementChunk(models.Model):
    """A slice of a run: the personal accounts with ids first..last (at most MAX_CHUNK_SIZE).

    A task receives only the run id and the chunk id. ``claimed_at`` is committed before the
    work starts, so a periodic sweep can find chunks whose worker died and queue them again.
    """

    run = models.ForeignKey(StatementRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField(_("number"))
    first_account_id = models.BigIntegerField(_("first account id"))
    last_account_id = models.BigIntegerField(_("last account id"))
    size = models.PositiveIntegerField(_("accounts"))
    status = models.CharField(_("status"), max_length=10, choices=ChunkStatus.choices, default=ChunkStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    statements = models.PositiveIntegerField(_("statements"), default=0)
    failed = models.PositiveIntegerField(_("failed accounts"), default=0)
    error = models.TextField(_("problems"), blank=True)

    class Meta:
        db_table = "payments_statementchunk"
        verbose_name = _("statement chunk")
        verbose_name_plural = _("statement chunks")
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="one_chunk_per_run_and_number"),
            models.CheckConstraint(condition=Q(first_account_id__lte=F("last_account_id")), name="chunk_range_ordered"),
            models.CheckConstraint(
                condition=Q(size__gte=1) & Q(size__lte=MAX_CHUNK_SIZE), name="chunk_size_bounded"
            ),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"], name="chunk_status_claimed")]

    def __str__(self) -> str:
        return f"{self.run} #{self.number}"


class MonthlyStatement(models.Model):
    """What happened to one personal account in one month, reconciled with the ledger.

    Amounts are fen. ``spending_fen`` and ``premiums_fen`` are money that left the account,
    ``credits_fen`` and ``refunds_fen`` money that came in, ``corrections_fen`` the signed sum
    of reversals. ``by_person`` and ``by_category`` break the spending down; the names in
    ``by_person`` are a snapshot taken when the statement was made (it is a document).
    """

    account = models.ForeignKey("payments.LedgerAccount", on_delete=models.PROTECT, related_name="statements")
    person = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="statements")
    month = models.DateField(_("month"))
    run = models.ForeignKey(StatementRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opening_fen = models.BigIntegerField(_("opening balance"))
    credits_fen = models.BigIntegerField(_("money paid in"))
    spending_fen = models.BigIntegerField(_("medical payments"))
    refunds_fen = models.BigIntegerField(_("refunds"))
    premiums_fen = models.BigIntegerField(_("premiums paid"))
    corrections_fen = models.BigIntegerField(_("corrections"))
    closing_fen = models.BigIntegerField(_("closing balance"))
    by_person = models.JSONField(default=list)
    by_category = models.JSONField(default=list)
    entry_count = models.PositiveIntegerField(_("movements"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_language = models.CharField(max_length=10, blank=True, editable=False)
    pdf_rendered_at = models.DateTimeField(null=True, blank=True, editable=False)
    # statements.pdf.LAYOUT when the stored file was made: an older layout is made again.
    pdf_layout = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        db_table = "payments_monthlystatement"
        verbose_name = _("monthly statement")
        verbose_name_plural = _("monthly statements")
        ordering = ["-month", "id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="one_statement_per_account_and_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="statement_month_starts_on_day_1"),
            models.CheckConstraint(
                condition=Q(
                    closing_fen=F("opening_fen") + F("credits_fen") - F("spending_fen") + F("refunds_fen")
                    - F("premiums_fen") + F("corrections_fen")
                ),
                name="statement_adds_up",
            ),
            models.CheckConstraint(condition=Q(opening_fen__gte=0) & Q(closing_fen__gte=0), name="statement_balances_not_negative"),
        ]
        indexes = [models.Index(fields=["person", "-month"], name="statement_person_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.account_id}"
