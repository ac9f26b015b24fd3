from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.idnumbers import validate_id_number
from accounts.models import AuditChannel, InsuredPerson
from payments.vouchers import VOUCHER_SECONDS, VoucherError, issue_voucher


class Command(BaseCommand):
    help = "Print a one-time e-voucher code for an insured person (the code alone on the last line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id_number")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            number = validate_id_number(options["id_number"]).number
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        person = InsuredPerson.objects.by_id_number(number)
        if person is None:
            raise CommandError("No insured person has this ID number.")
        try:
            _voucher, code = issue_voucher(person, channel=AuditChannel.COMMAND)
        except VoucherError as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(f"E-voucher for {person.masked_name} ({person.masked_id_number}), valid {VOUCHER_SECONDS // 60} minutes, single use:")
        self.stdout.write(code)
