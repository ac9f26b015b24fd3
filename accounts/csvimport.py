"""What the bureau's CSV imports share: row errors and the command that reads and reports.

Each import validates every row before writing anything; a command built on
``CsvImportCommand`` reads the UTF-8 file, runs the import and, when rows are bad, prints each
bad line number with its reason and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return _("line %(line)d: %(reason)s") % {"line": self.line, "reason": self.reason}


class ImportOutcome(Protocol):
    errors: list[RowError]

    @property
    def ok(self) -> bool: ...


class CsvImportCommand(BaseCommand):
    """Subclasses set ``help`` and implement ``run_import`` and ``summary``."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def run_import(self, text: str) -> Any:
        raise NotImplementedError

    def summary(self, result: Any) -> str:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise CommandError(f"{path}: no such file") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        result = self.run_import(text)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"line {error.line}: {error.reason}")
            raise CommandError(f"{len(result.errors)} bad line(s); nothing was written.")
        self.stdout.write(self.summary(result))
