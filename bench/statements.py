"""Benchmark of the monthly statement run with a real Celery worker, Redis and PostgreSQL.

    .venv/bin/python bench/statements.py [--holders 100000] [--small 10000] [--concurrency 2] [--keep]

Creates a dedicated database (portal_bench_statements, dropped afterwards unless --keep),
migrates it and bulk-loads holders with about 10 personal-account ledger entries each (a
credit before the month, then in October 2025 a credit, five payments for the holder or a
relative, a refund, a resident premium, and one payment after the month), every transaction
balanced by its counter-entry. Entries are loaded with COPY *through the ledger triggers*
(balances kept by the database, sum-to-zero checked at commit). It starts a private
redis-server and `celery -A portal worker -Q statements`, then runs the month's statements:
first with --small holders, then (after deleting that run) with all --holders, and prints
statements/s and the worker's peak memory for both, so linear time and flat memory are
visible. PDFs are not made in the run (they are rendered lazily on first download).

Results (2-core machine, 2 worker processes, chunks of 2,000 accounts, PostgreSQL 15, Redis 7):
run of 2026-11-23 (load of 100,000 holders = 2.0 M ledger entries through the triggers: ~11 min)

     accounts  seconds  statements/s  peak RSS per process  peak RSS worker total
       10,000     19.9           502                104 MiB                 304 MiB
      100,000    184.5           542                104 MiB                 304 MiB
    time grows x9.3 for x10 accounts (linear); peak process memory x1.00 (flat)
    target >= 300 statements/s: met; 20 random statements re-computed and equal to the ledger

Where a chunk's time goes (profile of one 2,000-account chunk, ~2.9 s): building and sending
the bulk INSERTs of statements and notices ~45%, the ledger aggregate query ~15%, rendering
the 2,000 notices in each holder's language ~10%. The worker and PostgreSQL share the 2 cores.
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "portal_bench_statements"
PG = "postgres://postgres@127.0.0.1:5432"
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
MONTH = datetime.date(2025, 10, 1)
OPENED = datetime.datetime(2025, 1, 2, 9, 0, tzinfo=TZ)
BEFORE = datetime.datetime(2025, 9, 15, 9, 0, tzinfo=TZ)
AFTER = datetime.datetime(2025, 11, 5, 9, 0, tzinfo=TZ)
CATEGORIES = ["outpatient", "inpatient", "pharmacy_drug", "medical_device", "vaccine_class2"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


REDIS_PORT = _free_port()
ENV = {
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DJANGO_SECRET_KEY": "bench-" + "x" * 60,
    "DJANGO_DEBUG": "0",
    "DJANGO_HTTPS": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "PORTAL_LOG_LEVEL": "ERROR",
    "PORTAL_REQUEST_LOG": "0",  # figures comparable with earlier runs (a log line costs ~10%)
    "PORTAL_CELERY_EAGER": "0",
    "PORTAL_SMS_SENDER": "accounts.channels.MemorySender",
    "PORTAL_EMAIL_SENDER": "accounts.channels.MemorySender",
}
os.environ.update(ENV)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())} UTC] {message}", flush=True)


# -- database ---------------------------------------------------------------------------------


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env={**os.environ}, check=True)


def drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def _at(day: int, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(MONTH.year, MONTH.month, day, hour, 0, tzinfo=TZ)


HOSPITALS = 200


def load_holders(start: int, stop: int, batch: int = 1_000) -> None:
    """Holders start..stop-1 with their accounts and about 10 personal entries each."""
    from django.db import connection, transaction

    from accounts.idnumbers import make_id_number
    from accounts.models import InsuredPerson
    from payments import ledger
    from payments.models import AccountKind, Institution, LedgerAccount

    rng = random.Random(start)
    with transaction.atomic():
        contributions = ledger.system_account(AccountKind.CONTRIBUTIONS)
        premium_fund = ledger.system_account(AccountKind.PREMIUM_FUND)
        # Many hospitals, so that no single clearing row takes every counter-entry of a batch.
        clearing = list(
            LedgerAccount.objects.filter(institution__code__startswith="BENCH-H").order_by("id").values_list("id", flat=True)
        )
        for h in range(len(clearing), HOSPITALS):
            hospital, _ = Institution.objects.get_or_create(
                code=f"BENCH-H{h:03d}", defaults={"name": f"海口市第{h + 1}医院", "kind": "hospital", "region_id": "460100"}
            )
            clearing.append(ledger.institution_account(hospital).pk)
    for lo in range(start, stop, batch):
        hi = min(stop, lo + batch)
        people = []
        for i in range(lo, hi):
            birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=i // 1000)
            person = InsuredPerson(
                name=f"持卡人{i:06d}", scheme="employee", status="active", region_id="460100",
                birth_date=birth, sex="M" if (i % 1000) % 2 else "F",
            )
            person.id_number = make_id_number("460100", birth, i % 1000)
            person.phone = f"139{i:08d}"
            people.append(person)
        with transaction.atomic():
            InsuredPerson.objects.bulk_create(people, batch_size=2_000)
            accounts = LedgerAccount.objects.bulk_create(
                [LedgerAccount(kind=AccountKind.PERSONAL, person_id=p.pk, created_at=OPENED) for p in people],
                batch_size=2_000,
            )
            _copy_ledger(connection, rng, lo, people, accounts, contributions.pk, premium_fund.pk, clearing)
        # Fresh statistics and a fresh session (the triggers' cached plans were made while the
        # tables were small: they would scan whole tables and make the load quadratic).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE payments_ledgerentry, payments_ledgertransaction, payments_ledgeraccount, accounts_insuredperson")
        connection.close()
        if (hi - start) % 10_000 == 0 or hi == stop:
            log(f"  loaded holders {start:,}..{hi - 1:,}")


def _copy_ledger(connection, rng, first_index, people, accounts, contributions_id, premium_id, clearings) -> None:  # type: ignore[no-untyped-def]
    """COPY transactions and entries; the entry triggers apply balances and check the sums."""
    txns: list[tuple[str, str, datetime.datetime]] = []
    entries: list[tuple[int, int, int, int | None, str, datetime.datetime]] = []

    def add(kind: str, reference: str, when: datetime.datetime, lines: list[tuple[int, int, int | None, str]]) -> None:
        txn_index = len(txns)
        txns.append((kind, reference, when))
        for account_id, amount, patient_id, category in lines:
            entries.append((txn_index, account_id, amount, patient_id, category, when))

    for offset, (person, account) in enumerate(zip(people, accounts, strict=True)):
        i = first_index + offset
        relative = people[(offset + 1) % len(people)].pk  # someone they pay for, as a relative would be
        a = account.pk
        clearing_id = clearings[i % len(clearings)]
        add("credit", f"bench-open-{i}", BEFORE, [(contributions_id, -200_000, None, ""), (a, 200_000, person.pk, "")])
        add("credit", f"bench-oct-{i}", _at(1), [(contributions_id, -30_000, None, ""), (a, 30_000, person.pk, "")])
        for n in range(5):
            patient = person.pk if n % 2 == 0 else relative
            category = CATEGORIES[n]
            fen = rng.randint(100, 9_000)
            add("settlement", f"bench-s-{i}-{n}", _at(2 + n * 5, 9 + n), [(a, -fen, patient, category), (clearing_id, fen, patient, category)])
        add("refund", f"bench-r-{i}", _at(27), [(clearing_id, -500, relative, "inpatient"), (a, 500, relative, "inpatient")])
        add("premium", f"bench-p-{i}", _at(28), [(a, -38_000, relative, "resident_premium"), (premium_id, 38_000, relative, "resident_premium")])
        add("settlement", f"bench-after-{i}", AFTER, [(a, -1_234, person.pk, "outpatient"), (clearing_id, 1_234, person.pk, "outpatient")])

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('payments_ledgertransaction', 'id')")
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [sequence])
        first_id = cursor.fetchone()[0]
        cursor.execute("SELECT setval(%s, %s)", [sequence, first_id + len(txns)])
        raw = cursor.cursor  # the psycopg cursor, for COPY
        with raw.copy("COPY payments_ledgertransaction (id, kind, reference, memo, created_at) FROM STDIN") as copy:
            for index, (kind, reference, when) in enumerate(txns):
                copy.write_row((first_id + index, kind, reference, "", when))
        with raw.copy(
            "COPY payments_ledgerentry (transaction_id, account_id, amount_fen, patient_id, category, created_at) FROM STDIN"
        ) as copy:
            for txn_index, account_id, amount, patient_id, category, when in entries:
                copy.write_row((first_id + txn_index, account_id, amount, patient_id, category, when))


# -- processes --------------------------------------------------------------------------------


class Redis:
    def __init__(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        for _ in range(50):
            try:
                redis.Redis(port=REDIS_PORT).ping()
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Worker:
    def __init__(self, concurrency: int, logfile: Path) -> None:
        celery = str(Path(sys.executable).with_name("celery"))
        self.logfile = logfile
        logfile.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/
        handle = open(logfile, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [celery, "-A", "portal", "worker", "-Q", "statements", "-c", str(concurrency), "-n", "bench@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
            cwd=ROOT, env={**os.environ}, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        )
        handle.close()
        deadline = time.monotonic() + 60
        while b" ready." not in logfile.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("worker did not start:\n" + logfile.read_text()[-2000:])
            time.sleep(0.2)

    def pids(self) -> list[int]:
        """The worker's parent and pool processes."""
        pids = [self.process.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    if int(fields[1]) == self.process.pid:  # ppid
                        pids.append(int(entry))
                except OSError:
                    continue
        return pids

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, signal.SIGKILL)


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler(threading.Thread):
    """Samples the resident memory of the worker's processes every 0.2 s."""

    def __init__(self, worker: Worker) -> None:
        super().__init__(daemon=True)
        self.worker = worker
        self.peak_process = 0
        self.peak_total = 0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            sizes = [rss_kib(pid) for pid in self.worker.pids()]
            self.peak_process = max(self.peak_process, max(sizes, default=0))
            self.peak_total = max(self.peak_total, sum(sizes))
            time.sleep(0.2)


