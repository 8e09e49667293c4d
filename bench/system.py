"""A whole Salesync on this machine for a bench or a drill, started the way `make run` starts it.

Differences from `make run`, all on purpose: PostgreSQL is a throwaway embedded server under a
temporary folder (deleted at the end), every port is a free loopback port (a `make run` beside it
is not disturbed), the logs go to the temporary folder, and every process (services, workers,
broker, database) can be killed, stopped and started again on its own by a drill.

Each web service runs as `make run` runs it (local_run.start_service): gunicorn, gthread,
SALESYNC_WORKERS x SALESYNC_THREADS (default 2 x 4), --graceful-timeout 10, --no-control-socket.
Nothing here talks to anything but 127.0.0.1: the OpenAI and AWS settings are removed from the
environment of every process, so advice is rule-based and no SMS client looks for credentials.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from http import HTTPStatus

import psutil
import psycopg2
import requests

from salesync_common import roster
from testsupport.kafka_broker import LocalBroker, free_port
from testsupport.postgres import ensure_database, libpq_url, start_embedded, start_embedded_again, stop_embedded

REPO = pathlib.Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 60
# Never let a bench or a drill reach out: no OpenAI, no AWS (boto3 would probe the instance metadata address).
SCRUBBED_PREFIXES = ("OPENAI_", "AWS_")


def say(message: str) -> None:
    print(f"[system] {message}", flush=True)


class System:
    """Start with start(), stop with stop() (also on any error or Ctrl-C: use it as a context manager)."""

    def __init__(self, *, workers: int | None = None, threads: int | None = None, broker=None,
                 extra_env: dict[str, str] | None = None, keep: bool = False):
        self.workers = int(workers or os.environ.get("SALESYNC_WORKERS") or 2)
        self.threads = int(threads or os.environ.get("SALESYNC_THREADS") or 4)
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="salesync-bench-"))
        self.logs = self.folder / "logs"
        self.logs.mkdir()
        self.keep = keep
        self.extra_env = extra_env or {}
        self.broker = broker  # an object with start(), stop(), bootstrap_servers; None: a memory LocalBroker
        self.pg = None
        self.pg_server_url = ""
        self.database_url = ""
        self.ports = {name: free_port() for name in roster.BY_NAME}
        self.processes: dict[str, subprocess.Popen] = {}
        self.env: dict[str, str] = {}

    # ---- the whole system -------------------------------------------------------------------------
    def __enter__(self) -> System:
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}

    def start(self) -> System:
        say(f"working folder {self.folder}")
        say("PostgreSQL: a throwaway embedded server")
        self.pg, self.pg_server_url = start_embedded(self.folder / "pgdata", delete_on_exit=True)
        self.database_url = ensure_database(self.pg_server_url, "salesync")
        if self.broker is None:
            self.broker = LocalBroker(log_path=str(self.logs / "kafka.log"))
        if getattr(self.broker, "process", None) is None or self.broker.process.poll() is not None:
            self.broker.start()
        say(f"Kafka: {type(self.broker).__name__} on {self.broker.bootstrap_servers}")
        env = {key: value for key, value in os.environ.items() if not key.startswith(SCRUBBED_PREFIXES)}
        env.update(
            DATABASE_URL=self.database_url,
            SALESYNC_JWT_SECRET=secrets.token_urlsafe(48),
            SALESYNC_SERVICE_SECRET=secrets.token_urlsafe(48),
            KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap_servers,
            PYTHONPATH=str(REPO),
            PYTHONUNBUFFERED="1",
            SALESYNC_LOG_LEVEL="INFO",
            AWS_EC2_METADATA_DISABLED="true",
            NO_PROXY="127.0.0.1,localhost",
            # Each bench and drill run signs a throwaway store up from 127.0.0.1; on a database kept between
            # runs the sign-up limit (10 per address an hour) would refuse the eleventh run.
            SALESYNC_SIGNUP_MAX_PER_ADDRESS="1000000",
        )
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        for name, url in self.urls.items():
            env[f"{name.upper()}_SERVICE_URL"] = url
        env.update(self.extra_env)
        self.env = env
        say("applying migrations")
        with open(self.logs / "migrate.log", "ab") as output:
            migrated = subprocess.run([sys.executable, "-m", "salesync_common.migrate"], cwd=REPO, env=env,
                                      stdout=output, stderr=subprocess.STDOUT, timeout=120, check=False)
        if migrated.returncode != 0:
            raise RuntimeError(f"migrations failed (see {self.logs / 'migrate.log'})")
        for name in roster.BY_NAME:
            self.start_service(name, wait=False)
        for name in roster.BY_NAME:
            self.wait_ready(name)
        for name in roster.WORKERS_BY_NAME:
            self.start_worker(name)
        say(f"{len(roster.SERVICES)} services ready ({self.workers} gunicorn workers x {self.threads} threads each), "
            f"BFF on {self.urls['bff']}")
        return self

    def stop(self) -> None:
        """Stop everything this object started; safe to call twice."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=5)
            _signal_group(process, signal.SIGKILL)  # any worker left behind by a master that died first
        self.processes.clear()
        if self.broker is not None:
            try:
                getattr(self.broker, "close", self.broker.stop)()
            except Exception as exc:  # keep stopping the rest
                say(f"stopping the broker failed: {exc}")
        if self.pg is not None:
            with contextlib.suppress(Exception):
                self.pg_start()  # a drill may have left it stopped; cleanup needs it known
            self.pg.cleanup()
            self.pg = None
        if not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)

    # ---- one process ------------------------------------------------------------------------------
    def gunicorn_command(self, port: int, wsgi: str) -> list[str]:
        """gunicorn as `make run` starts each service (also the bare hop of BENCH_MODE=hop)."""
        return [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(self.workers),
            "--threads", str(self.threads),
            "--worker-class", "gthread",
            "--graceful-timeout", "10",
            "--no-control-socket",
            "--config", "python:salesync_common.gunicorn_config",
            wsgi,
        ]

    def start_service(self, name: str, *, wait: bool = True, env: dict[str, str] | None = None,
                      wsgi: str | None = None) -> subprocess.Popen:
        """A service of the roster; or, given `wsgi`, another gunicorn app beside them (BENCH_MODE=hop's bare
        hop) on a free port of its own, started, measured and stopped like them."""
        if wsgi is not None and name not in self.ports:
            self.ports[name] = free_port()
        command = self.gunicorn_command(self.ports[name], wsgi or roster.BY_NAME[name].wsgi)
        with open(self.logs / f"{name}.log", "ab") as output:  # the child keeps its own copy of the file
            self.processes[name] = subprocess.Popen(command, cwd=REPO, env={**self.env, **(env or {})},
                                                    start_new_session=True, stdout=output, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready(name)
        return self.processes[name]

    def start_worker(self, name: str) -> subprocess.Popen:
        module = roster.WORKERS_BY_NAME[name].module
        with open(self.logs / f"{name}.log", "ab") as output:  # the child keeps its own copy of the file
            self.processes[name] = subprocess.Popen([sys.executable, "-m", module], cwd=REPO, env=self.env,
                                                    start_new_session=True, stdout=output, stderr=subprocess.STDOUT)
        return self.processes[name]

    def restart(self, name: str) -> None:
        if name in roster.WORKERS_BY_NAME:
            self.start_worker(name)
        else:
            self.start_service(name)

    def kill(self, name: str) -> None:
        """kill -9 the process and every process of its session (a gunicorn master and its workers)."""
        process = self.processes[name]
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=10)

    def wait_ready(self, name: str, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        process = self.processes[name]
        url = f"{self.urls[name]}/readyz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode} while starting "
                                   f"(see {self.logs / (name + '.log')})")
            try:
                if requests.get(url, timeout=1).status_code == HTTPStatus.OK:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become ready on {url} within {timeout:.0f} s")

    def pids(self, name: str) -> list[int]:
        """The master's pid and its workers' (children), for a profiler."""
        master = psutil.Process(self.processes[name].pid)
        return [master.pid] + [child.pid for child in master.children()]

    # ---- PostgreSQL -------------------------------------------------------------------------------
    def pg_stop(self, mode: str = "immediate") -> None:
        """Stop the database server: `immediate` is a crash (no checkpoint), `fast` a clean stop."""
        stop_embedded(self.pg, mode=mode)

    def pg_start(self) -> None:
        start_embedded_again(self.pg)

    def sql(self, query: str, params=None) -> list[tuple]:
        connection = psycopg2.connect(libpq_url(self.database_url))
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


class StopRequested(BaseException):
    """Raised in the main thread on SIGTERM, so `finally` blocks stop what was started."""


def stop_on_sigterm() -> None:
    """SIGTERM stops like Ctrl-C; and Ctrl-C works even where the launcher left SIGINT ignored."""
    def handler(signum, _frame):
        raise StopRequested(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
