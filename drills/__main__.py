"""`make drill`: fault drills against a running Salesync under a steady load of orders and payments.

It starts its own system (as `make bench` does: a throwaway embedded PostgreSQL, free loopback
ports; the Kafka broker is Tansu with its log in S3 on a local SeaweedFS, so the log survives a
broker restart; DRILL_BROKER=memory uses the memory broker of `make run` instead), signs a store up,
runs terminals that place and pay orders (retrying with their Idempotency-Key) and an owner who
asks for consulting, and then, one at a time:

  1   kill -9 each service and background process in turn, and start it again
  1b  the sale service dies between its pending sale and closing the order (failpoint), then restarts
  1c  one payment dies that way, the reconciler completes its sale, then the POS retries it with its key
  2   PostgreSQL stops (immediate: like a crash) and starts again
  3   the Kafka broker stops while consulting jobs are in flight, and starts again
  4   every accepted payment and order is sent again with its Idempotency-Key (no new sale)
  5   two payments for one table at once, 20 times (one sale each)
  6   the dashboard answers 10 s late while 16 terminals work (drills/slow_dashboard.py; run before 4,
      which stops the load): POS errors and p99, and every report failing fast with a JSON 503 or 504

After each: the load pauses, in-flight retries finish, and the reconciliation (drills/reconcile.py)
compares what the clients were told with the database and GET /sales/period. Prints a table, writes
bench/results/drill-<time>.json, exits 1 if anything was lost or duplicated or revenue disagrees.
When the `pgbouncer` binary is installed (Debian package pgbouncer), the services and background
processes reach PostgreSQL through it, in transaction pooling as compose and Kubernetes run them
(migrations and the reconciliation go straight to PostgreSQL); DRILL_PGBOUNCER=0 leaves it out.
Environment: DRILL_TERMINALS=4, DRILL_BROKER=disk|memory, DRILL_MAX_SECONDS=600, DRILL_ONLY=1,1b,1c,2,3,4,5,6
(a subset), DRILL_SLOW_SECONDS=30, DRILL_SLOW_TERMINALS=16, DRILL_KEEP=1 (keep the working folder with every
process's log), DRILL_PGBOUNCER_POOL=20 (PgBouncer's default_pool_size, as deployed).
"""
from __future__ import annotations

import datetime
import functools
import json
import os
import pathlib
import sys
import threading
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus

from bench.seed import create_menu, sign_up
from bench.system import StopRequested, System, stop_on_sigterm
from salesync_common import roster
from testsupport.pgbouncer import PgBouncer, pgbouncer_binary

from .disk_broker import DiskBroker, weed_binary
from .load import Client, ConsultingOwner, Records, Terminal
from .reconcile import reconcile
from .slow_dashboard import slow_dashboard, summary

RESULTS = pathlib.Path(__file__).resolve().parent.parent / "bench" / "results"
SETTLE_SECONDS = 60.0
PROBE_SECONDS = 90.0
CONSULTING_SECONDS = 60.0
RECONCILER_SECONDS = 90.0  # how long drill 1c waits for the sale service's reconciler to finish a pending sale


def say(message: str) -> None:
    print(f"[drill] {message}", flush=True)


