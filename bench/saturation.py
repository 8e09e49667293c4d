"""Saturation load (BENCH_MODE=saturation): one mix of the original project's public load tests,
closed loop (no pause), N users through the BFF, with locust as a library (headless):
    python -m bench.saturation CONFIG.json RESULT.json

The four mixes, rewritten here after their description (categories, items, orders, sales):
  categories  GET /categories/ and POST /categories/, one each per round
  items       GET /categories/items (the menu), POST /categories/<c>/items, GET /bff/costs
  orders      POST /orders/, GET /orders/unpaids, GET /bff/volumes of one day and of 7 days
  sales       GET /sales/ (its first page), POST /orders/ then POST /sales/ (a sale needs an open
              order now), GET /sales/daily, GET /sales/period (7 days)
A store now has at most 200 categories and 2,000 items: each user of the categories and items mixes
has a quota of what its store still allows (stores are shared by BENCH_USERS / stores users); at its
quota it deletes its oldest creation before the next one (the DELETE is counted in the mix), so a 409
is never expected and counts as an error. The orders and sales mixes give each user tables of its
own; the orders mix cancels (DELETE /orders/<t>) a table before opening it again, and the sales mix
closes the tables the orders mix left open before it starts (in the warm-up, not counted).

CPU: this process takes psutil snapshots of the named process groups (each service's gunicorn master
and workers, PostgreSQL with its backends, the broker, the load generator) and of the machine at the
start and the end of the measured window, so the CPU and the requests cover the same seconds.
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
import psutil  # noqa: E402
from locust import FastHttpUser, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

from bench.checked_call import checked_call  # noqa: E402

CONFIG: dict = {}
STATE = {"measuring": False}
LATENCIES: dict[str, list[float]] = {}
ERRORS: dict[str, dict[str, int]] = {}
TABLES_PER_USER = 3
_user_numbers = itertools.count(0)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **_kwargs):
    if not STATE["measuring"]:
        return
    LATENCIES.setdefault(name, []).append(response_time)
    ERRORS.setdefault(name, {})
    if exception is not None:
        reason = str(exception)[:160]
        ERRORS[name][reason] = ERRORS[name].get(reason, 0) + 1


class MixUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    connection_timeout = 10.0
    network_timeout = 60.0

    def on_start(self) -> None:
        self.number = next(_user_numbers)
        self.store = CONFIG["stores"][self.number % len(CONFIG["stores"])]
        self.sharing = max(1, -(-CONFIG["users"] // len(CONFIG["stores"])))  # users per store
        self.created: list[int] = []
        self.today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()

    def call(self, route: str, method: str, path: str, body=None, *, expect=(200, 201), key=False):
        headers = {"Authorization": f"Bearer {self.store['token']}", "X-CSRF-Token": "csrf"}
        if key:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        return checked_call(self.client, route, method, path, headers=headers, body=body, expect=expect)

    def period(self, days: int) -> str:
        return f"start={self.today - datetime.timedelta(days=days - 1)}&end={self.today}"

    def make_room(self, room: int, delete_path: str, route: str) -> None:
        """At this user's quota of the store's limit, delete its oldest creation first."""
        quota = max(1, room // self.sharing)
        if len(self.created) >= quota:
            self.call(route, "DELETE", delete_path.format(self.created.pop(0)))


class Categories(MixUser):
    @task
    def round(self) -> None:
        self.call("GET /categories/", "GET", "/categories/")
        room = CONFIG["max_categories"] - len(self.store["categories"])
        self.make_room(room, "/categories/{}", "DELETE /categories/[id]")
        made = self.call("POST /categories/", "POST", "/categories/", {"name": f"c{uuid.uuid4().hex[:20]}"},
                         expect=(201,))
        if made is not None:
            self.created.append(made["id"])


class Items(MixUser):
    @task
    def round(self) -> None:
        self.call("GET /categories/items", "GET", "/categories/items")
        room = CONFIG["max_items"] - self.store["items_count"]
        self.make_room(room, "/categories/items/{}", "DELETE /categories/items/[id]")
        category = random.choice(self.store["categories"])
        made = self.call("POST /categories/[c]/items", "POST", f"/categories/{category}/items",
                         {"name": f"i{uuid.uuid4().hex[:20]}", "price": str(random.randrange(1000, 20000, 100))},
                         expect=(201,))
        if made is not None:
            self.created.append(made["id"])
        self.call("GET /bff/costs", "GET", "/bff/costs")


class TableUser(MixUser):
    abstract = True

    def on_start(self) -> None:
        super().on_start()
        self.tables = itertools.cycle([(self.number * TABLES_PER_USER + k) % 100 for k in range(TABLES_PER_USER)])

    def open_table(self, table: int) -> dict | None:
        carts = [{"item_id": item_id, "quantity": random.choice((1, 1, 2, 3))}
                 for item_id in random.sample(self.store["item_ids"], random.choice((1, 2, 2, 3)))]
        return self.call("POST /orders/", "POST", "/orders/", {"table_no": table, "carts": carts}, key=True)


class Orders(TableUser):
    @task
    def round(self) -> None:
        table = next(self.tables)
        self.call("DELETE /orders/[t]", "DELETE", f"/orders/{table}", expect=(200, 404))
        self.open_table(table)
        self.call("GET /orders/unpaids", "GET", "/orders/unpaids")
        self.call("GET /bff/volumes 1d", "GET", f"/bff/volumes?{self.period(1)}")
        self.call("GET /bff/volumes 7d", "GET", f"/bff/volumes?{self.period(7)}")


class Sales(TableUser):
    def on_start(self) -> None:
        """The orders mix leaves tables open in the same store: close this user's first (warm-up)."""
        super().on_start()
        for _ in range(TABLES_PER_USER):
            self.call("DELETE /orders/[t]", "DELETE", f"/orders/{next(self.tables)}", expect=(200, 404))

    @task
    def round(self) -> None:
        self.call("GET /sales/", "GET", "/sales/")
        table = next(self.tables)
        placed = self.open_table(table)
        if placed is not None and placed.get("total_price") is not None:
            self.call("POST /sales/", "POST", "/sales/",
                      {"table_no": table, "payment_type": random.choice(("카드", "현금")),
                       "total_price": placed["total_price"]}, expect=(201,), key=True)
        self.call("GET /sales/daily", "GET", f"/sales/daily?date={self.today}")
        self.call("GET /sales/period 7d", "GET", f"/sales/period?{self.period(7)}")


