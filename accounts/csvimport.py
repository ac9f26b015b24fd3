"""What the bureau's CSV imports share: reading the rows, row errors, the ID-number check, the
upsert result, and the command that reads and reports.

Each import validates every row before writing anything; a command built on
``CsvImportCommand`` reads the UTF-8 file, runs the import and, when rows are bad, prints each
bad line number with its reason and exits non-zero.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from .idnumbers import IdFacts, validate_id_number


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return _("line %(line)d: %(reason)s") % {"line": self.line, "reason": self.reason}


def read_rows(text: str, header: list[str]) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """The rows of a UTF-8 CSV with exactly ``header``, each with the line it starts on.

    A row with the wrong number of columns is reported as an error; blank lines are skipped.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        found = [h.strip() for h in next(reader)]
    except StopIteration:
        found = []
    except csv.Error as exc:
        return [], [RowError(1, _("the file is not valid CSV (%(error)s)") % {"error": exc})]
    if found != header:
        return [], [RowError(1, _("the header must be exactly: %(header)s") % {"header": ",".join(header)})]
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line, _("the file is not valid CSV (%(error)s)") % {"error": exc}))
            break
        if values and any(v.strip() for v in values):
            if len(values) != len(header):
                errors.append(RowError(line, _("the row has %(count)s columns instead of %(expected)s")
                                       % {"count": len(values), "expected": len(header)}))
            else:
                rows.append((line, {key: value.strip() for key, value in zip(header, values, strict=True)}))
        line = reader.line_num + 1
    return rows, errors


def check_id_number(value: str) -> tuple[IdFacts | None, str]:
    """The facts of a row's ID number, or None and the reason as a row error states it."""
    try:
        return validate_id_number(value), ""
    except ValidationError as exc:
        return None, _("ID number %(value)s: %(reason)s") % {"value": value, "reason": " ".join(exc.messages)}


@dataclass
class ImportResult:
    """What an upsert import did (people or household members): counts, or the bad rows and nothing written."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


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
