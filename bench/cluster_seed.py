"""Seed helper of bench/cluster.py (run by it, in its environment; not on its own).

    python bench/cluster_seed.py HOLDERS VOUCHERS VOUCHERS_FILE

Loads HOLDERS holders with their personal accounts and about ten ledger entries each in the
month two months back (credits, payments, a refund, a premium; the loader of bench/statements.py,
through the ledger triggers; last month's statements of the demo people are already made by
load_demo). Then issues e-vouchers to the first VOUCHERS holders with the portal's own service
(payments.vouchers.issue_voucher, as `manage.py issue_voucher` does, but in one process), writes
the codes, one a line, to VOUCHERS_FILE, and prints the month (YYYY-MM).
"""

from __future__ import annotations

import datetime
import os
import sys
import time
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    holders, vouchers, vouchers_file = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    saved = dict(os.environ)
    import bench.statements as loader  # sets its own environment at import: put ours back

    os.environ.clear()
    os.environ.update(saved)
    import django

    django.setup()
    from django.db import transaction

    from accounts.models import AuditChannel, InsuredPerson
    from payments.vouchers import issue_voucher

    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    today = datetime.datetime.now(tz).date()
    # Two months back: load_demo already made the statements of last month for its people.
    first_of_this = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    month = (first_of_this - datetime.timedelta(days=1)).replace(day=1)
    loader.MONTH = month
    loader.OPENED = datetime.datetime(month.year, month.month, 1, 0, 5, tzinfo=tz) - datetime.timedelta(days=60)
    loader.BEFORE = datetime.datetime(month.year, month.month, 1, 0, 5, tzinfo=tz) - datetime.timedelta(days=10)
    # One payment after the month, so the statement must subtract it from the stored balance.
    loader.AFTER = datetime.datetime(first_of_this.year, first_of_this.month, 1, 0, 1, tzinfo=tz)
    loader.log = lambda message: None
    started = time.monotonic()
    loader.load_holders(0, holders)
    loaded = time.monotonic()
    codes = []
    with transaction.atomic():
        for person in InsuredPerson.objects.filter(name__startswith="持卡人").order_by("id")[:vouchers]:
            _voucher, code = issue_voucher(person, channel=AuditChannel.COMMAND)
            codes.append(code)
    vouchers_file.write_text("\n".join(codes) + "\n")
    print(f"load {loaded - started:.1f} s, vouchers {time.monotonic() - loaded:.1f} s", file=sys.stderr)
    print(month.strftime("%Y-%m"))

if __name__ == "__main__":
    main()