# -- the measurement --------------------------------------------------------------------------


def measure(worker: Worker, expected: int) -> dict[str, float]:
    from django.db import connection

    from statements.models import MonthlyStatement, StatementRun
    from statements.monthly import run_progress, start_statement_run

    before = {pid: rss_kib(pid) for pid in worker.pids()}
    sampler = MemorySampler(worker)
    sampler.start()
    started_at = time.monotonic()
    started = start_statement_run(MONTH, chunk_size=2_000)
    run = started.run
    while True:
        time.sleep(0.25)
        run = StatementRun.objects.get(pk=run.pk)
        if run.finished_at is not None:
            break
        if time.monotonic() - started_at > 3_600:
            raise RuntimeError("the run did not finish within an hour")
    elapsed = time.monotonic() - started_at
    sampler.stop_event.set()
    sampler.join()
    progress = run_progress(run)
    stored = MonthlyStatement.objects.filter(month=MONTH).count()
    assert stored == expected == run.total_accounts, (stored, expected, run.total_accounts)
    assert progress.failed == 0, progress
    connection.close()
    return {
        "accounts": expected,
        "seconds": elapsed,
        "rate": expected / elapsed,
        "peak_process_mib": sampler.peak_process / 1024,
        "peak_total_mib": sampler.peak_total / 1024,
        "idle_process_mib": max(before.values(), default=0) / 1024,
    }


