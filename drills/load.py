"""The steady load of a drill: POS terminals placing and paying orders, and an owner asking for consulting.

Each terminal works its own tables: POST /orders/ then POST /sales/ with the order's total, each
with an Idempotency-Key. Like a careful POS it retries a write with the same key and body when the
answer is not final (no answer, a 5xx, or 409 "still in progress"), with backoff, for at most
RETRY_FOR_SECONDS. Every write the system accepted (a 2xx) is recorded here, so a drill can check
the database and the revenue against what the clients were told. Loops are bounded in count and time.
"""
from __future__ import annotations

import dataclasses
import datetime
import random
import threading
import time
import uuid
import zoneinfo
from http import HTTPStatus

import requests

RETRY_FOR_SECONDS = 100.0
NOT_FINAL_ERRORS = {"idempotency_in_progress", "payment_in_progress"}
MAX_CYCLES_PER_TERMINAL = 5000
PACE_SECONDS = 0.15  # a terminal's pause between two writes


@dataclasses.dataclass
class Counters:
    requests: int = 0
    errors: int = 0       # answers a client saw that were not success (each try counts)
    retried: int = 0      # writes that needed more than one try
    rejected: int = 0     # writes that ended in a final 4xx
    unclear: int = 0      # writes that gave up without a final answer


