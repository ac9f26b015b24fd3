"""Real parts for the crash tests: a private redis-server, Celery worker processes, the broker
switch of this (test) process. Everything is bounded in time and cleaned up."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class RedisServer:
    """A throw-away redis-server (no persistence) on its own port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, 10, f"redis-server on port {self.port}")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except Exception:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def test_database_url() -> str:
    """DATABASE_URL of the database this test runs against (pytest-django's test database)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """A `celery -A portal worker` process group, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path, name: str, concurrency: int = 2, queues: str = "celery,statements") -> None:
        self.env, self.log, self.name, self.concurrency, self.queues = env, log, name, concurrency, queues
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout: float = 30) -> None:
        handle = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        marker = self.log.stat().st_size
        self.process = subprocess.Popen(
            [CELERY, "-A", "portal", "worker", "-Q", self.queues, "-c", str(self.concurrency), "-n", f"{self.name}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
            cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        )
        handle.close()

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.log.read_text()[-3000:]}")
            with open(self.log, "rb") as f:
                f.seek(marker)
                return b" ready." in f.read()

        wait_for(ready, ready_timeout, f"worker {self.name} to be ready")

    def kill9(self) -> None:
        """SIGKILL the whole process group: the parent and its pool children, mid-task."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill9()
        self.process = None


def worker_env(redis_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.test_settings",
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_url,
        "PORTAL_CELERY_EAGER": "0",
        # Short limits so that a dead worker's task comes back within seconds (still ordered:
        # soft < hard < visibility).
        "PORTAL_CELERY_SOFT_TIME_LIMIT": "5",
        "PORTAL_CELERY_TIME_LIMIT": "6",
        "PORTAL_CELERY_VISIBILITY_TIMEOUT": "8",
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


@contextlib.contextmanager
def broker(url: str) -> Iterator[Any]:
    """Make this process publish to the real broker at ``url`` (tests run Celery eagerly)."""
    from portal.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager, dict(app.conf.broker_transport_options or {}))

    def reset_pools() -> None:
        # Close every pooled broker connection and forget the pools (kombu keeps a global
        # registry of them: closing without forgetting leaves "Acquire on closed pool").
        from kombu import pools

        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    reset_pools()
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    app.conf.broker_transport_options = {**saved[2], "socket_connect_timeout": 1, "socket_timeout": 5}
    try:
        yield app
    finally:
        reset_pools()
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = saved
