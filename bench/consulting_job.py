"""`BENCH_MODE=consulting`: how long the consulting worker takes over a 31-day job without a model.

A store with the bench menu and 62 days of history (about BENCH_ORDERS_PER_DAY=200 paid orders a day,
so the 31 days before the period are there to compare with); then BENCH_CONSULTING_JOBS (default 5)
jobs over the last 31 days, asked through the BFF one after the other and worked out by the real worker
process. Worker time is the job row's finished_at − started_at: from the claim to the advice stored with
its outbox message (the three internal calls, the arithmetic and the text). The first job pays for cold
caches (the order and sale services' time-zone lookup, connection pools).
"""
from __future__ import annotations

import datetime
import os
import statistics
import time

import psutil
import psycopg2

from testsupport.postgres import libpq_url

from .seed import SEOUL, check_history, create_menu, sign_up, write_history
from .system import System

PERIOD_DAYS = 31
TARGET_SECONDS = 1.0


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def _job_row(database_url: str, req_id: str):
    with psycopg2.connect(libpq_url(database_url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT status, source, EXTRACT(EPOCH FROM finished_at - started_at), "
                       "jsonb_array_length(figures -> 'items'), failure_reason "
                       "FROM consulting.consulting_jobs WHERE req_id = %s", (req_id,))
        return cursor.fetchone()


def run_job(shop, database_url: str, start: datetime.date, end: datetime.date, timeout: float = 60.0) -> dict:
    req_id = shop.call("GET", f"/consulting/test?start={start}&end={end}")["req_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _job_row(database_url, req_id)
        if row and row[0] in ("success", "failed"):
            status, source, seconds, items, reason = row
            if status != "success":
                raise RuntimeError(f"consulting job {req_id} failed: {reason}")
            return {"req_id": req_id, "source": source, "worker_s": float(seconds), "items": items}
        time.sleep(0.05)
    raise RuntimeError(f"consulting job {req_id} did not finish in {timeout:.0f} s")


def run_consulting(config: dict) -> int:
    jobs = int(os.environ.get("BENCH_CONSULTING_JOBS") or 5)
    # No model: the bench measures the figures and the rule-based advice, not a network call to OpenAI.
    with System(extra_env={"OPENAI_API_KEY": ""}) as system:
        system.start()
        shop, store_id, _ = sign_up(system.urls["bff"], prefix="benchc")
        items = create_menu(shop)
        history = write_history(system.database_url, store_id=store_id, items=items, days=2 * PERIOD_DAYS,
                                orders_per_day=config["orders_per_day"])
        check_history(shop, history["revenue"], days=2 * PERIOD_DAYS)
        say(f"seeded store {store_id}: {len(items)} items, {history['orders']} paid orders over "
            f"{history['days']} days ({history['lines']} lines)")
        end = datetime.datetime.now(SEOUL).date() - datetime.timedelta(days=1)
        start = end - datetime.timedelta(days=PERIOD_DAYS - 1)
        psutil.cpu_percent()  # starts the machine's busy window
        results = [run_job(shop, system.database_url, start, end) for _ in range(jobs)]
        busy = psutil.cpu_percent()
    seconds = [result["worker_s"] for result in results]
    warm = seconds[1:] or seconds
    say(f"consulting job over {start} .. {end} ({PERIOD_DAYS} days, ~{config['orders_per_day']} orders a day), "
        f"source {results[0]['source']}, {results[0]['items']} items classified")
    say("worker time per job (claim -> advice stored): " + ", ".join(f"{s * 1000:.0f} ms" for s in seconds))
    say(f"median {statistics.median(warm) * 1000:.0f} ms, max {max(warm) * 1000:.0f} ms after the first; "
        f"first (cold) {seconds[0] * 1000:.0f} ms; machine {busy:.0f}% busy over the jobs ({os.cpu_count()} cores)")
    met = max(seconds) < TARGET_SECONDS
    say(f"target {'met' if met else 'MISSED'}: every job under {TARGET_SECONDS:.0f} s of worker time")
    return 0 if met or not config["strict"] else 1