def forget_run() -> None:
    """Delete the month's run, statements and their notices (not the ledger) to run again."""
    from django.db import transaction

    from accounts.models import Notification
    from statements.models import MonthlyStatement, StatementRun

    with transaction.atomic():
        Notification.objects.filter(kind="statement_ready").delete()
        MonthlyStatement.objects.filter(month=MONTH).delete()
        StatementRun.objects.filter(month=MONTH).delete()


def check_sample() -> str:
    """Re-compute a few statements one by one and compare with what the run stored."""
    from statements.models import MonthlyStatement
    from statements.monthly import compute_statement

    sample = list(MonthlyStatement.objects.select_related("account").order_by("?")[:20])
    for statement in sample:
        figures = compute_statement(statement.account, MONTH)
        assert figures.closing_fen == statement.closing_fen == statement.account.balance_fen + 1_234
    return f"{len(sample)} random statements re-computed and equal to the ledger"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--holders", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    log(f"database {DB_NAME}: create and migrate")
    recreate_database()
    import django

    django.setup()
    redis = Redis()
    worker: Worker | None = None
    results = []
    try:
        t0 = time.monotonic()
        load_holders(0, args.small)
        log(f"loaded {args.small:,} holders in {time.monotonic() - t0:.0f}s")
        worker = Worker(args.concurrency, ROOT / "var" / "bench-statements-worker.log")
        results.append(measure(worker, args.small))
        log(f"{args.small:,} accounts: {results[-1]['rate']:.0f} statements/s")
        forget_run()
        t0 = time.monotonic()
        load_holders(args.small, args.holders)
        log(f"loaded {args.holders - args.small:,} more holders in {time.monotonic() - t0:.0f}s")
        results.append(measure(worker, args.holders))
        sample = check_sample()
    finally:
        if worker is not None:
            worker.stop()
        redis.stop()
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database()

    out = io.StringIO()
    out.write(f"{'accounts':>9} {'seconds':>8} {'statements/s':>13} {'peak RSS per process':>21} {'peak RSS worker total':>22}\n")
    for r in results:
        out.write(
            f"{r['accounts']:>9,} {r['seconds']:>8.1f} {r['rate']:>13.0f} {r['peak_process_mib']:>18.0f} MiB"
            f" {r['peak_total_mib']:>19.0f} MiB\n"
        )
    small, big = results
    out.write(
        f"time grows x{big['seconds'] / small['seconds']:.1f} for x{big['accounts'] / small['accounts']:.0f} accounts;"
        f" peak process memory x{big['peak_process_mib'] / small['peak_process_mib']:.2f}\n"
    )
    out.write(f"target >= 300 statements/s: {'met' if min(r['rate'] for r in results) >= 300 else 'NOT met'}\n")
    out.write(sample + "\n")
    print(out.getvalue())


if __name__ == "__main__":
    main()
