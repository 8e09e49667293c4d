"""The load: POS terminals and store owners against the BFF, with locust as a library (headless).

Run by `python -m bench` in a process of its own (locust patches the standard library with gevent):
    python -m bench.load CONFIG.json RESULT.json

A terminal does what the React POS does at a table (API.md §12.2-12.3): the route guard's
GET /categories/, the home screen's GET /orders/unpaids, the order popup's GET /categories/items
and GET /orders/unpaids/<t>, POST /orders/ (or PUT /orders/ when the table already has carts),
sometimes a change of the cart (PUT /orders/), the table again, then POST /sales/ with the
table's total; every write with an Idempotency-Key. Each terminal has tables of its own, as a
floor is split between staff. An owner reads the dashboard (per-item sales of a day and of 31
days, per-day volumes of 7 and 31 days, revenue of 31 days, the cost page) and now and then asks
for consulting, polling until the advice can be shown, as the consulting page does.

Every request carries an X-Request-ID naming its route (bn<tag>x<route code>x<n>), so the services'
access logs tell how many internal calls each route made. Latencies are kept exactly (each one),
not in locust's rounded buckets, after a warm-up that is left out of every figure.
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import datetime  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
import zoneinfo  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, between, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from bench.checked_call import checked_call  # noqa: E402
from bench.seed import terminals_per_store  # noqa: E402

CONFIG: dict = {}
ADDS_SOMETHING = 0.5  # the share of tables whose guests add to their order before paying

# Route name -> (code in the request id, group). POS routes have the 50 ms p99 target; "report31"
# routes the 100 ms p95 one.
ROUTES = {
    "GET /categories/": ("r01", "pos"),
    "GET /orders/unpaids": ("r02", "pos"),
    "GET /categories/items": ("r03", "pos"),
    "GET /orders/unpaids/[t]": ("r04", "pos"),
    "POST /orders/": ("r05", "pos"),
    "PUT /orders/": ("r06", "pos"),
    "POST /sales/": ("r07", "pos"),
    "GET /bff/sales 1d": ("r08", "report"),
    "GET /bff/volumes 7d": ("r09", "report"),
    "GET /bff/sales 31d": ("r10", "report31"),
    "GET /bff/volumes 31d": ("r11", "report31"),
    "GET /sales/period 31d": ("r12", "report31"),
    "GET /bff/costs": ("r13", "report"),
    "GET /consulting/test": ("r14", "consulting"),
    "GET /consulting/test/[id]": ("r15", "consulting"),
    "GET /dashboard/consulting/test/[id]": ("r16", "consulting"),
}
STATE = {"tag": "w", "measuring": False}  # "w" while warming up: those requests are not counted
LATENCIES: dict[str, list[float]] = {name: [] for name in ROUTES}
ERRORS: dict[str, dict[str, int]] = {name: {} for name in ROUTES}
COUNTS: dict[str, int] = {name: 0 for name in ROUTES}
_sequence = itertools.count(1)
_terminal_numbers = itertools.count(0)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **_kwargs):
    if not STATE["measuring"] or name not in ROUTES:
        return
    COUNTS[name] += 1
    LATENCIES[name].append(response_time)
    if exception is not None:
        reason = str(exception)[:160]
        ERRORS[name][reason] = ERRORS[name].get(reason, 0) + 1


class Client(FastHttpUser):
    abstract = True
    connection_timeout = 10.0
    network_timeout = 30.0

    store_token: str | None = None  # None: the measured store; a terminal past its tables works in another

    def call(self, route: str, method: str, path: str, body=None, *, expect=(200, 201), idempotency_key=None):
        request_id = f"bn{STATE['tag']}x{ROUTES[route][0]}x{next(_sequence)}"
        headers = {"Authorization": f"Bearer {self.store_token or CONFIG['token']}", "X-CSRF-Token": "csrf",
                   "X-Request-ID": request_id}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return checked_call(self.client, route, method, path, headers=headers, body=body, expect=expect)

    def think(self) -> None:
        low, high = CONFIG["think"]
        gevent.sleep(random.uniform(low, high))


class PosTerminal(Client):
    """One POS screen working its own tables."""
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        number = next(_terminal_numbers)
        per_terminal = CONFIG["tables_per_terminal"]
        # A store has tables 1-99: terminals never share one (two cashiers on one table answer each other
        # 409s, which would count as errors); past a store's tables the next terminals work in the next store.
        per_store = terminals_per_store(per_terminal)
        stores = CONFIG.get("terminal_stores") or [{"token": CONFIG["token"], "items": CONFIG["items"]}]
        store = stores[number // per_store]
        self.store_token, self.items = store["token"], store["items"]
        self.tables = [1 + (number % per_store) * per_terminal + k for k in range(per_terminal)]

    def cart(self) -> list[dict]:
        return [{"item_id": item["item_id"], "quantity": random.choice((1, 1, 2, 3))}
                for item in random.sample(self.items, random.choice((1, 2, 2, 3, 4)))]

    @task
    def serve_a_table(self) -> None:
        table = random.choice(self.tables)
        self.call("GET /categories/", "GET", "/categories/")
        self.call("GET /orders/unpaids", "GET", "/orders/unpaids")
        self.think()
        self.call("GET /categories/items", "GET", "/categories/items")
        current = self.call("GET /orders/unpaids/[t]", "GET", f"/orders/unpaids/{table}")
        if current is None:
            return
        self.think()
        verb, route = ("PUT", "PUT /orders/") if current["carts"] else ("POST", "POST /orders/")
        placed = self.call(route, verb, "/orders/", {"table_no": table, "carts": self.cart()},
                           idempotency_key=uuid.uuid4().hex)
        if placed is None:
            return
        if random.random() < ADDS_SOMETHING:
            self.think()
            shown = self.call("GET /orders/unpaids/[t]", "GET", f"/orders/unpaids/{table}")
            if shown is None:
                return
            carts = [{"item_id": line["item_id"], "quantity": line["quantity"]} for line in shown["carts"]]
            carts.append({"item_id": random.choice(self.items)["item_id"], "quantity": 1})
            if self.call("PUT /orders/", "PUT", "/orders/", {"table_no": table, "carts": carts},
                         idempotency_key=uuid.uuid4().hex) is None:
                return
        self.think()
        shown = self.call("GET /orders/unpaids/[t]", "GET", f"/orders/unpaids/{table}")
        if shown is None:
            return
        self.think()
        self.call("POST /sales/", "POST", "/sales/",
                  {"table_no": table, "payment_type": random.choice(("카드", "현금")),
                   "total_price": shown["total_price"]},
                  expect=(201,), idempotency_key=uuid.uuid4().hex)


class Owner(Client):
    """The owner's dashboard, and now and then a consulting request."""
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        self.today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()
        self.rounds = 0

    def period(self, days: int) -> str:
        return f"start={self.today - datetime.timedelta(days=days - 1)}&end={self.today}"

    @task
    def look_at_the_dashboard(self) -> None:
        self.rounds += 1
        self.call("GET /bff/sales 1d", "GET", f"/bff/sales?{self.period(1)}")
        self.think()
        self.call("GET /bff/volumes 7d", "GET", f"/bff/volumes?{self.period(7)}")
        self.think()
        self.call("GET /bff/sales 31d", "GET", f"/bff/sales?{self.period(31)}")
        self.call("GET /bff/volumes 31d", "GET", f"/bff/volumes?{self.period(31)}")
        self.call("GET /sales/period 31d", "GET", f"/sales/period?{self.period(31)}")
        self.think()
        if self.rounds % 3 == 1:
            self.call("GET /bff/costs", "GET", "/bff/costs")
        if self.rounds % 4 == 1:
            self.ask_for_consulting()

    def ask_for_consulting(self) -> None:
        started = self.call("GET /consulting/test", "GET", f"/consulting/test?{self.period(31)}")
        if started is None:
            return
        req_id = started["req_id"]
        deadline = time.monotonic() + CONFIG["consulting_timeout"]
        while time.monotonic() < deadline:
            gevent.sleep(0.5)
            state = self.call("GET /consulting/test/[id]", "GET", f"/consulting/test/{req_id}")
            if state is None or state["result"] == "failed":
                return
            if state["result"] == "success":
                self.call("GET /dashboard/consulting/test/[id]", "GET", f"/dashboard/consulting/test/{req_id}")
                return
        events.request.fire(request_type="GET", name="GET /consulting/test/[id]", response_time=0,
                            response_length=0, exception=RuntimeError(
                                f"no advice within {CONFIG['consulting_timeout']} s"))


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-share * len(ordered) // 1)))
    return round(ordered[min(rank, len(ordered)) - 1], 1)