class Drills:
    def __init__(self, system: System, base: str, token: str, store_id: int, items: list[int]):
        self.system = system
        self.base = base
        self.token = token
        self.store_id = store_id
        self.items = items
        self.records = Records()
        self.stop = threading.Event()
        self.paused = threading.Event()
        self.client = Client(base, token, self.records)
        self.terminals: list[Terminal] = []
        self.owner: ConsultingOwner | None = None
        self.rows: list[dict] = []
        self.probe_table = 1
        self.given_up: set[str] = set()  # consulting jobs an earlier reconciliation found lost
        self.failed_seen: set[str] = set()

    def new_client(self) -> Client:
        return Client(self.base, self.token, self.records)

    # ---- the load ---------------------------------------------------------------------------------
    def start_load(self, terminals: int) -> None:
        self.terminals = [Terminal(n, self.new_client(), self.items, self.records, stop=self.stop, paused=self.paused)
                          for n in range(terminals)]
        self.owner = ConsultingOwner(self.new_client(), self.records, self.stop, self.paused)
        for thread in [*self.terminals, self.owner]:
            thread.start()

    def stop_load(self) -> None:
        self.stop.set()
        for thread in [*self.terminals, *( [self.owner] if self.owner else [])]:
            thread.join(timeout=SETTLE_SECONDS)

    def supervise(self) -> list[str]:
        """Start again any process that exited on its own (as Kubernetes would), and say so."""
        exited = []
        for name, process in list(self.system.processes.items()):
            if process.poll() is not None:
                exited.append(f"{name} (exit code {process.returncode})")
                self.records.note(f"{name} exited on its own with code {process.returncode}; started again "
                                  f"(its log: logs/{name}.log in the working folder; DRILL_KEEP=1 keeps it)")
                try:
                    self.system.restart(name)
                except RuntimeError as exc:
                    self.records.note(f"{name} did not start again: {exc}")
        return exited

    def settle(self) -> float:
        """Pause the load; wait for in-flight writes, pending sales and consulting results. Returns seconds."""
        started = time.monotonic()
        self.paused.set()
        deadline = started + SETTLE_SECONDS
        while any(t.busy for t in self.terminals) and time.monotonic() < deadline:
            time.sleep(0.1)
        while time.monotonic() < deadline:
            pending = self.system.sql("SELECT count(*) FROM sale.sales WHERE store_id = %s AND status = 'pending'",
                                      (self.store_id,))[0][0]
            if not pending and self.consulting_delivered():
                break
            time.sleep(0.5)
        return time.monotonic() - started

    def consulting_delivered(self, req_ids=None) -> bool:
        with self.records.lock:
            ids = list(req_ids if req_ids is not None else self.records.consulting)
        if not ids:
            return True
        ids = [req_id for req_id in ids if req_id not in self.given_up]
        if not ids:
            return True
        found = self.system.sql(
            "SELECT count(*) FROM consulting.consulting_jobs j WHERE j.req_id::text = ANY(%s) AND (j.status = 'failed' "
            "OR EXISTS (SELECT 1 FROM dashboard.consulting_results r WHERE r.req_id = j.req_id))", (ids,))[0][0]
        return found == len(ids)

    # ---- probes: when is the system whole again? ----------------------------------------------------
    def probe_payment(self, timeout: float = PROBE_SECONDS) -> float | None:
        """Order and pay at the probe table until both succeed; seconds until then (None: not in time)."""
        client = self.new_client()
        started = time.monotonic()
        deadline = started + timeout
        table = self.probe_table
        while time.monotonic() < deadline:
            status, shown, _ = client.once("GET", f"/orders/unpaids/{table}")
            if status != HTTPStatus.OK:
                time.sleep(0.2)
                continue
            if shown["carts"]:
                order_id, total = shown["order_id"], shown["total_price"]
            else:
                body = {"table_no": table, "carts": [{"item_id": self.items[0], "quantity": 1}]}
                key = "probe-o-" + uuid.uuid4().hex
                status, placed, _ = client.once("POST", "/orders/", body, key)
                if status != HTTPStatus.OK or placed.get("result") != "success":
                    time.sleep(0.2)
                    continue
                order_id, total = placed["order_id"], placed["total_price"]
                with self.records.lock:
                    self.records.orders[order_id] = {"table": table, "total": total, "key": key, "body": body,
                                                     "phase": self.records.phase}
            pay_body = {"table_no": table, "payment_type": "카드", "total_price": total}
            pay_key = "probe-p-" + uuid.uuid4().hex
            status, paid, _ = client.once("POST", "/sales/", pay_body, pay_key)
            if status == HTTPStatus.CREATED:
                with self.records.lock:
                    self.records.orders.setdefault(order_id, {"table": table, "total": total, "key": None,
                                                              "body": None, "phase": self.records.phase})
                    self.records.payments[pay_key] = {"order_id": order_id, "total": total, "body": pay_body,
                                                      "status": 201, "reply": paid, "tries": 1,
                                                      "sale_id": paid["id"], "phase": self.records.phase}
                return time.monotonic() - started
            time.sleep(0.2)
        return None

    def probe_consulting(self, timeout: float = CONSULTING_SECONDS, req_ids=None) -> float | None:
        """Until the given consulting jobs (default: a new one) are shown as done through the BFF."""
        started = time.monotonic()
        deadline = started + timeout
        if req_ids is None:
            req_id = None
            while req_id is None and time.monotonic() < deadline:
                req_id = self.owner.ask()
                if req_id is None:
                    time.sleep(0.3)
            req_ids = [req_id] if req_id else []
        client = self.new_client()
        waiting = set(req_ids)
        while waiting and time.monotonic() < deadline:
            for req_id in list(waiting):
                status, body, _ = client.get(f"/consulting/test/{req_id}")
                if status == HTTPStatus.OK and body.get("result") == "success":
                    status, shown, _ = client.get(f"/dashboard/consulting/test/{req_id}")
                    if status == HTTPStatus.OK and shown.get("consulting"):
                        waiting.discard(req_id)
            if waiting:
                time.sleep(0.3)
        return None if waiting or not req_ids else time.monotonic() - started

    # ---- one drill ----------------------------------------------------------------------------------
    def run(self, name: str, action) -> dict:
        say(f"{name} ...")
        self.records.phase = name
        self.paused.clear()
        time.sleep(1.5)  # the load runs before the fault
        detail = action() or {}
        exited = self.supervise()
        settle_seconds = self.settle()
        exited += self.supervise()
        outcome = reconcile(system=self.system, store_id=self.store_id, records=self.records, client=self.client)
        self.given_up.update(outcome["lost_consulting"])
        for req_id, reason in outcome["consulting_failed"].items():
            if req_id not in self.failed_seen:
                self.failed_seen.add(req_id)
                self.records.note(f"consulting job {req_id} failed (the owner is shown: {reason})")
        counters = self.records.counters.get(name)
        before = self.rows[-1]["reconciliation"] if self.rows else {"lost": 0, "duplicated": 0}
        revenue = outcome["revenue"]
        row = {"drill": name, "requests": counters.requests if counters else 0,
               "errors": counters.errors if counters else 0,
               "retried_writes": counters.retried if counters else 0,
               "rejected_writes": counters.rejected if counters else 0,
               "unclear_writes": counters.unclear if counters else 0,
               # New in this drill (the reconciliation itself covers everything accepted so far).
               "lost": max(0, outcome["lost"] - before["lost"]),
               "duplicated": max(0, outcome["duplicated"] - before["duplicated"]),
               "revenue_equal": revenue["equal"],
               "consulting_failed": len(outcome["consulting_failed"]),
               "revenue_difference": (revenue["database_sales"] - revenue["clients"]) if not revenue["equal"] else 0,
               "recover_s": detail.get("recover_s"),
               "settle_s": round(settle_seconds, 1), "exited": exited,
               "slowest_accepted_write_s": round(self.records.slowest_write.get(name, 0.0), 1),
               "detail": detail, "reconciliation": outcome}
        self.rows.append(row)
        recover = "-" if row["recover_s"] is None else f"{row['recover_s']:.1f} s"
        say(f"{name}: {row['requests']} requests, {row['errors']} errors seen, new lost {row['lost']}, "
            f"new duplicated {row['duplicated']}, revenue equal {row['revenue_equal']}, recovered in {recover}"
            + (f"; EXITED ON ITS OWN: {', '.join(exited)}" if exited else ""))
        return row

    def kill_and_restart(self, name: str) -> dict:
        started = time.monotonic()
        self.system.kill(name)
        self.system.restart(name)
        restarted = time.monotonic() - started
        probe = self.probe_consulting if name in roster.WORKERS_BY_NAME else self.probe_payment
        took = probe()
        return {"restarted_after_s": round(restarted, 1),
                "recover_s": None if took is None else round(restarted + took, 1)}

    def sale_dies_mid_payment(self) -> dict:
        started = time.monotonic()
        self.system.kill("sale")
        self.system.start_service("sale", env={"SALESYNC_FAILPOINTS": "sale.after_pending_sale"})
        time.sleep(3.0)  # every payment in this window dies after its pending sale is committed
        self.system.kill("sale")
        self.system.restart("sale")
        took = self.probe_payment()
        return {"failpoint": "sale.after_pending_sale", "failpoint_window_s": 3.0,
                "recover_s": None if took is None else round(time.monotonic() - started, 1)}

    def late_retry_after_crash(self) -> dict:
        """A payment dies after its pending sale; the sale service's reconciler finishes the sale; then the
        POS retries the payment with its Idempotency-Key. It must be told of that sale (201), not refused."""
        self.paused.set()  # alone on the system: only this payment meets the failpoint
        deadline = time.monotonic() + 30
        while any(t.busy for t in self.terminals) and time.monotonic() < deadline:
            time.sleep(0.1)
        client = self.new_client()
        table = 2
        body = {"table_no": table, "carts": [{"item_id": self.items[2], "quantity": 1}]}
        key = "late-o-" + uuid.uuid4().hex
        status, placed, _ = client.once("POST", "/orders/", body, key)
        if status != HTTPStatus.OK:
            return {"error": f"could not place the order: {status}"}
        with self.records.lock:
            self.records.orders[placed["order_id"]] = {"table": table, "total": placed["total_price"], "key": key,
                                                       "body": body, "phase": self.records.phase}
        self.system.kill("sale")
        self.system.start_service("sale", env={"SALESYNC_FAILPOINTS": "sale.after_pending_sale"})
        pay_body = {"table_no": table, "payment_type": "카드", "total_price": placed["total_price"]}
        pay_key = "late-p-" + uuid.uuid4().hex
        started = time.monotonic()
        first, _, _ = client.once("POST", "/sales/", pay_body, pay_key)
        self.system.kill("sale")
        self.system.restart("sale")
        finished_after = None
        while time.monotonic() - started < RECONCILER_SECONDS:
            rows = self.system.sql("SELECT status FROM sale.sales WHERE order_id = %s", (placed["order_id"],))
            if rows and rows[0][0] != "pending":
                finished_after = time.monotonic() - started
                break
            time.sleep(0.5)
        status, paid, _ = client.once("POST", "/sales/", pay_body, pay_key)
        accepted = status == HTTPStatus.CREATED
        with self.records.lock:
            self.records.payments[pay_key] = {"order_id": placed["order_id"], "total": placed["total_price"],
                                              "body": pay_body, "status": status, "reply": paid, "tries": 2,
                                              "sale_id": (paid or {}).get("id") if accepted else None,
                                              "phase": self.records.phase}
        if not accepted:
            self.records.note(f"the retried payment of order {placed['order_id']} answered {status} "
                              f"{(paid or {}).get('error')} although the reconciler had completed its sale")
        self.paused.clear()
        return {"first_try": first, "sale_finished_by_reconciler_after_s": None if finished_after is None
                else round(finished_after, 1), "retry_answer": f"{status} {(paid or {}).get('error', '')}".strip(),
                "recover_s": round(time.monotonic() - started, 1)}

    def slow_dashboard(self) -> dict:
        detail = slow_dashboard(self)
        say(f"6 slow dashboard: {summary(detail)}")
        return detail

    def postgres_restart(self) -> dict:
        started = time.monotonic()
        self.system.pg_stop("immediate")
        time.sleep(3.0)
        self.system.pg_start()
        took = self.probe_payment()
        return {"down_s": 3.0, "recover_s": None if took is None else round(time.monotonic() - started, 1)}

    def broker_restart(self) -> dict:
        before = [self.owner.ask() for _ in range(5)]
        started = time.monotonic()
        self.system.broker.stop()
        during = [self.owner.ask() for _ in range(5)]
        time.sleep(5.0)
        self.system.broker.start()
        in_flight = [req_id for req_id in before + during if req_id]
        took = self.probe_consulting(req_ids=in_flight)
        return {"broker": type(self.system.broker).__name__, "jobs_in_flight": len(in_flight), "down_s": 5.0,
                "recover_s": None if took is None else round(time.monotonic() - started, 1)}

    def replay_everything(self) -> dict:
        client = self.new_client()
        sales_before = self.system.sql("SELECT count(*) FROM sale.sales WHERE store_id = %s", (self.store_id,))[0][0]
        with self.records.lock:
            payments = [p for key, p in self.records.payments.items() if p["status"] == HTTPStatus.CREATED and
                        not key.startswith("concurrent")]
            keys = {id(p): key for key, p in self.records.payments.items()}
            orders = [o for o in self.records.orders.values() if o["key"]]
        mismatched = 0
        for payment in payments:
            status, body, headers = client.once("POST", "/sales/", payment["body"], keys[id(payment)])
            if (status != HTTPStatus.CREATED or body.get("id") != payment["sale_id"]
                    or headers.get("Idempotent-Replayed") != "true"):
                mismatched += 1
        for order in orders:
            status, body, headers = client.once("POST", "/orders/", order["body"], order["key"])
            if status != HTTPStatus.OK or headers.get("Idempotent-Replayed") != "true":
                mismatched += 1
        sales_after = self.system.sql("SELECT count(*) FROM sale.sales WHERE store_id = %s", (self.store_id,))[0][0]
        return {"payments_replayed": len(payments), "orders_replayed": len(orders),
                "replies_not_replayed_as_first": mismatched, "new_sales": sales_after - sales_before}

    def two_payments_at_once(self, rounds: int = 20) -> dict:
        outcomes: dict[str, int] = {}
        both_told_success = 0
        for n in range(rounds):
            table = 60 + n
            first = self.new_client()
            body = {"table_no": table, "carts": [{"item_id": self.items[1], "quantity": 2}]}
            key = "concurrent-o-" + uuid.uuid4().hex
            status, placed, _ = first.once("POST", "/orders/", body, key)
            if status != HTTPStatus.OK:
                continue
            with self.records.lock:
                self.records.orders[placed["order_id"]] = {"table": table, "total": placed["total_price"],
                                                           "key": key, "body": body, "phase": self.records.phase}
            pay_body = {"table_no": table, "payment_type": "카드", "total_price": placed["total_price"]}
            answers: list = [None, None]
            # This round's barrier, body and answers go in as arguments: a thread still running after
            # its join timed out must not wait on, pay with or answer into the next round's.
            pay = functools.partial(self._pay_at_once, barrier=threading.Barrier(len(answers)), pay_body=pay_body,
                                    answers=answers)
            threads = [threading.Thread(target=pay, args=(slot,)) for slot in range(len(answers))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            successes = 0
            for answer in answers:
                if answer is None:
                    continue
                pay_key, status, paid = answer
                label = f"{status} {(paid or {}).get('error', '')}".strip()
                outcomes[label] = outcomes.get(label, 0) + 1
                with self.records.lock:
                    self.records.payments[pay_key] = {
                        "order_id": placed["order_id"], "total": placed["total_price"], "body": pay_body,
                        "status": status, "reply": paid, "tries": 1, "phase": self.records.phase,
                        "sale_id": paid.get("id") if status == HTTPStatus.CREATED else None}
                successes += status == HTTPStatus.CREATED
            both_told_success += successes == len(answers)
        return {"rounds": rounds, "answers": outcomes, "rounds_where_both_were_told_success": both_told_success}

    def _pay_at_once(self, slot: int, *, barrier: threading.Barrier, pay_body: dict, answers: list) -> None:
        """One of two terminals paying the same table: both send once the barrier lets them go."""
        client = self.new_client()
        pay_key = f"concurrent-p{slot}-" + uuid.uuid4().hex
        barrier.wait(timeout=10)
        status, paid, _ = client.once("POST", "/sales/", pay_body, pay_key)
        answers[slot] = (pay_key, status, paid)


def print_table(rows: list[dict]) -> None:
    header = (f"{'drill':<36}{'requests':>9}{'errors':>8}{'lost':>6}{'dup':>5}{'revenue':>10}{'recover':>10}"
              f"{'slowest':>9}  exited on its own")
    print(header)
    print("-" * len(header))
    for row in rows:
        recover = "-" if row["recover_s"] is None else f"{row['recover_s']:.1f} s"
        revenue = "ok" if row["revenue_equal"] else f"{row['revenue_difference']:+,}"
        print(f"{row['drill']:<36}{row['requests']:>9}{row['errors']:>8}{row['lost']:>6}{row['duplicated']:>5}"
              f"{revenue:>10}{recover:>10}"
              f"{row['slowest_accepted_write_s']:>7.1f} s  {', '.join(row['exited']) or '-'}")
    print("(errors: answers the clients saw that were not success, each try counted; lost and dup(licated): found "
          "new by the reconciliation after the drill; revenue: ok when the clients' accepted payments, the stored "
          "sales, the paid orders and GET /sales/period agree, else stored minus accepted, in won, so far; "
          "recover: from the fault until a payment (a consulting result, for the broker and the background workers) "
          "went through end to end; slowest: the longest an accepted write took from its first try to its success, "
          "retries included)")


def start_broker(system: System) -> str:
    """The disk-backed broker when asked for and available, else (system.broker left None) the memory one."""
    wanted = (os.environ.get("DRILL_BROKER") or "disk").lower()
    if wanted == "disk" and weed_binary():
        broker = DiskBroker(system.folder, log_path=str(system.logs / "kafka.log"))
        try:
            broker.start()
            system.broker = broker
            return "Tansu with its log in S3 on a local SeaweedFS (kept across broker restarts)"
        except Exception as exc:
            say(f"the disk-backed broker did not start ({exc}); using the memory broker")
            broker.close()
    return "Tansu with its log in memory (a restart empties it)"


class PooledSystem(System):
    """The drill's system with PgBouncer between the services and PostgreSQL. It starts once the migrations
    have run (straight to PostgreSQL, as the migration Job does), before the first service."""

    def __init__(self, *, pool_size: int, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = pool_size
        self.bouncer: PgBouncer | None = None

    def start_service(self, name: str, **kwargs):
        if self.bouncer is None:
            self.bouncer = PgBouncer(self.database_url, pool_size=self.pool_size)
            self.env["DATABASE_URL"] = self.bouncer.url
            say(f"PgBouncer: transaction pooling, default_pool_size {self.pool_size}, on {self.bouncer.url}")
        return super().start_service(name, **kwargs)

    def server_connections(self) -> int:
        """PgBouncer's server connections to PostgreSQL now (SHOW SERVERS)."""
        return len(self.bouncer.admin("SHOW SERVERS")) if self.bouncer else 0

    def stop(self) -> None:
        super().stop()
        if self.bouncer is not None:
            self.bouncer.stop()
            self.bouncer = None


def make_system() -> System:
    # The drill's owner asks for consulting every 3 s to keep jobs in flight: more than the hourly quota of 20.
    options = {"keep": os.environ.get("DRILL_KEEP") == "1", "extra_env": {"SALESYNC_CONSULTING_PER_HOUR": "1000"}}
    if os.environ.get("DRILL_PGBOUNCER", "1") == "0":
        say("PgBouncer: left out (DRILL_PGBOUNCER=0); the services connect straight to PostgreSQL")
        return System(**options)
    if pgbouncer_binary() is None:
        say("PgBouncer: not installed (apt-get install pgbouncer); the services connect straight to PostgreSQL")
        return System(**options)
    return PooledSystem(pool_size=int(os.environ.get("DRILL_PGBOUNCER_POOL") or 20), **options)


def drill_plan(drills: Drills) -> list[tuple[str, Callable[[], dict]]]:
    plan = [(f"1 kill -9 {name}", functools.partial(drills.kill_and_restart, name))
            for name in (*roster.BY_NAME, *roster.WORKERS_BY_NAME)]
    plan += [("1b sale dies mid-payment", drills.sale_dies_mid_payment),
             ("1c late retry of a crashed payment", drills.late_retry_after_crash),
             ("2 PostgreSQL restart", drills.postgres_restart),
             ("3 Kafka broker restart", drills.broker_restart),
             ("6 slow dashboard", drills.slow_dashboard)]
    plan += [("4 replay every write", drills.replay_everything),
             ("5 two payments at once", drills.two_payments_at_once)]
    return plan


def run_plan(drills: Drills, *, only: set[str], began: float, max_seconds: float) -> None:
    for name, action in drill_plan(drills):
        if only and name.split()[0] not in only:
            continue
        if name.startswith("4"):
            drills.stop_load()
        if time.monotonic() - began > max_seconds - 120:
            say(f"skipping {name}: the run is near its time limit")
            continue
        drills.run(name, action)
    drills.stop_load()


def report(drills: Drills, *, system: System, broker_note: str, terminals: int, began: float) -> int:
    """Print the table and the notes, write the results file; 1 if anything was lost, duplicated or exited."""
    print()
    print_table(drills.rows)
    final = drills.rows[-1]["reconciliation"]
    print(f"\nbroker: {broker_note}")
    print(f"accepted: {final['accepted_orders']} orders, {final['accepted_payments']} payments, "
          f"{final['consulting_jobs']} consulting jobs; revenue {final['revenue']}")
    for note in drills.records.notes[:30]:
        print(f"note: {note}")
    for row in drills.rows:
        if row["drill"].startswith("6 "):
            print(f"slow dashboard: {summary(row['detail'])}")
    bad = [row["drill"] for row in drills.rows if row["lost"] or row["duplicated"] or row["exited"]
           or row["detail"].get("failed")]
    if drills.rows and not drills.rows[-1]["revenue_equal"]:
        bad.append("revenue differs at the end")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"drill-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({
        "when": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "broker": broker_note, "terminals": terminals,
        "gunicorn": {"workers": system.workers, "threads": system.threads},
        "rows": drills.rows, "notes": drills.records.notes,
        "seconds": round(time.monotonic() - began, 1)}, ensure_ascii=False, indent=1, default=str))
    say(f"results: bench/results/{path.name}")
    if system.keep:
        say(f"logs kept in {system.logs}")
    if bad:
        say("FAILED: lost or duplicated writes, revenue that disagrees, a process that exited on its own "
            "(under `make run` that stops everything), or a POS error or slow report in drill 6, after: "
            + ", ".join(bad))
        return 1
    say("every accepted order and payment is stored exactly once; revenue equals the payments")
    return 0


