"""CPU per request and queries per request of the citizen pages, next to bench/load.py's table view.

    .venv/bin/python bench/pages.py [--requests 200] [--rounds 5] [--warmup 20] [--payments 200]
                                    [--keep] [--reuse] [--sql] [--profile PAGE]

Throughput on a shared 2-core machine says more about the other work on it than about the
portal; the CPU time a request costs much less. This script prepares the data of bench/load.py
with its seeding (its own database, portal_bench_pages or BENCH_PAGES_DB, dropped afterwards
unless --keep; migrate; ``manage.py load_demo``; money and 20,000 e-vouchers for the demo
holder 张伟; production settings: DJANGO_DEBUG=0, bench.settings, Redis BENCH_REDIS_URL,
emptied before and after), then pays ``--payments`` settlements with his e-vouchers at the
bench hospital (what bench/load.py's mix does before its capacity runs: his spending page then
has pages of rows). It starts ONE gunicorn worker (sync, as bench/load.py and production.sh
run it; port BENCH_PAGES_PORT, 8102) and, as 张伟 with a session made directly (as the
capacity runs do), requests each page one after the other: ``--requests`` times per page in
``--rounds`` turns through all pages (so that a change in the machine's load weighs on every
page alike), after ``--warmup`` requests. It reads the CPU time (user + system,
/proc/<pid>/stat) that the gunicorn worker and the worker's PostgreSQL backend spent meanwhile.
The table view (/bench/table) is requested without a session, as bench/load.py does;
/bench/layout (bench/urls.py) is the portal's layout with nothing in it, logged in: the floor
of every citizen page (session, user, header with the unread count, session save).

Why a real gunicorn worker rather than Django's test Client: the figures then include what the
locust runs pay per request (gunicorn's request parsing, the WSGI handler, the log line) and
nothing they do not (the test Client's own request building); and /proc gives the worker's and
the database backend's CPU separately, whatever else runs on the machine. Queries per request
are counted in this process with the test Client (every statement sent, plain SQL included),
same settings and database; ``--sql`` prints them (and stops), ``--profile PAGE`` prints a
cProfile (CPU time) of --requests in-process requests of that page instead; ``--reuse`` runs
on the database of an earlier ``--keep`` run.

The ratio to the table view's CPU per request (worker + backend) is what bench/load.py's
throughput ratio tends to once the machine is saturated (locust's own CPU per request, on the
same machine, pulls it a little towards 1): the 50% throughput target means at most about 2x
the table view's CPU per request. CPU time per request still moves with the machine's load
(the table view measured 6-9 ms across runs): compare ratios, and runs made back to back.

The dashboard and the spending page are measured twice: as a citizen sees them again (a kept
copy, portal/pagecache.py: session, user, the page's state, session save) and, with a second
worker started with PORTAL_PAGE_CACHE_ENTRIES=0, as rendered on a first view ("rendered").

Results, 2026-11-30 06:05 UTC, 2-core machine shared with other work (load average 5-8),
PostgreSQL 15, 200 requests per page in 4 rounds, 200 payments of the holder:

    page                   worker ms  db ms total ms x table queries
    table                        3.6    0.3      3.9     1.0       1
    layout                       6.3    1.5      7.9     2.1       4
    dashboard                    3.9    3.0      6.9     1.8       4
    spending                     3.6    1.5      5.1     1.3       4
    voucher                      8.0    1.7      9.8     2.5       6
    statements                   7.4    1.7      9.1     2.4       5
    table (rendered)             4.4    0.4      4.8     1.0       1
    dashboard (rendered)        24.4    5.5     29.9     6.2      10
    spending (rendered)         21.2    4.8     26.0     5.4       8

Seen again, the dashboard costs 1.8x the table view and the spending page 1.3x (target met);
rendered, 6.2x and 5.4x, as before the kept copies (earlier runs: dashboard 10.2x with 20
queries, 5.9x with 10; spending 9.8x, 5.7x). The kept dashboard's database time is its state
SELECT (twelve small subqueries, about 1 ms). The user's query, compiled once per process
(accounts/backends.py), took the layout from 2.3x to about 2x. What a first view still costs:
about 20 ms of ORM work for the pages' own queries (building and compiling SQL is ~70% of a
query's time here) and 15-20 ms of template rendering (~30 us per translated string, ~60 us
per URL on this machine); the next steps there would be the pages' fixed-shape queries compiled
once, as the user's is, and the layout's static parts rendered once per language and mode.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = os.environ.get("BENCH_PAGES_DB", "portal_bench_pages")
PORT = int(os.environ.get("BENCH_PAGES_PORT", "8102"))
# bench/load.py's seeding, on this script's database and port (read when bench.load is imported).
os.environ["BENCH_LOAD_DB"] = DB_NAME
os.environ["BENCH_LOAD_PORT"] = str(PORT)

sys.modules.setdefault("locust", None)  # type: ignore[arg-type]  # not its locustfile side: locust patches with gevent
from bench import load  # noqa: E402

PAGES = [
    ("table", "/bench/table", False),
    ("layout", "/bench/layout", True),
    ("dashboard", "/dashboard/", True),
    ("spending", "/payments/spending/", True),
    ("voucher", "/payments/voucher/", True),
    ("statements", "/statements/", True),
]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_worker(work: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", "1",
               "--timeout", "60"]
    log = open(work / "gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **load.ENV, **(env or {})}, stdout=log, stderr=log,
                              start_new_session=True)
    for _ in range(100):
        try:
            get("/readyz", None)
            return server
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def worker_pid(server: subprocess.Popen) -> int:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def get(path: str, cookie: str | None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def backend_pids() -> list[int]:
    """The PostgreSQL backends connected to this database, but this script's own."""
    import psycopg

    with psycopg.connect(f"{load.PG}/{DB_NAME}", autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
                            " AND backend_type = 'client backend'", [DB_NAME]).fetchall()
    return [row[0] for row in rows]


