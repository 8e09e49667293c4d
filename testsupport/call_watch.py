"""A service called through a watch: each request it receives first records what the caller's database
sessions are doing at that moment (pg_stat_activity), may be held back a while, and is then answered
by the real service. It shows whether a caller keeps a transaction open while it waits for another service."""
from __future__ import annotations

import threading

import psycopg2

from .postgres import libpq_url
from .served import ServedApp

IDLE_IN_TRANSACTION = "idle in transaction"


class CallWatch:
    def __init__(self, real_app, *, database_url: str, caller: str):
        self.real_app = real_app
        self.database_url = database_url
        self.application_name = f"salesync-{caller}"
        self.seen: list[tuple[str, str, list[str]]] = []  # (method, path, the caller's session states)
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.release.set()  # answer at once unless a test holds calls back
        self.served = ServedApp(self._answer)
        self.url = self.served.url

    def _answer(self, environ, start_response):
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], self._caller_states()))
        self.arrived.set()
        self.release.wait(timeout=15)
        return self.real_app(environ, start_response)

    def _caller_states(self) -> list[str]:
        with psycopg2.connect(libpq_url(self.database_url)) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                           "AND application_name = %s AND pid <> pg_backend_pid()", (self.application_name,))
            states = [row[0] for row in cursor.fetchall()]
        connection.close()
        return states

    def calls_in_transaction(self) -> list[tuple[str, str]]:
        """The calls during which a session of the caller sat in an open transaction."""
        return [(method, path) for method, path, states in self.seen
                if any(state.startswith(IDLE_IN_TRANSACTION) for state in states)]

    def shutdown(self) -> None:
        self.release.set()
        self.served.shutdown()
