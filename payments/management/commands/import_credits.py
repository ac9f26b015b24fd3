from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments.credits import import_credits


class Command(BaseCommand):
    help = "Credit personal accounts from a UTF-8 CSV (id_number,amount_fen,period,reference); idempotent by reference."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise CommandError(f"{path}: no such file") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        result = import_credits(text)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"line {error.line}: {error.reason}")
            raise CommandError(f"{len(result.errors)} bad line(s); nothing was written.")
        self.stdout.write(f"created {result.created}, already present {result.already_present}")