def measure(worker: int, path: str, cookie: str | None, warmup: int, requests: int) -> dict:
    errors = sum(get(path, cookie) != 200 for _ in range(warmup))
    for _ in range(3):  # again if the worker's connection was renewed meanwhile (CONN_MAX_AGE)
        backends = backend_pids()
        if len(backends) != 1:
            raise SystemExit(f"expected the worker's one database connection, found {len(backends)}")
        before = cpu_seconds(worker), cpu_seconds(backends[0])
        started = time.perf_counter()
        errors += sum(get(path, cookie) != 200 for _ in range(requests))
        wall = time.perf_counter() - started
        try:
            after = cpu_seconds(worker), cpu_seconds(backends[0])
        except FileNotFoundError:
            continue
        if backend_pids() == backends:
            break
    else:
        raise SystemExit("the worker's database connection changed in every round")
    return {"worker": (after[0] - before[0]) / requests * 1000, "db": (after[1] - before[1]) / requests * 1000,
            "wall": wall / requests * 1000, "errors": errors}


def client(cookie: dict | None):  # noqa: ANN201 - django's Client, imported late
    from django.test import Client

    browser = Client(HTTP_HOST="127.0.0.1")
    if cookie:
        browser.cookies[cookie["name"]] = cookie["value"]
    return browser


def count_queries(cookie: dict, show_sql: bool = False) -> dict[str, int]:
    from django.db import connection

    counts = {}
    for label, path, logged_in in PAGES:
        browser = client(cookie if logged_in else None)
        browser.get(path)  # warm caches as the gunicorn runs are warm
        queries: list[str] = []

        def record(execute, sql, params, many, context, queries=queries):  # noqa: ANN001, ANN202
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            status = browser.get(path).status_code
        if status != 200:
            raise SystemExit(f"{path} answered {status} in process")
        counts[label] = len(queries)
        if show_sql:
            print(f"-- {label}: {len(queries)} queries")
            for sql in queries:
                print(f"   {sql[:300]}")
    return counts


def profile(label: str, cookie: dict, requests: int) -> None:
    import cProfile
    import pstats

    path, logged_in = next((p, li) for name, p, li in PAGES if name == label)
    browser = client(cookie if logged_in else None)
    for _ in range(10):
        browser.get(path)
    profiler = cProfile.Profile(time.process_time)  # CPU time, not waiting for PostgreSQL
    started = time.process_time()
    profiler.enable()
    for _ in range(requests):
        browser.get(path)
    profiler.disable()
    print(f"{label}: {(time.process_time() - started) / requests * 1000:.1f} ms CPU per request in process "
          "(with the profiler)")
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