class Read(MixUser):
    """One GET, again and again (BENCH_MODE=hop): the menu through the BFF, or the bare hop."""
    @task
    def round(self) -> None:
        self.call(CONFIG["read_route"], "GET", CONFIG["read_path"])


MIXES = {"categories": Categories, "items": Items, "orders": Orders, "sales": Sales, "read": Read}


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-share * len(ordered) // 1)))
    return round(ordered[min(rank, len(ordered)) - 1], 1)


def cpu_seconds(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each process group (a root and its descendants) and of the machine."""
    times = psutil.cpu_times()
    snapshot = {"machine busy": times.user + times.nice + times.system + times.irq + times.softirq + times.steal,
                "machine all": sum(times)}
    for name, pid in roots.items():
        total = 0.0
        try:
            root = psutil.Process(pid)
            family = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for process in family:
            try:
                cpu = process.cpu_times()
                total += cpu.user + cpu.system
            except psutil.Error:
                pass
        snapshot[name] = total
    return snapshot


def main(config_path: str, result_path: str) -> int:
    CONFIG.update(json.loads(pathlib.Path(config_path).read_text()))
    user_class = MIXES[CONFIG["mix"]]
    user_class.fixed_count = CONFIG["users"]
    environment = Environment(user_classes=[user_class], host=CONFIG["base_url"], events=events)
    runner = environment.create_local_runner()
    runner.start(CONFIG["users"], spawn_rate=CONFIG["users"])
    gevent.sleep(CONFIG["warmup"])
    roots = {**CONFIG["roots"], "load generator": psutil.Process().pid}
    before = cpu_seconds(roots)
    STATE["measuring"] = True
    started = time.monotonic()
    gevent.sleep(CONFIG["duration"])
    STATE["measuring"] = False
    elapsed = time.monotonic() - started
    after = cpu_seconds(roots)
    runner.quit()
    runner.greenlet.join(timeout=30)
    routes = {name: {"requests": len(values), "errors": sum(ERRORS[name].values()), "error_reasons": ERRORS[name],
                     "rps": round(len(values) / elapsed, 2), "p50_ms": percentile(values, 0.50),
                     "p99_ms": percentile(values, 0.99)}
              for name, values in sorted(LATENCIES.items())}
    every = [value for values in LATENCIES.values() for value in values]
    cpu = {name: round(after[name] - before[name], 3) for name in after if name in before}
    result = {"mix": CONFIG["mix"], "elapsed_s": round(elapsed, 2), "requests": len(every),
              "errors": sum(route["errors"] for route in routes.values()),
              "rps": round(len(every) / elapsed, 1), "p50_ms": percentile(every, 0.50),
              "p99_ms": percentile(every, 0.99), "cpu_s": cpu, "routes": routes}
    with open(result_path, "w") as out:
        json.dump(result, out, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1], sys.argv[2]))
    except KeyboardInterrupt:
        sys.exit(130)