def main() -> int:
    stop_on_sigterm()
    max_seconds = float(os.environ.get("DRILL_MAX_SECONDS") or 600)
    terminals = int(os.environ.get("DRILL_TERMINALS") or 4)
    began = time.monotonic()
    only = {part.strip() for part in (os.environ.get("DRILL_ONLY") or "").split(",") if part.strip()}
    system = make_system()
    drills = None
    try:
        broker_note = start_broker(system)
        say(f"Kafka: {broker_note}")
        system.start()
        base = system.urls["bff"]
        api, store_id, username = sign_up(base, prefix="drill")
        items = [item["item_id"] for item in create_menu(api)]
        say(f"store {store_id} ({username}) with {len(items)} items; {terminals} terminals and an owner start")
        drills = Drills(system, base, api.token, store_id, items)
        drills.start_load(terminals)
        run_plan(drills, only=only, began=began, max_seconds=max_seconds)
        if isinstance(system, PooledSystem):
            say(f"PgBouncer: {system.server_connections()} server connections to PostgreSQL at the end "
                f"(pool {system.pool_size})")
        return report(drills, system=system, broker_note=broker_note, terminals=terminals, began=began)
    except (KeyboardInterrupt, StopRequested):
        say("interrupted; stopping everything it started")
        return 130
    finally:
        if drills is not None:
            drills.stop.set()
        system.stop()
        say(f"done in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