def run_pages(work: Path, cookie: dict, args: argparse.Namespace, pages: list, env: dict[str, str]) -> dict:
    """Each page's CPU per request in one fresh gunicorn worker (env: added to its environment)."""
    server = start_worker(work, env)
    try:
        worker = worker_pid(server)
        # In rounds, every page in turn, so that a change in the machine's load meanwhile
        # weighs on every page alike; the figures are the sums over the rounds.
        results = {label: {"worker": 0.0, "db": 0.0, "wall": 0.0, "errors": 0} for label, _, _ in pages}
        share = max(1, args.requests // args.rounds)
        for _ in range(args.rounds):
            for label, path, logged_in in pages:
                cookie_header = f"{cookie['name']}={cookie['value']}" if logged_in else None
                one = measure(worker, path, cookie_header, args.warmup // args.rounds, share)
                for key in results[label]:
                    results[label][key] += one[key] if key == "errors" else one[key] / args.rounds
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return results


def pay(codes: list[str]) -> None:
    """Payments of the holder at the bench hospital, as bench/load.py's mix makes before its capacity
    runs (his spending page then has pages of rows to total and list)."""
    from payments.models import Institution
    from payments.settlement import settle

    institution = Institution.objects.get(code="BENCHLOAD")
    for number, code in enumerate(codes):
        settle(institution, code, "outpatient", 100 + number % 900, f"bench-pages-{number}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5, help="the requests of each page in this many turns")
    parser.add_argument("--payments", type=int, default=200, help="payments of the holder made first")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database of an earlier --keep run")
    parser.add_argument("--profile", choices=[label for label, _, _ in PAGES])
    parser.add_argument("--sql", action="store_true", help="only print each page's queries")
    args = parser.parse_args()
    import tempfile

    import redis

    redis.Redis.from_url(load.REDIS).flushdb()
    Path(load.ENV["PORTAL_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="portal-pages-"))
    if args.reuse:
        os.environ.update(load.ENV)
        import django

        django.setup()
    else:
        codes = load.seed()["vouchers"]
        pay(codes[: args.payments])
    cookie = load.sessions(["张伟"], 1)[0]
    import logging

    logging.getLogger("portal.request").setLevel(logging.WARNING)  # this process's requests: no log lines
    try:
        if args.profile:
            profile(args.profile, cookie, args.requests)
            return 0
        queries = count_queries(cookie, args.sql)
        if args.sql:
            return 0
        from django.test import override_settings

        with override_settings(PAGE_CACHE_ENTRIES=0):
            rendered_queries = count_queries(cookie)
        from django.db import connections

        connections.close_all()  # only the worker's connection is left to measure
        results = run_pages(work, cookie, args, PAGES, {})
        # The same pages with no kept copies (PORTAL_PAGE_CACHE_ENTRIES=0): what a first view costs.
        rendered = run_pages(work, cookie, args, [p for p in PAGES if p[0] in ("table", "dashboard", "spending")],
                             {"PORTAL_PAGE_CACHE_ENTRIES": "0"})
    finally:
        redis.Redis.from_url(load.REDIS).flushdb()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            load.admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    print(f"{args.requests} requests per page in {args.rounds} rounds after {args.warmup} of warm-up, one gunicorn worker, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC\n")
    print(f"{'page':22} {'worker ms':>9} {'db ms':>6} {'total ms':>8} {'x table':>7} {'queries':>7} "
          f"{'wall ms':>7} {'errors':>6}")
    for suffix, measured in (("", results), (" (rendered)", rendered)):
        table = measured["table"]
        for label, result in measured.items():
            total = result["worker"] + result["db"]
            ratio = total / (table["worker"] + table["db"])
            print(f"{label + suffix:22} {result['worker']:9.1f} {result['db']:6.1f} {total:8.1f} {ratio:7.1f} "
                  f"{(queries[label] if not suffix or label == 'table' else rendered_queries[label]):7} "
                  f"{result['wall']:7.1f} {result['errors']:6}")
    table = results["table"]
    ok = True
    for label in ("dashboard", "spending"):
        ratio = (results[label]["worker"] + results[label]["db"]) / (table["worker"] + table["db"])
        ok = ok and ratio <= 2.0
        print(f"{label}: {ratio:.1f}x the table view's CPU per request (target at most 2x)")
    errors = sum(result["errors"] for measured in (results, rendered) for result in measured.values())
    print("targets met" if ok and not errors else "targets NOT met")
    return 0 if ok and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
