"""`BENCH_MODE=saturation make bench`: the four mixes of bench/saturation.py one after the other
against one system, and the table of req/s, latency, errors and CPU milliseconds per request of each
process group. Results: the printed table and bench/results/saturation-<time>.json.

Stores: one measured store with the seeded menu and history (the orders and sales mixes), and one
store with the seeded menu per 8 users (the categories and items mixes, which create and delete).
CPU ms per request = the group's CPU seconds over the measured window / the mix's requests there.
"Other processes" is the machine's busy CPU minus every group of the system and the load generator:
what else ran on the machine meanwhile (in cores).
"""
from __future__ import annotations

import datetime
import json
import os
import pathlib
import subprocess
import sys
import time

from .profiles import print_profile, start_profiles, summarise_profile, wait_for_profiles
from .seed import create_menu, sign_up, write_history
from .system import REPO, System

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
MIXES = ("categories", "items", "orders", "sales")
USERS_PER_STORE = 8
SHOWN_FROM_MS = 0.05  # a process group under this many CPU ms per request is left out of the table


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def process_roots(system: System | None) -> dict[str, int]:
    """The root pid of each process group of the system: services, workers, PostgreSQL, the broker."""
    roots = {}
    if system is not None:
        roots.update({name: process.pid for name, process in system.processes.items()})
        if system.pg is not None:
            roots["postgresql"] = system.pg.get_pid()
        broker = getattr(system.broker, "process", None)
        if broker is not None:
            roots["kafka broker"] = broker.pid
    return roots


def store_for_mixes(base: str, database_url: str, days: int) -> dict:
    api, store_id, _ = sign_up(base, prefix="sat")
    items = create_menu(api)
    if database_url and days:
        write_history(database_url, store_id=store_id, items=items, days=days)
    return {"token": api.token, "categories": list(api.categories.values()), "items_count": len(items),
            "item_ids": [item["item_id"] for item in items]}


