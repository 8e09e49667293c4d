"""`BENCH_MODE=history make bench`: do reports and the POS stay fast as the data grows?

1. A measured store with the seeded menu; POS load (BENCH_TERMINALS, default 16, with pauses, no owners) on
   the otherwise empty database: POS p99.
2. A year of history (BENCH_DAYS, default 365 in this mode, BENCH_ORDERS_PER_DAY, default 200) in the
   measured store and BENCH_STORES (default 100) other stores with a shorter history each (seed.OTHER_DAYS
   days of seed.OTHER_ORDERS_PER_DAY orders), written with bulk SQL (bench/seed.py), aggregates included.
3. The 365-day `/bff/sales` and `/bff/volumes` of the measured store, one request at a time: p50/p95.
4. The same POS load again: POS p99 with the history, against step 1's.
Results: the printed lines and bench/results/history-<time>.json.
"""
from __future__ import annotations

import datetime
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
import zoneinfo
from http import HTTPStatus

import psycopg2
import requests

from testsupport.postgres import libpq_url

from .seed import check_history, create_menu, sign_up, write_history, write_other_stores
from .system import REPO, System

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
REPORT_DAYS = 365
REPORT_ROUNDS = 40  # measured requests per report, after REPORT_WARMUP not counted
REPORT_WARMUP = 3
TARGETS = {"report_p95_ms": 100.0, "pos_p99_growth": 0.20}


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def pos_load(config: dict, work: pathlib.Path, name: str, *, base: str, token: str, items: list[dict]) -> dict | None:
    """The POS terminals of bench/load.py (no owners) for BENCH_DURATION; returns its POS group figures."""
    config_path, result_path = work / f"{name}.json", work / f"{name}-result.json"
    config_path.write_text(json.dumps({**config, "owners": 0, "base_url": base, "token": token,
                                       "items": [{"item_id": item["item_id"]} for item in items]}))
    say(f"POS load ({name}): {config['terminals']} terminals, {config['warmup']} s warm-up, "
        f"{config['duration']} s measured")
    load = subprocess.run([sys.executable, "-m", "bench.load", str(config_path), str(result_path)], check=False,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=config["duration"] + 180)
    if load.returncode != 0 or not result_path.exists():
        say(f"the load process failed (exit code {load.returncode})")
        return None
    result = json.loads(result_path.read_text())
    errors = sum(route["errors"] for route in result["routes"].values() if route["group"] == "pos")
    routes = {name: {key: route[key] for key in ("requests", "p50_ms", "p99_ms")}
              for name, route in result["routes"].items() if route["group"] == "pos"}
    return {**result["groups"]["pos"], "errors": errors, "routes": routes,
            "rps": round(result["groups"]["pos"]["requests"] / result["elapsed_s"], 1)}