class Records:
    """What the clients were told, and per-drill counters, shared by every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.phase = "start"
        self.counters: dict[str, Counters] = {}
        self.orders: dict[int, dict] = {}     # order_id -> {table, total, key, body}
        self.payments: dict[str, dict] = {}   # idempotency key -> {sale_id, order_id, total, body, status, reply}
        self.consulting: dict[str, str] = {}  # req_id -> phase
        self.notes: list[str] = []
        self.last_success = 0.0
        self.slowest_write: dict[str, float] = {}
        # (phase, the client's kind) -> every answer's (milliseconds, status, error code), for latency figures.
        self.answers: dict[tuple[str, str], list[tuple[float, int, str | None]]] = {}

    def count(self, **changes) -> None:
        with self.lock:
            counters = self.counters.setdefault(self.phase, Counters())
            for name, n in changes.items():
                setattr(counters, name, getattr(counters, name) + n)

    def slowest(self, seconds: float) -> None:
        """The longest time an accepted write took, first try to final answer, per drill."""
        with self.lock:
            self.slowest_write[self.phase] = max(self.slowest_write.get(self.phase, 0.0), seconds)

    def answered(self, kind: str, milliseconds: float, status: int, error: str | None) -> None:
        with self.lock:
            self.answers.setdefault((self.phase, kind), []).append((milliseconds, status, error))

    def note(self, text: str) -> None:
        with self.lock:
            self.notes.append(f"[{self.phase}] {text}")


class Client:
    def __init__(self, base: str, token: str, records: Records, *, kind: str = "pos"):
        self.base = base
        self.records = records
        self.kind = kind  # whose calls these are in the latency figures: "pos" (terminals) or "report" (owners)
        self.session = requests.Session()
        self.headers = {"Authorization": f"Bearer {token}", "X-CSRF-Token": "csrf"}

    def once(self, method: str, path: str, body=None, key: str | None = None, timeout: float = 15.0):
        """One try: (status, json body or None, headers); status 0 when there was no answer."""
        headers = dict(self.headers)
        if key:
            headers["Idempotency-Key"] = key
        self.records.count(requests=1)
        started = time.monotonic()
        try:
            response = self.session.request(method, self.base + path, json=body, headers=headers, timeout=timeout)
        except requests.RequestException:
            self.records.count(errors=1)
            self.records.answered(self.kind, (time.monotonic() - started) * 1000, 0, "no_answer")
            return 0, None, {}
        milliseconds = (time.monotonic() - started) * 1000
        try:
            data = response.json()
        except ValueError:
            data = None
        self.records.answered(self.kind, milliseconds, response.status_code,
                              data.get("error") if isinstance(data, dict) else None)
        if response.status_code >= HTTPStatus.MULTIPLE_CHOICES:
            self.records.count(errors=1)
        return response.status_code, data, response.headers

    def write(self, method: str, path: str, body: dict, key: str, stop: threading.Event | None = None):
        """A write retried with the same key until its answer is final; returns (status, body, tries)."""
        began = time.monotonic()
        deadline = began + RETRY_FOR_SECONDS
        pause, tries = 0.2, 0
        while True:
            tries += 1
            status, data, headers = self.once(method, path, body, key)
            final = (HTTPStatus.OK <= status < HTTPStatus.INTERNAL_SERVER_ERROR
                     and not (status == HTTPStatus.CONFLICT and (data or {}).get("error") in NOT_FINAL_ERRORS))
            if final or time.monotonic() > deadline:
                if tries > 1:
                    self.records.count(retried=1)
                if not final:
                    self.records.count(unclear=1)
                elif status >= HTTPStatus.MULTIPLE_CHOICES:
                    self.records.count(rejected=1)
                else:
                    self.records.slowest(time.monotonic() - began)
                return status, data, tries
            time.sleep(pause)
            pause = min(pause * 1.5, 2.0)

    def get(self, path: str):
        return self.once("GET", path)


class Terminal(threading.Thread):
    def __init__(self, number: int, client: Client, items: list[int], records: Records, *, stop: threading.Event,
                 paused: threading.Event, tables_per_terminal: int = 4):
        super().__init__(name=f"terminal-{number}", daemon=True)
        self.client = client
        self.items = items
        self.records = records
        self.stop = stop
        self.paused = paused
        self.tables = [10 + number * tables_per_terminal + k for k in range(tables_per_terminal)]
        self.busy = False
        self.rng = random.Random(number)

    def run(self) -> None:
        for _ in range(MAX_CYCLES_PER_TERMINAL):
            if self.stop.is_set():
                return
            if self.paused.is_set():
                self.stop.wait(0.1)
                continue
            self.busy = True
            try:
                self.cycle(self.rng.choice(self.tables))
            except Exception as exc:  # a drill goes on; the reconciliation tells what it cost
                self.records.note(f"{self.name}: {type(exc).__name__}: {exc}")
            finally:
                self.busy = False
            self.stop.wait(PACE_SECONDS)

    def cycle(self, table: int) -> None:
        cart = [{"item_id": item, "quantity": self.rng.randint(1, 3)} for item in self.rng.sample(self.items, 2)]
        body = {"table_no": table, "carts": cart}
        key = "o-" + uuid.uuid4().hex
        status, placed, _ = self.client.write("POST", "/orders/", body, key)
        if status == HTTPStatus.CONFLICT and (placed or {}).get("error") == "table_has_open_order":
            # Left open by an earlier cycle whose payment was refused: cancel it and go on.
            self.client.once("DELETE", f"/orders/{table}")
            return
        if status != HTTPStatus.OK or (placed or {}).get("result") != "success":
            return
        with self.records.lock:
            self.records.orders[placed["order_id"]] = {"table": table, "total": placed["total_price"], "key": key,
                                                       "body": body, "phase": self.records.phase}
        pay_body = {"table_no": table, "payment_type": self.rng.choice(["카드", "현금"]),
                    "total_price": placed["total_price"]}
        pay_key = "p-" + uuid.uuid4().hex
        status, paid, tries = self.client.write("POST", "/sales/", pay_body, pay_key)
        accepted = status == HTTPStatus.CREATED
        with self.records.lock:
            self.records.payments[pay_key] = {"order_id": placed["order_id"], "total": placed["total_price"],
                                              "body": pay_body, "status": status, "reply": paid, "tries": tries,
                                              "sale_id": (paid or {}).get("id") if accepted else None,
                                              "phase": self.records.phase}
            if accepted:
                self.records.last_success = time.monotonic()
        if not accepted:
            self.records.note(f"payment of order {placed['order_id']} (table {table}) ended {status} "
                              f"{(paid or {}).get('error')} after {tries} tries")


class ConsultingOwner(threading.Thread):
    """Asks for consulting every few seconds and remembers every req_id it was given."""

    def __init__(self, client: Client, records: Records, stop: threading.Event, paused: threading.Event,
                 every_seconds: float = 3.0):
        super().__init__(name="owner", daemon=True)
        self.client = client
        self.records = records
        self.stop = stop
        self.paused = paused
        self.every_seconds = every_seconds

    def ask(self) -> str | None:
        today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()
        status, body, _ = self.client.get(f"/consulting/test?start={today - datetime.timedelta(days=6)}&end={today}")
        if status == HTTPStatus.OK and body and body.get("req_id"):
            with self.records.lock:
                self.records.consulting[body["req_id"]] = self.records.phase
            return body["req_id"]
        return None

    def run(self) -> None:
        for _ in range(2000):
            if self.stop.wait(self.every_seconds):
                return
            if not self.paused.is_set():
                self.ask()
