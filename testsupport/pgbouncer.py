"""A PgBouncer in transaction pooling between the services and a PostgreSQL, as in docker-compose and
Kubernetes: the Debian `pgbouncer` binary, its configuration in a temporary folder, a free loopback port.

    with PgBouncer(database_url, pool_size=3) as bouncer:
        ... the services use bouncer.url; bouncer.pools() reads its SHOW POOLS ...

Migrations still go straight to PostgreSQL (they hold a session-level advisory lock), as the
migration Job does in the cluster.
"""
from __future__ import annotations

import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import psycopg2
import psycopg2.extras
from sqlalchemy.engine import make_url

DEBIAN_BINARY = "/usr/sbin/pgbouncer"  # /usr/sbin is not on every PATH


def pgbouncer_binary() -> str | None:
    """The pgbouncer binary (the Debian package `pgbouncer`), or None when it is not installed."""
    found = shutil.which("pgbouncer")
    if found:
        return found
    return DEBIAN_BINARY if os.access(DEBIAN_BINARY, os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _socket_owner(host: str) -> str:
    """The owner of a Unix-socket folder (the embedded server's user), or nobody for a TCP server."""
    if host.startswith("/"):
        return pwd.getpwuid(os.stat(host).st_uid).pw_name
    return "nobody"


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class PgBouncer:
    """PgBouncer in front of the PostgreSQL of `database_url`: every database of that server under its own
    name, `pool_size` server connections per database and user at most, transaction pooling."""

    def __init__(self, database_url: str, *, pool_size: int = 5, max_client_conn: int = 500):
        binary = pgbouncer_binary()
        if binary is None:
            raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer)")
        server = make_url(database_url)
        self.user = server.username or "postgres"
        self.password = server.password or ""
        self.pool_size = pool_size
        self.port = _free_port()
        # A Unix-socket server (the embedded PostgreSQL) names its folder in ?host=.
        host = server.query.get("host") or server.host or "127.0.0.1"
        target = f"host={host} port={server.port or 5432}" + (f" password={self.password}" if self.password else "")
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="salesync-pgbouncer-"))
        (self.folder / "userlist.txt").write_text(f"{_quoted(self.user)} {_quoted(self.password)}\n")
        (self.folder / "pgbouncer.ini").write_text("\n".join([
            "[databases]",
            f"* = {target}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            # The test server trusts local connections; a server with a password gets md5 from the clients.
            f"auth_type = {'md5' if self.password else 'trust'}",
            f"auth_file = {self.folder / 'userlist.txt'}",
            f"admin_users = {self.user}",
            "pool_mode = transaction",
            f"default_pool_size = {pool_size}",
            f"max_client_conn = {max_client_conn}",
            # After a failed login to PostgreSQL (it restarts), try again in 1 s, not PgBouncer's default 15 s.
            "server_login_retry = 1",
            f"logfile = {self.folder / 'pgbouncer.log'}",
            f"pidfile = {self.folder / 'pgbouncer.pid'}",
            "log_connections = 0",
            "log_disconnections = 0",
            "",
        ]))
        command = [binary, str(self.folder / "pgbouncer.ini")]
        if os.geteuid() == 0:  # PgBouncer will not run as root: run as the user who may open the server's socket
            self.folder.chmod(0o777)
            for path in self.folder.iterdir():
                path.chmod(0o666)
            command[1:1] = ["-u", _socket_owner(host)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.url = server.set(host="127.0.0.1", port=self.port, query={}).render_as_string(hide_password=False)
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 15
        while True:
            try:
                self.admin("SHOW VERSION")
                return
            except psycopg2.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"pgbouncer did not start: {self.log()[-2000:]}") from None
                time.sleep(0.1)

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else (self.process.stderr.read() or "")

    def admin_console(self):
        """A connection to PgBouncer's admin console (SHOW POOLS, SHOW SERVERS, ...)."""
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                                      dbname="pgbouncer", connect_timeout=5)
        connection.autocommit = True
        return connection

    def admin(self, command: str, console=None) -> list[dict]:
        """A command on the admin console (a new connection unless given one); its rows as dicts."""
        connection = console or self.admin_console()
        try:
            with connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
                cursor.execute(command)
                return [dict(row) for row in cursor.fetchall()] if cursor.description else []
        finally:
            if console is None:
                connection.close()

    def pools(self, database: str, console=None) -> dict[str, int]:
        """Clients and server connections of `database`'s pool now: cl_active, cl_waiting, servers."""
        rows = [row for row in self.admin("SHOW POOLS", console) if row["database"] == database]
        return {"cl_active": sum(row["cl_active"] for row in rows),
                "cl_waiting": sum(row["cl_waiting"] for row in rows),
                "servers": sum(row[column] for row in rows
                               for column in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"))}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # PgBouncer's immediate shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
