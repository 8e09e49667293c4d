"""`BENCH_MODE=knee make bench`: the most POS terminals this machine serves with POS p99 under 50 ms.

One system, one seeded store (and, from 20 terminals on, more stores with the menu: a store has 99
tables and each terminal works 5 of its own, so 19 terminals fill one); then the POS load of
`make bench` (bench/load.py: terminals with BENCH_THINK pauses, 0.5-1.5 s) at each of
BENCH_KNEE_STEPS terminals (default 16,32,48,64,96,128), BENCH_DURATION (default 30 s in this mode)
each after BENCH_WARMUP (5 s), with BENCH_OWNERS owners (default 0 here: the knee is the terminals').
POS p99 = the 99th percentile over every POS request of the step (menu, tables, orders, payments).
The steps stop at the first one that misses 50 ms (or has errors); the knee is the last step before
it. Prints a row per step and the knee.
"""
from __future__ import annotations

import datetime
import json
import os
import pathlib
from collections.abc import Callable

from .seed import terminal_stores
from .system import REPO, System

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
DEFAULT_STEPS = (16, 32, 48, 64, 96, 128)
POS_P99_LIMIT_MS = 50.0


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def knee_steps() -> list[int]:
    raw = os.environ.get("BENCH_KNEE_STEPS") or ",".join(str(n) for n in DEFAULT_STEPS)
    return sorted({int(step) for step in raw.split(",") if step.strip()})


def run_knee(config: dict, work: pathlib.Path, *, seed: Callable, run_load: Callable) -> int:
    """seed and run_load are `make bench`'s own (bench/__main__.py), so each step is its POS load."""
    config = {**config, "owners": int(os.environ.get("BENCH_OWNERS") or 0),
              "duration": int(os.environ.get("BENCH_DURATION") or 30)}
    system = System()
    try:
        system.start()
        base = system.urls["bff"]
        api, items, _ = seed(config, base, system.database_url)
        steps, knee, more_stores = [], None, []
        measured_store = {"token": api.token, "items": [{"item_id": item["item_id"]} for item in items]}
        for terminals in knee_steps():
            step_config = {**config, "terminals": terminals}
            stores = terminal_stores(base, measured_store, terminals=terminals, made=more_stores,
                                     tables_per_terminal=config["tables_per_terminal"])
            load_config = {**step_config, "base_url": base, "token": api.token, "items": measured_store["items"],
                           "terminal_stores": stores}
            measured, _, cpu = run_load(step_config, work, system, load_config)
            if measured is None:
                return 2
            step = step_row(terminals, measured, cpu)
            steps.append(step)
            say(f"{terminals} terminals: POS p99 {step['pos_p99_ms']} ms, {step['pos_rps']} POS req/s, "
                f"{step['errors']} errors, machine {step['machine_busy_pct']}% busy")
            if step["errors"] or step["pos_p99_ms"] is None or step["pos_p99_ms"] >= POS_P99_LIMIT_MS:
                break
            knee = terminals
        print_knee(steps, knee)
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = RESULTS / f"knee-{stamp}.json"
        path.write_text(json.dumps({
            "when": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()},
            "gunicorn": {"workers": system.workers, "threads": system.threads},
            "think": config["think"], "duration": config["duration"], "owners": config["owners"],
            "knee_terminals": knee, "steps": steps}, ensure_ascii=False, indent=1))
        say(f"results: {path.relative_to(REPO)}")
        return 0
    finally:
        say("stopping the system")
        system.stop()


def step_row(terminals: int, measured: dict, cpu: dict | None) -> dict:
    routes = measured["routes"]
    pos_routes = {name: route for name, route in routes.items() if route["group"] == "pos" and route["requests"]}
    worst = max(pos_routes.items(), key=lambda item: item[1]["p99_ms"] or 0, default=(None, {}))
    cores = (cpu or {}).get("cores_used", {})
    return {"terminals": terminals, "pos_requests": measured["pos"]["requests"],
            "pos_rps": round(measured["pos"]["requests"] / max(measured["elapsed_s"], 1e-9), 1),
            "pos_p50_ms": measured["pos"]["p50_ms"], "pos_p99_ms": measured["pos"]["p99_ms"],
            "worst_route": worst[0], "worst_route_p99_ms": worst[1].get("p99_ms"),
            "errors": sum(route["errors"] for route in routes.values()),
            "machine_busy_pct": (cpu or {}).get("machine_busy_pct"),
            "system_cores": round(sum(v for name, v in cores.items() if name != "load generator"), 2)}


def print_knee(steps: list[dict], knee: int | None) -> None:
    print()
    header = (f"{'terminals':>10}{'POS req/s':>11}{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}{'system cores':>14}"
              f"{'machine':>9}  worst route (p99 ms)")
    print(header)
    print("-" * len(header))
    for step in steps:
        def ms(value):
            return "-" if value is None else f"{value:.0f}"
        print(f"{step['terminals']:>10}{step['pos_rps']:>11.1f}{ms(step['pos_p50_ms']):>8}{ms(step['pos_p99_ms']):>8}"
              f"{step['errors']:>8}{step['system_cores']:>14.2f}{step['machine_busy_pct'] or 0:>8.0f}%"
              f"  {step['worst_route']} ({ms(step['worst_route_p99_ms'])})")
    if knee is not None:
        print(f"\nknee: {knee} terminals with POS p99 < {POS_P99_LIMIT_MS:.0f} ms")
    elif steps:
        print(f"\nknee: below {steps[0]['terminals']} terminals (the first step missed POS p99 < "
              f"{POS_P99_LIMIT_MS:.0f} ms; try lower BENCH_KNEE_STEPS)")