def time_report(base: str, token: str, path: str) -> dict:
    """One request at a time: p50/p95/max of REPORT_ROUNDS after REPORT_WARMUP."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "X-CSRF-Token": "csrf"})
    timings = []
    for round_no in range(REPORT_WARMUP + REPORT_ROUNDS):
        started = time.perf_counter()
        reply = session.get(base + path, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if reply.status_code != HTTPStatus.OK:
            raise RuntimeError(f"{path} answered {reply.status_code}: {reply.text[:200]}")
        if round_no >= REPORT_WARMUP:
            timings.append(elapsed)
    timings.sort()
    return {"requests": len(timings), "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 1), "max_ms": round(timings[-1], 1),
            "bytes": len(reply.content)}


# What a 365-day report costs PostgreSQL: read from the aggregates as the services do now, and summed from
# the rows as they did before the aggregates (same results; Seoul business days).
SQL_READS = {
    "item days from item_days": """SELECT business_day, item_id, item_name, quantity, sales_volume
        FROM "order".item_days WHERE store_id = %(store)s AND business_day BETWEEN %(start)s AND %(end)s""",
    "item days from order lines": """SELECT date(timezone('Asia/Seoul', o.paid_at)), l.item_id, sum(l.quantity),
            sum(l.quantity::bigint * l.unit_price)
        FROM "order".order_lines l JOIN "order".orders o ON o.order_id = l.order_id
        WHERE o.store_id = %(store)s AND o.status = 'paid' AND o.paid_at >= %(since)s AND o.paid_at < %(until)s
        GROUP BY 1, 2""",
    "revenue from revenue_days": """SELECT * FROM sale.revenue_days
        WHERE store_id = %(store)s AND business_day BETWEEN %(start)s AND %(end)s""",
    "revenue from sales": """SELECT date(timezone('Asia/Seoul', completed_at)), sum(total_price), count(*)
        FROM sale.sales WHERE store_id = %(store)s AND status = 'completed' AND completed_at >= %(since)s
            AND completed_at < %(until)s GROUP BY 1""",
}


def sql_read_times(database_url: str, store_id: int, start: datetime.date, end: datetime.date) -> dict:
    """Median execution time (EXPLAIN ANALYZE, 5 runs after one) of each of SQL_READS, in ms."""
    seoul = zoneinfo.ZoneInfo("Asia/Seoul")
    params = {"store": store_id, "start": start, "end": end,
              "since": datetime.datetime.combine(start, datetime.time(), seoul),
              "until": datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), seoul)}
    times = {}
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        for name, query in SQL_READS.items():
            runs = []
            for _ in range(6):
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query, params)
                runs.append(cursor.fetchone()[0][0]["Execution Time"])
            times[name] = round(statistics.median(runs[1:]), 1)
    return times


def run_history(config: dict, work: pathlib.Path) -> int:
    if config["base_url"]:
        say("BENCH_MODE=history starts its own system (it writes a hundred stores of history): unset BENCH_BASE_URL")
        return 2
    system = System()
    try:
        system.start()
        base, database_url = system.urls["bff"], system.database_url
        api, store_id, username = sign_up(base)
        items = create_menu(api)
        say(f"measured store {store_id} ({username}): {len(items)} items, no history yet")
        say("load average (uptime) before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        empty = pos_load(config, work, "pos-empty", base=base, token=api.token, items=items)
        if empty is None:
            return 2

        seeding = time.monotonic()
        history = write_history(database_url, store_id=store_id, items=items, days=config["days"],
                                orders_per_day=config["orders_per_day"])
        check_history(api, history["revenue"], days=min(config["days"], REPORT_DAYS))
        others = write_other_stores(database_url, like_store_id=store_id, count=config["stores"])
        say(f"seeded {history['orders']} paid orders ({history['lines']} lines) over {history['days']} days in "
            f"the measured store and {others['stores']} other stores with {others['orders']} orders "
            f"({others['lines']} lines) in {time.monotonic() - seeding:.1f} s")

        today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()
        period = f"start={today - datetime.timedelta(days=REPORT_DAYS - 1)}&end={today}"
        reports = {name: time_report(base, api.token, f"/bff/{name}?{period}") for name in ("sales", "volumes")}
        sql = sql_read_times(database_url, store_id, today - datetime.timedelta(days=REPORT_DAYS - 1), today)
        with_history = pos_load(config, work, "pos-history", base=base, token=api.token, items=items)
        if with_history is None:
            return 2
        say("load average (uptime) after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))

        growth = with_history["p99_ms"] / empty["p99_ms"] - 1 if empty["p99_ms"] else None
        print()
        for name, figures in reports.items():
            print(f"/bff/{name} {REPORT_DAYS} days: p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, "
                  f"max {figures['max_ms']:.0f} ms ({figures['requests']} requests one at a time, "
                  f"{figures['bytes']} bytes)")
        print(f"PostgreSQL, {REPORT_DAYS} days of the measured store (EXPLAIN ANALYZE, median of 5): "
              + ", ".join(f"{name} {ms} ms" for name, ms in sql.items()))
        for name, figures in (("empty database", empty), ("with the history", with_history)):
            print(f"POS at {config['terminals']} terminals, {name}: p50 {figures['p50_ms']:.0f} ms, "
                  f"p99 {figures['p99_ms']:.0f} ms, {figures['rps']} req/s, {figures['errors']} errors")
        for route, figures in with_history["routes"].items():
            before = empty["routes"][route]
            print(f"  {route:<24} p99 {before['p99_ms'] or 0:>5.0f} ms empty, "
                  f"{figures['p99_ms'] or 0:>5.0f} ms with history")
        if growth is not None:
            print(f"POS p99 with the history: {100 * growth:+.0f}% against the empty database")
        missed = [f"/bff/{name} p95 {figures['p95_ms']:.0f} ms" for name, figures in reports.items()
                  if figures["p95_ms"] >= TARGETS["report_p95_ms"]]
        if growth is not None and growth > TARGETS["pos_p99_growth"]:
            missed.append(f"POS p99 {100 * growth:+.0f}%")
        print()
        say("targets MISSED: " + "; ".join(missed) if missed else
            "targets met: 365-day reports p95 < 100 ms, POS p99 within 20% of the empty database")

        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = RESULTS / f"history-{stamp}.json"
        path.write_text(json.dumps({
            "when": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()},
            "gunicorn": {"workers": system.workers, "threads": system.threads},
            "seed": {"measured": history, "others": others}, "reports": reports, "sql_ms": sql,
            "pos": {"empty": empty, "history": with_history, "p99_growth": growth}, "missed": missed,
        }, ensure_ascii=False, indent=1))
        say(f"results: {path.relative_to(REPO)}")
        errors = empty["errors"] + with_history["errors"]
        return 1 if errors or (missed and config["strict"]) else 0
    finally:
        say("stopping the system")
        system.stop()