def main(config_path: str, result_path: str) -> int:
    CONFIG.update(json.loads(pathlib.Path(config_path).read_text()))
    STATE["tag"] = "w"
    PosTerminal.fixed_count = CONFIG["terminals"]
    Owner.fixed_count = CONFIG["owners"]
    users = [cls for cls in (PosTerminal, Owner) if cls.fixed_count]
    environment = Environment(user_classes=users, host=CONFIG["base_url"], events=events)
    runner = environment.create_local_runner()
    total = CONFIG["terminals"] + CONFIG["owners"]
    runner.start(total, spawn_rate=total)
    gevent.sleep(CONFIG["warmup"])
    STATE.update(tag=CONFIG["tag"], measuring=True)
    started = time.monotonic()
    gevent.sleep(CONFIG["duration"])
    STATE["measuring"] = False
    elapsed = time.monotonic() - started
    runner.quit()
    runner.greenlet.join(timeout=30)
    routes = {}
    for name, (code, group) in ROUTES.items():
        values = LATENCIES[name]
        routes[name] = {
            "code": code, "group": group, "requests": COUNTS[name], "errors": sum(ERRORS[name].values()),
            "error_reasons": ERRORS[name], "rps": round(COUNTS[name] / elapsed, 2),
            "p50_ms": percentile(values, 0.50), "p95_ms": percentile(values, 0.95),
            "p99_ms": percentile(values, 0.99), "max_ms": round(max(values), 1) if values else None,
        }
    by_group: dict[str, list[float]] = {}
    for name, (_, group) in ROUTES.items():
        by_group.setdefault(group, []).extend(LATENCIES[name])
    groups = {group: {"requests": len(values), "p50_ms": percentile(values, 0.50),
                      "p95_ms": percentile(values, 0.95), "p99_ms": percentile(values, 0.99)}
              for group, values in by_group.items()}
    with open(result_path, "w") as out:
        json.dump({"elapsed_s": round(elapsed, 1), "routes": routes, "groups": groups,
                   "pos": {key: groups.get("pos", {}).get(key) for key in ("requests", "p50_ms", "p99_ms")}},
                  out, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except KeyboardInterrupt:  # Ctrl-C reaches this process too; the bench stops the rest
        sys.exit(130)