def run_mix(config: dict, work: pathlib.Path, mix: str, stores: list[dict], roots: dict[str, int],
            *, system: System | None = None, extra: dict | None = None) -> dict | None:
    config_path, result_path = work / f"{mix}.json", work / f"{mix}-result.json"
    config_path.write_text(json.dumps({
        "mix": mix, "base_url": config["base_url"], "users": config["users"], "duration": config["duration"],
        "warmup": config["warmup"], "stores": stores, "roots": roots,
        # the services' limits (salesync_common/settings.py), as the system was started with them
        "max_categories": int(os.environ.get("SALESYNC_MAX_CATEGORIES_PER_STORE") or 200),
        "max_items": int(os.environ.get("SALESYNC_MAX_ITEMS_PER_STORE") or 2000), **(extra or {})}))
    say(f"mix {mix}: {config['users']} users, no pause, {config['warmup']} s warm-up, {config['duration']} s measured")
    load = subprocess.Popen([sys.executable, "-m", "bench.saturation", str(config_path), str(result_path)],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    profiles = []
    try:
        if config["profile"] and system is not None:
            time.sleep(config["warmup"] + 0.5)
            profiles = start_profiles(system, config["profile"], config["duration"] - 1, work, prefix=f"{mix}-")
        load.wait(timeout=config["warmup"] + config["duration"] + 120)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait(timeout=10)
        wait_for_profiles(profiles, finished=load.returncode == 0)
    if load.returncode != 0 or not result_path.exists():
        say(f"the {mix} load process failed (exit code {load.returncode})")
        return None
    result = json.loads(result_path.read_text())
    result["profiles"] = {name: summarise_profile(output) for name, _, output in profiles}
    return result


def per_request(result: dict) -> dict:
    """CPU ms per request of each group, the other processes' cores and the machine's busy share."""
    cpu, requests, seconds = result["cpu_s"], max(result["requests"], 1), result["elapsed_s"]
    groups = {name: value for name, value in cpu.items() if not name.startswith("machine")}
    busy = cpu["machine busy"] / max(cpu["machine all"], 1e-9)
    others = max(0.0, cpu["machine busy"] - sum(groups.values()))
    return {"cpu_ms_per_request": {name: round(1000 * value / requests, 2)
                                   for name, value in sorted(groups.items(), key=lambda item: -item[1])},
            "system_cores": round(sum(v for name, v in groups.items() if name != "load generator") / seconds, 2),
            "other_processes_cores": round(others / seconds, 2),
            "machine_busy_pct": round(100 * busy, 1)}


def print_saturation(results: dict) -> None:
    print()
    header = f"{'mix':<12}{'reqs':>7}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}{'system cores':>14}" \
             f"{'others':>8}{'machine':>9}"
    print(header)
    print("-" * len(header))
    for mix, result in results.items():
        cost = result["cost"]
        print(f"{mix:<12}{result['requests']:>7}{result['rps']:>8.1f}{result['p50_ms'] or 0:>8.0f}"
              f"{result['p99_ms'] or 0:>8.0f}{result['errors']:>8}{cost['system_cores']:>14.2f}"
              f"{cost['other_processes_cores']:>8.2f}{cost['machine_busy_pct']:>8.0f}%")
    print(f"load average (uptime) at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"(closed loop, no pause; system cores = the system's processes, others = every other process on "
          f"the machine, both in cores of {os.cpu_count()}; load generator not counted in either)")
    print_costs(results)
    for mix, result in results.items():
        wrong = {name: route["error_reasons"] for name, route in result["routes"].items() if route["errors"]}
        if wrong:
            say(f"{mix}: errors {json.dumps(wrong, ensure_ascii=False)[:400]}")


def print_costs(results: dict) -> None:
    """CPU ms per request: a row per process group, a column per mix."""
    groups = sorted({name for result in results.values() for name in result["cost"]["cpu_ms_per_request"]})
    shown = [name for name in groups
             if any(result["cost"]["cpu_ms_per_request"].get(name, 0) >= SHOWN_FROM_MS for result in results.values())]
    print("\nCPU ms per request, by process group")
    print(f"{'process':<18}" + "".join(f"{mix:>12}" for mix in results))
    def cost(result: dict, name: str) -> float:
        return result["cost"]["cpu_ms_per_request"].get(name, 0)
    for name in sorted(shown, key=lambda n: -sum(cost(r, n) for r in results.values())):
        print(f"{name:<18}" + "".join(f"{cost(r, name):>12.2f}" for r in results.values()))
    totals = {mix: sum(v for n, v in r["cost"]["cpu_ms_per_request"].items() if n != "load generator")
              for mix, r in results.items()}
    print(f"{'system total':<18}" + "".join(f"{value:>12.2f}" for value in totals.values()))


def run_saturation(config: dict, work: pathlib.Path) -> int:
    base = config["base_url"]
    system = None if base else System()
    try:
        if system is None:
            database_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
            say(f"using the running system at {base} (CPU of its processes is not measured)")
        else:
            system.start()
            base, database_url = system.urls["bff"], system.database_url
        config = {**config, "base_url": base}
        seeding = time.monotonic()
        measured = store_for_mixes(base, database_url, config["days"])
        creating = [store_for_mixes(base, "", 0) for _ in range(max(1, -(-config["users"] // USERS_PER_STORE)))]
        say(f"seeded {1 + len(creating)} stores in {time.monotonic() - seeding:.1f} s")
        roots = process_roots(system)
        say("load average (uptime) before the mixes: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        results = {}
        for mix in MIXES:
            stores = [measured] if mix in ("orders", "sales") else creating
            result = run_mix(config, work, mix, stores, roots, system=system)
            if result is None:
                return 2
            result["cost"] = per_request(result)
            results[mix] = result
        print_saturation(results)
        for mix, result in results.items():
            for name, summary in result["profiles"].items():
                print_profile(f"{name} in the {mix} mix", summary)
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = RESULTS / f"saturation-{stamp}.json"
        path.write_text(json.dumps({
            "when": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()},
            "gunicorn": {"workers": system.workers, "threads": system.threads} if system else None,
            "users": config["users"], "duration": config["duration"], "warmup": config["warmup"],
            "mixes": results}, ensure_ascii=False, indent=1))
        say(f"results: {path.relative_to(REPO)}")
        return 1 if any(result["errors"] for result in results.values()) else 0
    finally:
        if system is not None:
            say("stopping the system")
            system.stop()
