"""The portal on several machines: network namespaces, a proxy, crashes, and what survives.

    sudo .venv/bin/python bench/cluster.py [--holders 2000] [--chunk-size 100] [--clients 4]
                                           [--rate 20] [--payments 1000]

Needs root (namespaces, veth pairs, a bridge); installs haproxy from Debian when missing.
Everything stays on this machine: a bridge ``pclbr0`` with 10.231.0.1/24 in the root
namespace, and one namespace per host, each joined to the bridge by a veth pair:

    10.231.0.1   infra (root namespace): a THROWAWAY PostgreSQL cluster (initdb in a temp dir,
                 listening on the bridge address only, trust for 10.231.0.0/24, fsync off) and a
                 throwaway redis-server; the machine's own PostgreSQL and Redis are not touched
    10.231.0.5   proxy: HAProxy, health check GET /healthz every second, retries + redispatch
    10.231.0.11  web1, 10.231.0.12 web2: gunicorn (DJANGO_DEBUG=0, DJANGO_HTTPS=0), 2 workers each
    10.231.0.21  worker1, 10.231.0.22 worker2: celery worker, concurrency 1
    10.231.0.31  beat: celery beat (exactly one), and where the operator runs manage.py

The portal is prepared as .ci/production.sh does (migrate, collectstatic, load_demo for an API
key, manage.py issue_voucher), then bench/cluster_seed.py loads --holders holders with ledger
entries in the month two months back (load_demo already made last month's statements of its
own people) and issues e-vouchers to the first --payments of them. Text messages and e-mails
go to accounts.channels.MemorySender. Broker limits are set low for the run:
PORTAL_CELERY_VISIBILITY_TIMEOUT=60 > PORTAL_CELERY_TIME_LIMIT=45 > soft limit 30.

The run: --clients threads pay settlements through the proxy (each with its own
Idempotency-Key; a failed call is retried with the same key, as the API asks of clients) while
`manage.py generate_statements --month YYYY-MM --chunk-size N` runs on the beat host. Each chunk
holds its transaction 1 s longer than its work (PORTAL_TEST_STATEMENT_CHUNK_PAUSE=1, the
fault-injection hook of the crash tests) so the run lasts long enough to be hit. Once a few
chunks are done and worker1 is seen inside a chunk's transaction (pg_stat_activity, by its
address), every process of worker1 is SIGKILLed; a few seconds later every
process of web1 is SIGKILLed under payment load. Then it waits (bounded) for the statement run
to finish: the killed chunk's message comes back from Redis after the visibility timeout; if it
does not, the script runs the beat's periodic sweep task once
(requeue_lost_statement_chunks_task, every 300 s in beat) when nothing is queued, unacknowledged
or running while chunks are still missing, and says so.

It reports: statements = accounts with no duplicate and every chunk done; every settlement
answered 201 exists exactly once, no reference is paid twice, no payment without a 201 answer
(after its retries), ledger invariants (payments.ledger.invariant_violations()) clean; and
the error rate of the proxy's answers while web1 was down (first tries, before the client's
own retry). Whole script bounded to < 8 minutes; the namespaces, the bridge, the throwaway
servers and every process are removed on exit, also on failure or Ctrl-C.

Zero errors while web1 is down come from the proxy: a refused connection or an empty answer
(a request web1 was serving when it died) is retried on web2 (``retry-on``, ``redispatch``),
which is safe for payments only because each carries its Idempotency-Key. Chunks took ~5 s
each (100 accounts + 1 s pause, plus 100 statement notices delivered by the same workers)
because the machine was shared (load average ~13 on 2 cores).

Results (run of 2026-11-30, 2-core machine shared with other work, 2,000 holders, chunks of 100):
    == statements
      accounts in the run 2,004; statements 2,004 (2,004 distinct accounts); chunks {'done': 21} of 21; chunk attempts 22 (max 2 on one chunk)
      chunks done again after the crash (number, attempts): [(6, 2)]
      worker1 SIGKILLed inside a chunk; 1 chunk(s) done again after an uncommitted attempt, via the broker's redelivery after the visibility timeout

    == payments (settlement API through the proxy, Idempotency-Key, retried with the same key)
      answered 201: 1,001; refused 4xx: 0; never answered 201 after retries: 0
      201 answers missing in the database: 0; references paid twice: 0; paid without a 201 answer: 0; ledger invariant violations: 0

    == web1 SIGKILLed under load (proxy: health check /healthz every 1 s, fall 2; retries 2 with redispatch)
      before the kill: 0 errors in 613 first tries
      first 5 s after the kill: 0 errors in 72 first tries (0.0%)
      whole time web1 was down (28 s): 0 errors in 388 first tries (0.00%); errors = 5xx or no answer, before the client's own retry
      proxy web1: 330 requests sent, 0 connection errors, 2 response errors, 2 retried, 23 redispatched, status DOWN
      proxy web2: 695 requests sent, 0 connection errors, 0 response errors, 0 retried, 0 redispatched, status UP
      proxy BACKEND: 1002 requests sent, 0 connection errors, 2 response errors, 2 retried, 23 redispatched, status UP
      proxy: [WARNING]  (2972) : Server web/web1 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 1 active and 0 backup servers

    whole script: 335 s; OK
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
PY = str(VENV / "python") if (VENV / "python").exists() else sys.executable
BRIDGE = "pclbr0"
INFRA = "10.231.0.1"
PG_PORT = 55432
REDIS_PORT = 56379
HOSTS = {  # name -> address
    "proxy": "10.231.0.5",
    "web1": "10.231.0.11",
    "web2": "10.231.0.12",
    "worker1": "10.231.0.21",
    "worker2": "10.231.0.22",
    "beat": "10.231.0.31",
}
NS_PREFIX = "pcl-"
WEB_PORT = 8000
PROXY = f"http://{HOSTS['proxy']}"
DEADLINE = time.monotonic() + 7.5 * 60  # the whole script, set up and checks included
T0 = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {message}", flush=True)


def run(*cmd: str, check: bool = True, timeout: float = 120, **kw) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run(list(cmd), check=check, timeout=timeout, capture_output=True, text=True, **kw)


def left() -> float:
    return DEADLINE - time.monotonic()


# -- clean-up ---------------------------------------------------------------------------------

STATE: dict[str, object] = {"procs": [], "work": None, "pg_data": None}


def ns_pids(name: str) -> list[int]:
    out = run("ip", "netns", "pids", NS_PREFIX + name, check=False, timeout=10).stdout
    return [int(p) for p in out.split()]


def kill_host(name: str) -> int:
    """SIGKILL every process in the host's namespace (the host "loses power")."""
    pids = ns_pids(name)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


