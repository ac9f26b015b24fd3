from __future__ import annotations

from accounts.csvimport import CsvImportCommand, ImportResult
from accounts.households import import_households


class Command(CsvImportCommand):
    help = ("Upsert household registration (户籍) from a UTF-8 CSV (household_id,id_number,relationship_to_head); "
            "every row is checked first and nothing is written when a line is wrong.")

    def run_import(self, text: str) -> ImportResult:
        return import_households(text)

    def summary(self, result: ImportResult) -> str:
        return f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}"
