from __future__ import annotations

from accounts.csvimport import CsvImportCommand
from payments.credits import CreditResult, import_credits


class Command(CsvImportCommand):
    help = "Credit personal accounts from a UTF-8 CSV (id_number,amount_fen,period,reference); idempotent by reference."

    def run_import(self, text: str) -> CreditResult:
        return import_credits(text)

    def summary(self, result: CreditResult) -> str:
        return f"created {result.created}, already present {result.already_present}"