def cleanup() -> None:
    for name in HOSTS:
        kill_host(name)
    for proc in STATE["procs"]:  # type: ignore[attr-defined]
        if proc.poll() is None:
            proc.kill()
    for proc in STATE["procs"]:  # type: ignore[attr-defined]
        try:
            proc.wait(10)
        except Exception:
            pass
    if STATE["pg_data"]:
        run("runuser", "-u", "postgres", "--", f"{pg_bin()}/pg_ctl", "-D", str(STATE["pg_data"]), "stop", "-m", "immediate",
            check=False, timeout=30)
    for name in HOSTS:
        run("ip", "netns", "del", NS_PREFIX + name, check=False, timeout=10)
    run("ip", "link", "del", BRIDGE, check=False, timeout=10)
    if STATE["work"] and not os.environ.get("CLUSTER_KEEP"):
        shutil.rmtree(str(STATE["work"]), ignore_errors=True)


def _on_signal(signum, frame):  # type: ignore[no-untyped-def]
    raise SystemExit(128 + signum)


# -- machines ---------------------------------------------------------------------------------


def pg_bin() -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not versions:
        raise SystemExit("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return str(versions[-1].parent)


def ensure_packages() -> None:
    missing = [pkg for pkg, binary in (("haproxy", "haproxy"), ("redis-server", "redis-server")) if not shutil.which(binary)]
    if missing:
        log(f"installing {' '.join(missing)} from Debian")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if run("apt-get", "install", "-y", "-q", *missing, check=False, timeout=240, env=env).returncode:
            run("apt-get", "update", "-q", timeout=240, env=env)
            run("apt-get", "install", "-y", "-q", *missing, timeout=240, env=env)


def make_network() -> None:
    cleanup_leftovers = [NS_PREFIX + n for n in HOSTS]
    for ns in cleanup_leftovers:
        run("ip", "netns", "del", ns, check=False, timeout=10)
    run("ip", "link", "del", BRIDGE, check=False, timeout=10)
    run("ip", "link", "add", BRIDGE, "type", "bridge")
    run("ip", "addr", "add", f"{INFRA}/24", "dev", BRIDGE)
    run("ip", "link", "set", BRIDGE, "up")
    for name, address in HOSTS.items():
        ns, veth = NS_PREFIX + name, f"pclv-{name}"
        run("ip", "netns", "add", ns)
        run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        run("ip", "link", "set", veth, "master", BRIDGE, "up")
        run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")


def start(name: str | None, cmd: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen:
    prefix = ["ip", "netns", "exec", NS_PREFIX + name] if name else []
    handle = open(logfile, "ab")  # noqa: SIM115
    proc = subprocess.Popen(prefix + cmd, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)
    STATE["procs"].append(proc)  # type: ignore[attr-defined]
    return proc


def start_infra(work: Path) -> None:
    data = work / "pg"
    data.mkdir()
    shutil.chown(work, "postgres")
    shutil.chown(data, "postgres")
    os.chmod(work, 0o755)
    run("runuser", "-u", "postgres", "--", f"{pg_bin()}/initdb", "-D", str(data), "-U", "postgres",
        "--auth=trust", "-E", "UTF8", "--no-sync", timeout=120)
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(f"listen_addresses = '{INFRA}'\nport = {PG_PORT}\nunix_socket_directories = '{data}'\n"
                   "max_connections = 60\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                   "shared_buffers = 128MB\n")
    with open(data / "pg_hba.conf", "a") as hba:
        hba.write("host all all 10.231.0.0/24 trust\n")
    STATE["pg_data"] = data
    run("runuser", "-u", "postgres", "--", f"{pg_bin()}/pg_ctl", "-D", str(data), "-l", str(work / "postgres.log"),
        "-w", "-t", "60", "start", timeout=90)
    start(None, ["redis-server", "--bind", INFRA, "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no",
                 "--protected-mode", "no"], dict(os.environ), work / "redis.log")
    run("runuser", "-u", "postgres", "--", f"{pg_bin()}/createdb", "-h", INFRA, "-p", str(PG_PORT), "-U", "postgres",
        "portal", timeout=60)


HAPROXY_CFG = """
global
    maxconn 512
    stats socket {sock} mode 600 level admin
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    retries 2
    option redispatch 1
    retry-on conn-failure empty-response response-timeout 502 503
    option http-buffer-request
frontend portal
    bind {proxy}:80
    default_backend web
backend web
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz hdr Host {proxy}
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
    server web1 {web1}:{port} check
    server web2 {web2}:{port} check
"""


# -- the payment load -------------------------------------------------------------------------


class Payments:
    """Client threads paying one settlement per voucher through the proxy."""

    def __init__(self, api_key: str, codes: list[str], clients: int, rate: float) -> None:
        self.pause = clients / rate
        self.api_key = api_key
        self.codes: queue.Queue[str] = queue.Queue()
        for code in codes:
            self.codes.put(code)
        self.clients = clients
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.attempts: list[tuple[float, int]] = []  # (time, status; 0 = no answer)
        self.created: dict[str, int] = {}  # reference -> settlement id (201)
        self.gave_up: list[str] = []  # references never answered 201
        self.refused: dict[int, int] = {}  # 4xx statuses (e.g. a voucher's owner short of money)
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(40)

    def _post(self, body: bytes, key: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            f"{PROXY}/api/v1/settlements", data=body, method="POST",
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json", "Idempotency-Key": key},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except Exception:
            return 0, b""

    def _client(self) -> None:
        while not self.stop.is_set() and left() > 60:
            try:
                code = self.codes.get_nowait()
            except queue.Empty:
                return
            reference = f"cluster-{uuid.uuid4().hex[:12]}"
            body = json.dumps({"voucher": code, "category": "outpatient", "amount_fen": 1500, "reference": reference}).encode()
            key = uuid.uuid4().hex
            status = 0
            for attempt in range(4):  # the same key every time: a retry can never pay twice
                status, answer = self._post(body, key)
                with self.lock:
                    if attempt == 0:
                        self.attempts.append((time.monotonic(), status))
                if status == 201:
                    with self.lock:
                        self.created[reference] = json.loads(answer)["id"]
                    break
                if 400 <= status < 500 and status != 409:
                    with self.lock:
                        self.refused[status] = self.refused.get(status, 0) + 1
                    break
                time.sleep(0.3 * (attempt + 1))
            if status != 201 and not (400 <= status < 500 and status != 409):
                with self.lock:
                    self.gave_up.append(f"{reference}: last answer {status or 'none'}")
            time.sleep(self.pause)

    def error_rate(self, since: float, until: float) -> tuple[int, int]:
        with self.lock:
            window = [s for t, s in self.attempts if since <= t < until]
        return len(window), sum(1 for s in window if s == 0 or s >= 500)


# -- the run ----------------------------------------------------------------------------------


def sql(query: str, *args: object) -> list[tuple]:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@{INFRA}:{PG_PORT}/portal", connect_timeout=5) as conn:
        return conn.execute(query, args).fetchall()


def main() -> int:  # noqa: C901, PLR0915
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--holders", type=int, default=2000)
    parser.add_argument("--chunk-size", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=20, help="payments per second at most (all clients together)")
    parser.add_argument("--payments", type=int, default=1000, help="e-vouchers issued, i.e. at most this many payments")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (network namespaces): sudo .venv/bin/python bench/cluster.py")
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    ensure_packages()
    work = Path(tempfile.mkdtemp(prefix="portal-cluster."))
    STATE["work"] = work
    (work / "var").mkdir()
    (work / "logs").mkdir()
    make_network()
    log(f"network: bridge {BRIDGE} {INFRA}/24, namespaces " + ", ".join(f"{n} {a}" for n, a in HOSTS.items()))
    start_infra(work)
    log(f"infra: throwaway PostgreSQL {INFRA}:{PG_PORT} and Redis {INFRA}:{REDIS_PORT}")

    key = subprocess.run([PY, "-c", "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"],
                         capture_output=True, text=True, check=True).stdout.strip()
    env = {
        "PATH": f"{VENV}:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(work), "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "portal.settings", "DJANGO_DEBUG": "0", "DJANGO_HTTPS": "0",
        "DJANGO_ALLOWED_HOSTS": ",".join([HOSTS["proxy"], HOSTS["web1"], HOSTS["web2"], "127.0.0.1", "localhost"]),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60), "PORTAL_FIELD_ENCRYPTION_KEY": key,
        "PORTAL_LOOKUP_HASH_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": f"postgres://postgres@{INFRA}:{PG_PORT}/portal", "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": f"redis://{INFRA}:{REDIS_PORT}/0",
        "DJANGO_STATIC_ROOT": str(work / "static"), "PORTAL_VAR_DIR": str(work / "var"), "PORTAL_BASE_URL": PROXY,
        "PORTAL_CELERY_VISIBILITY_TIMEOUT": "60", "PORTAL_CELERY_TIME_LIMIT": "45", "PORTAL_CELERY_SOFT_TIME_LIMIT": "30",
        "PORTAL_REQUEST_LOG": "0", "PORTAL_LOG_LEVEL": "WARNING",
        # Text messages and e-mails (statement notices) are kept in memory, not sent or logged.
        "PORTAL_SMS_SENDER": "accounts.channels.MemorySender", "PORTAL_EMAIL_SENDER": "accounts.channels.MemorySender",
    }
    manage = [PY, "manage.py"]
    static = subprocess.Popen([*manage, "collectstatic", "--noinput", "-v", "0"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    STATE["procs"].append(static)  # type: ignore[attr-defined]
    run(*manage, "migrate", "--noinput", "-v", "0", env=env, cwd=ROOT, timeout=240)
    demo = run(*manage, "load_demo", env=env, cwd=ROOT).stdout
    api_key = next(line.split()[-1] for line in demo.splitlines() if "H460100001, hospital" in line)
    spouse = next((line.split()[1] for line in demo.splitlines() if line.strip().startswith("王丽 ")), None)
    if static.wait(120):
        raise SystemExit("collectstatic failed")
    log("migrated, collectstatic, load_demo done")

    logs = work / "logs"
    (work / "haproxy.cfg").write_text(HAPROXY_CFG.format(sock=work / "haproxy.sock", proxy=HOSTS["proxy"], web1=HOSTS["web1"], web2=HOSTS["web2"], port=WEB_PORT))
    start("proxy", ["haproxy", "-f", str(work / "haproxy.cfg"), "-db"], env, logs / "proxy.log")
    for web in ("web1", "web2"):
        start(web, [str(VENV / "gunicorn"), "portal.wsgi", "-b", f"{HOSTS[web]}:{WEB_PORT}", "-w", "2", "--timeout", "30"],
              env, logs / f"{web}.log")
    worker_env = {**env, "PORTAL_TEST_STATEMENT_CHUNK_PAUSE": "1"}
    for worker in ("worker1", "worker2"):
        start(worker, [str(VENV / "celery"), "-A", "portal", "worker", "-Q", "celery,statements", "--concurrency=1",
                       "--without-gossip", "--without-mingle", "-n", f"{worker}@%h", "--loglevel=INFO"],
              worker_env, logs / f"{worker}.log")
    start("beat", [str(VENV / "celery"), "-A", "portal", "beat", "--loglevel=INFO", "-s", str(work / "var" / "beat-schedule")],
          env, logs / "beat.log")
    log("hosts starting: proxy, web1, web2, worker1, worker2, beat")

    seeded = run(PY, "bench/cluster_seed.py", str(args.holders), str(args.payments), str(work / "vouchers.txt"),
                 env=env, cwd=ROOT, timeout=240)
    month = seeded.stdout.strip().splitlines()[-1]
    codes = (work / "vouchers.txt").read_text().split()
    if spouse:  # one voucher the way staff issue one
        codes.insert(0, run(*manage, "issue_voucher", spouse, env=env, cwd=ROOT).stdout.strip().splitlines()[-1])
    log(f"seeded {args.holders:,} holders with ledger entries in {month} ({seeded.stderr.strip().splitlines()[-1]}); "
        f"{len(codes):,} e-vouchers")

    for _ in range(90):
        try:
            with urllib.request.urlopen(f"{PROXY}/readyz", timeout=3) as response:
                if response.status == 200:
                    break
        except Exception:
            pass
        time.sleep(1)
    else:
        raise SystemExit("the portal did not become ready behind the proxy")
    pong = run(str(VENV / "celery"), "-A", "portal", "inspect", "ping", "-t", "5", env=env, cwd=ROOT, check=False, timeout=60)
    log(f"up: proxy /readyz 200; workers answering: {pong.stdout.count('pong')}")

    payments = Payments(api_key, codes, args.clients, args.rate)
    payments.start()
    time.sleep(3)
    started = run("ip", "netns", "exec", NS_PREFIX + "beat", *manage, "generate_statements", "--month", month,
                  "--chunk-size", str(args.chunk_size), env=env, cwd=ROOT, timeout=90).stdout.strip()
    log(f"beat host: {started}")
    run_id, total_accounts, total_chunks = sql("SELECT id, total_accounts, total_chunks FROM payments_statementrun ORDER BY id DESC LIMIT 1")[0]

    def chunk_counts() -> dict[str, int]:
        return dict(sql("SELECT status, count(*) FROM payments_statementchunk WHERE run_id = %s GROUP BY status", run_id))

    # Kill worker1 mid-run: once a few chunks are done and it is holding one.
    worker_killed = None
    for _ in range(240):
        counts = chunk_counts()
        busy = sql("SELECT count(*) FROM pg_stat_activity WHERE client_addr = %s AND state = 'idle in transaction'"
                   " AND now() - state_change > interval '0.3 seconds'",
                   HOSTS["worker1"])[0][0]  # worker1 inside a chunk's work: statements written, not committed
        if counts.get("done", 0) >= 3 and counts.get("running", 0) and busy:
            worker_killed = time.monotonic()
            log(f"chunks {counts}: SIGKILL every process of worker1 ({kill_host('worker1')} processes)")
            break
        time.sleep(0.25)
    else:
        log(f"chunks {chunk_counts()}: worker1 was never seen inside a chunk; not killed")
    time.sleep(4)
    web_killed = time.monotonic()
    log(f"under payment load ({len(payments.attempts)} payments so far): SIGKILL every process of web1 "
        f"({kill_host('web1')} processes)")

    # Statements: wait for the broker's redelivery (visibility timeout 60 s); the sweep once if needed.
    import redis

    broker = redis.Redis(host=INFRA, port=REDIS_PORT)
    swept = None
    last_report = time.monotonic()
    while left() > 45:
        counts = chunk_counts()
        if time.monotonic() - last_report > 10:
            last_report = time.monotonic()
            index = broker.zrange("unacked_index", 0, -1, withscores=True)
            log(f"  chunks {counts}; broker: {broker.llen('statements')} queued, {len(index)} unacknowledged "
                f"(oldest {time.time() - min([sc for _, sc in index] or [time.time()]):.0f} s)")
        if counts.get("done", 0) == total_chunks:
            break
        stuck = not counts.get("running") and not broker.llen("statements") and not broker.zcard("unacked_index")
        if swept is None and worker_killed and stuck:
            swept = time.monotonic()
            log(f"chunks {counts}, nothing queued or unacknowledged: running the beat's sweep task once "
                "(requeue_lost_statement_chunks_task)")
            run(str(VENV / "celery"), "-A", "portal", "call", "statements.tasks.requeue_lost_statement_chunks_task",
                env=env, cwd=ROOT, check=False, timeout=30)
        time.sleep(1)
    statements_done = time.monotonic()
    payments.finish()
    load_end = max([t for t, _ in payments.attempts] or [time.monotonic()]) + 0.001
    log(f"statement run ended waiting after {statements_done - (worker_killed or statements_done):.0f} s from the worker kill; "
        f"payments stopped")

    # -- figures ------------------------------------------------------------------------------
    failures: list[str] = []
    counts = chunk_counts()
    n_statements, n_distinct = sql(
        "SELECT count(*), count(DISTINCT account_id) FROM payments_monthlystatement WHERE month = %s", month + "-01")[0]
    attempts = sql("SELECT coalesce(sum(attempts), 0), coalesce(max(attempts), 0) FROM payments_statementchunk WHERE run_id = %s", run_id)[0]
    again = sql("SELECT number, attempts FROM payments_statementchunk WHERE run_id = %s AND attempts > 1 ORDER BY number", run_id)
    print("\n== statements")
    print(f"  accounts in the run {total_accounts:,}; statements {n_statements:,} ({n_distinct:,} distinct accounts); "
          f"chunks {counts} of {total_chunks}; chunk attempts {attempts[0]} (max {attempts[1]} on one chunk)")
    print(f"  chunks done again after the crash (number, attempts): {again or 'none'}")
    how = "the sweep task (run once by this script)" if swept else "the broker's redelivery after the visibility timeout"
    print(f"  worker1 SIGKILLed inside a chunk; {len(again)} chunk(s) done again after an uncommitted attempt, via {how}")
    if not (n_statements == n_distinct == total_accounts and counts.get("done", 0) == total_chunks):
        failures.append("statements: not every account exactly once / not every chunk done")

    references = list(payments.created)
    rows = sql("SELECT reference, id, count(*) OVER (PARTITION BY reference) FROM payments_settlement WHERE reference LIKE 'cluster-%%'")
    in_db = {ref: (sid, n) for ref, sid, n in rows}
    missing = [r for r in references if r not in in_db or in_db[r][0] != payments.created[r]]
    doubled = sorted({r for r, (_, n) in in_db.items() if n > 1})
    unanswered_paid = [r for r in in_db if r not in payments.created]
    violations = run(PY, "-c", "import django; django.setup(); from payments.ledger import invariant_violations; "
                     "v = invariant_violations(); print(len(v)); print(v[:5])", env=env, cwd=ROOT).stdout.split("\n")
    print("\n== payments (settlement API through the proxy, Idempotency-Key, retried with the same key)")
    print(f"  answered 201: {len(references):,}; refused 4xx: {payments.refused or 0}; never answered 201 after retries: "
          f"{len(payments.gave_up)} {payments.gave_up[:3] or ''}")
    print(f"  201 answers missing in the database: {len(missing)}; references paid twice: {len(doubled)}; "
          f"paid without a 201 answer: {len(unanswered_paid)}; ledger invariant violations: {violations[0]} {violations[1] if violations[0] != '0' else ''}")
    if missing or doubled or unanswered_paid or violations[0] != "0":
        failures.append("payments: lost, doubled or ledger broken")

    before_n, before_err = payments.error_rate(T0, web_killed)
    first_n, first_err = payments.error_rate(web_killed, web_killed + 5)
    down_n, down_err = payments.error_rate(web_killed, load_end)
    print("\n== web1 SIGKILLed under load (proxy: health check /healthz every 1 s, fall 2; retries 2 with redispatch)")
    print(f"  before the kill: {before_err} errors in {before_n} first tries")
    print(f"  first 5 s after the kill: {first_err} errors in {first_n} first tries ({100 * first_err / max(1, first_n):.1f}%)")
    print(f"  whole time web1 was down ({load_end - web_killed:.0f} s): {down_err} errors in {down_n} first tries "
          f"({100 * down_err / max(1, down_n):.2f}%); errors = 5xx or no answer, before the client's own retry")
    try:
        import socket

        with socket.socket(socket.AF_UNIX) as stats_socket:
            stats_socket.settimeout(5)
            stats_socket.connect(str(work / "haproxy.sock"))
            stats_socket.sendall(b"show stat\n")
            raw = b""
            while chunk := stats_socket.recv(65536):
                raw += chunk
        rows = [line.split(",") for line in raw.decode().splitlines() if line.strip()]
        header = [h.lstrip("# ") for h in rows[0]]
        for row in rows[1:]:
            stat = dict(zip(header, row, strict=False))
            if stat.get("pxname") == "web" and stat.get("svname") in ("web1", "web2", "BACKEND"):
                print(f"  proxy {stat['svname']}: {stat.get('stot')} requests sent, {stat.get('econ')} connection errors, "
                      f"{stat.get('eresp')} response errors, {stat.get('wretr')} retried, {stat.get('wredis')} redispatched, "
                      f"status {stat.get('status')}")
    except Exception as exc:  # the figures above do not depend on it
        print(f"  (proxy statistics unavailable: {exc})")
    down_lines = [line for line in (logs / "proxy.log").read_text(errors="replace").splitlines() if "DOWN" in line]
    if down_lines:
        print(f"  proxy: {down_lines[0].strip().split(' servers')[0][:160]} servers")
    print(f"\nwhole script: {time.monotonic() - T0:.0f} s; {'OK' if not failures else 'FAILED: ' + '; '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
