"""`BENCH_MODE=hop make bench`: a menu read through the BFF against a bare two-process Flask hop.

The issue's yardstick: gunicorn A calling gunicorn B over HTTP (bench/hop_apps.py), with the same
server settings as every service (SALESYNC_WORKERS x SALESYNC_THREADS, gthread), the same closed-loop
load (BENCH_USERS users, no pause) and the same JSON (B answers the measured store's menu as the item
service gave it), in the same run: BFF, hop, BFF, hop (BENCH_HOP_ROUNDS rounds of BENCH_DURATION,
default 10 s, each), so a neighbour's burst lands on both. The store has a small menu, 6 categories
of 4 items (24). Prints req/s, p50/p99 and CPU ms per request of each, and the BFF's share of the hop.
"""
from __future__ import annotations

import datetime
import json
import os
import pathlib

from .saturate import RESULTS, process_roots, run_mix
from .seed import MENU, sign_up
from .system import REPO, System

SMALL_MENU = {category: {name: str(price) for name, price, _ in dishes[:4]} for category, dishes in MENU.items()}
HOP_APPS = {"hop-upstream": "bench.hop_apps:upstream", "hop-front": "bench.hop_apps:front"}
OURS = {"menu through the BFF": ("bff", "item", "store", "postgresql"), "bare hop": tuple(HOP_APPS)}


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def run_hop(config: dict, work: pathlib.Path) -> int:
    rounds = int(os.environ.get("BENCH_HOP_ROUNDS") or 2)
    system = System()
    try:
        system.start()
        shop, _, _ = sign_up(system.urls["bff"], prefix="hop")
        shop.build_menu(SMALL_MENU)
        menu = shop.call("GET", "/categories/items")
        reply_file = work / "menu.json"
        reply_file.write_text(json.dumps(menu, ensure_ascii=False))
        system.start_service("hop-upstream", wsgi=HOP_APPS["hop-upstream"], env={"HOP_REPLY_FILE": str(reply_file)})
        system.start_service("hop-front", wsgi=HOP_APPS["hop-front"],
                             env={"HOP_UPSTREAM_URL": system.urls["hop-upstream"]})
        say(f"a store with {sum(len(c['items']) for c in menu['categories'])} items in "
            f"{len(menu['categories'])} categories; the bare hop on {system.urls['hop-front']}")
        roots = process_roots(system)
        store = {"token": shop.token, "categories": [], "items_count": 0, "item_ids": []}
        targets = {"menu through the BFF": (system.urls["bff"], "/categories/items"),
                   "bare hop": (system.urls["hop-front"], "/hop")}
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        for _ in range(rounds):
            for name, (base, path) in targets.items():
                result = run_mix({**config, "base_url": base}, work, "read", [store], roots, system=system,
                                 extra={"read_route": name, "read_path": path})
                if result is None:
                    return 2
                runs[name].append(result)
        summary = summarise(runs)
        print_hop(summary)
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = RESULTS / f"hop-{stamp}.json"
        path.write_text(json.dumps({
            "when": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()},
            "gunicorn": {"workers": system.workers, "threads": system.threads},
            "users": config["users"], "duration": config["duration"], "rounds": rounds,
            "summary": summary, "runs": runs}, ensure_ascii=False, indent=1))
        say(f"results: {path.relative_to(REPO)}")
        return 1 if any(run["errors"] for results in runs.values() for run in results) else 0
    finally:
        say("stopping the system")
        system.stop()


def summarise(runs: dict[str, list[dict]]) -> dict:
    summary = {}
    for name, results in runs.items():
        requests = sum(result["requests"] for result in results)
        seconds = sum(result["elapsed_s"] for result in results)
        cpu = {}
        for result in results:
            for group, value in result["cpu_s"].items():
                cpu[group] = cpu.get(group, 0.0) + value
        busy = cpu.get("machine busy", 0.0)
        ours = sum(cpu.get(group, 0.0) for group in OURS[name])
        summary[name] = {
            "requests": requests, "errors": sum(result["errors"] for result in results),
            "rps": round(requests / max(seconds, 1e-9), 1),
            "rps_per_round": [result["rps"] for result in results],
            "p50_ms_per_round": [result["p50_ms"] for result in results],
            "p99_ms_per_round": [result["p99_ms"] for result in results],
            "cpu_ms_per_request": round(1000 * ours / max(requests, 1), 2),
            "cpu_ms_per_request_by_process": {group: round(1000 * cpu.get(group, 0.0) / max(requests, 1), 2)
                                              for group in OURS[name]},
            "other_processes_cores": round(max(0.0, busy - sum(v for g, v in cpu.items()
                                                                 if not g.startswith("machine"))) / seconds, 2),
        }
    bff, hop = summary["menu through the BFF"], summary["bare hop"]
    summary["bff_share_of_hop_pct"] = round(100 * bff["rps"] / max(hop["rps"], 1e-9), 1)
    return summary


def print_hop(summary: dict) -> None:
    print()
    header = (f"{'':<22}{'reqs':>7}{'req/s':>8}  {'req/s per round':<20}{'p99 ms per round':<20}"
              f"{'CPU ms/req':>11}{'others':>8}")
    print(header)
    print("-" * len(header))
    for name in OURS:
        row = summary[name]
        per_round = " / ".join(f"{x:.0f}" for x in row["rps_per_round"])
        p99s = " / ".join(f"{x:.0f}" for x in row["p99_ms_per_round"] if x is not None)
        print(f"{name:<22}{row['requests']:>7}{row['rps']:>8.1f}  {per_round:<20}{p99s:<20}"
              f"{row['cpu_ms_per_request']:>11.2f}{row['other_processes_cores']:>8.2f}")
    print("(CPU ms per request: the BFF, item and store services and PostgreSQL for the menu; A and B for the hop;"
          " others = cores of every process not in this system)")
    print(f"\nthe menu through the BFF at {summary['bff_share_of_hop_pct']}% of the bare hop's req/s "
          "(goal: 60% or more)")
