"""Demo statements for `make run`: last month's, made from the history payments/demo.py booked.

Idempotent: exactly one statement per (account, month), however often it runs.
"""

from __future__ import annotations

from accounts.models import InsuredPerson
from payments.demo import last_month

from .monthly import run_sync


def seed(people: dict[str, InsuredPerson]) -> list[str]:
    month = last_month()
    _started, progress = run_sync(month)
    return [f"  statements for {month:%Y-%m}: {progress.statements} (张伟: 对账单 → {month:%Y-%m})", ""]
