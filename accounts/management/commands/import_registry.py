from __future__ import annotations

from accounts.csvimport import CsvImportCommand, ImportResult
from accounts.registry import import_registry


class Command(CsvImportCommand):
    help = "Upsert insured persons from a UTF-8 CSV (id_number,name,phone,scheme,status,region_code)."

    def run_import(self, text: str) -> ImportResult:
        return import_registry(text)

    def summary(self, result: ImportResult) -> str:
        return f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}"
