"""`make bench`: Salesync under the load of POS terminals and owners; latency per route and the
internal calls each route makes. Results: the printed table and bench/results/bench-<time>.json.

Environment (all optional):
  BENCH_MODE=all        `all` (the default): pos, saturation, knee, history and consulting below, one
                        after the other (about 15 minutes). `pos`: the terminals and owners below.
                        `saturation`: the four mixes of the
                        original project's public load tests (categories, items, orders, sales; see
                        bench/saturation.py), one after the other, closed loop with no pause, each for
                        BENCH_DURATION (default 20 s in this mode, after BENCH_WARMUP, default 3 s);
                        prints per mix req/s, p50/p99, errors and CPU milliseconds per request of
                        each process group (each service's gunicorn master + workers, PostgreSQL's
                        server and backends, the broker, the load generator) and how busy the machine
                        was beside them
                        `history`: POS p99 on an empty database, then a year of history in the
                        measured store and BENCH_STORES other stores (bench/history.py): p50/p95 of
                        the 365-day /bff/sales and /bff/volumes, and POS p99 again
                        `hop`: a menu read through the BFF against a bare two-process Flask hop in the
                        same run (bench/hop.py; BENCH_HOP_ROUNDS=2 rounds of BENCH_DURATION, default
                        10 s, each). `knee`: the POS load at BENCH_KNEE_STEPS terminals (default
                        16,32,48,64,96,128; BENCH_DURATION default 30 s each, BENCH_OWNERS default 0)
                        until POS p99 reaches 50 ms (bench/knee.py). Modes are registered in MODES below
                        `consulting`: 31-day consulting jobs without a model over 62 days of history,
                        worked out by the real worker; prints each job's worker time (bench/consulting_job.py;
                        BENCH_CONSULTING_JOBS=5 jobs, BENCH_ORDERS_PER_DAY as below)
  BENCH_USERS=32        saturation, hop: concurrent users, each sending its next request at once
  BENCH_BASE_URL        a running system's BFF instead of starting one (then BENCH_DATABASE_URL or
                        DATABASE_URL for the history, and BENCH_LOG_DIR, default .salesync/logs, for
                        the internal-call counts; without them those parts are skipped)
  BENCH_TERMINALS=16    concurrent POS terminals       BENCH_OWNERS=4    owners on the dashboard
  BENCH_DURATION=60     seconds of measured load       BENCH_WARMUP=5    seconds of load not counted
  BENCH_THINK=0.5,1.5   a terminal's pause between screens (seconds, uniform)
  BENCH_DAYS=90, BENCH_ORDERS_PER_DAY=200   the seeded history (BENCH_DAYS=365 in the history mode)
  BENCH_STORES=100      history: other stores in the database, each with a shorter history
  BENCH_PROFILE=bff,order   py-spy the named services (or `all`) while the load runs; top frames go
                        into the JSON and are printed
  BENCH_STRICT=1        exit 1 when a latency target is missed (errors always exit 1)
  SALESYNC_WORKERS=2, SALESYNC_THREADS=4   gunicorn workers x threads per service (as `make run`)
"""
from __future__ import annotations

import collections
import datetime
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import psutil

from .consulting_job import run_consulting
from .history import run_history
from .hop import run_hop
from .knee import run_knee
from .profiles import print_profile, start_profiles, summarise_profile, wait_for_profiles
from .saturate import process_roots, run_saturation
from .seed import DAYS, ORDERS_PER_DAY, check_history, create_menu, sign_up, terminal_stores, write_history
from .system import REPO, StopRequested, System, stop_on_sigterm

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
TARGETS = {"pos": ("p99_ms", 50.0), "report31": ("p95_ms", 100.0)}
CORES_SHOWN_FROM = 0.01  # a process group using less of a core is left out of the printed CPU line


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def settings() -> dict:
    mode = os.environ.get("BENCH_MODE") or "all"
    if mode not in MODES:
        raise SystemExit(f"BENCH_MODE={mode}: not one of {', '.join(MODES)}")
    saturation = mode in ("saturation", "hop")
    think = [float(x) for x in (os.environ.get("BENCH_THINK") or "0.5,1.5").split(",")]
    return {
        "base_url": os.environ.get("BENCH_BASE_URL", "").rstrip("/"),
        "terminals": env_int("BENCH_TERMINALS", 16),
        "owners": env_int("BENCH_OWNERS", 4),
        "mode": mode,
        "users": env_int("BENCH_USERS", 32),
        "duration": env_int("BENCH_DURATION", {"saturation": 20, "hop": 10}.get(mode, 60)),
        "warmup": env_int("BENCH_WARMUP", 3 if saturation else 5),
        "think": think,
        "days": env_int("BENCH_DAYS", 365 if mode == "history" else DAYS),
        "stores": env_int("BENCH_STORES", 100),
        "orders_per_day": env_int("BENCH_ORDERS_PER_DAY", ORDERS_PER_DAY),
        "profile": [s for s in (os.environ.get("BENCH_PROFILE") or "").split(",") if s],
        "strict": os.environ.get("BENCH_STRICT") == "1",
        "tables_per_terminal": 5,
        "consulting_timeout": 30,
        "tag": uuid.uuid4().hex[:8],
    }


# ---- internal calls from the access logs --------------------------------------------------------
def log_offsets(folder: pathlib.Path) -> dict[str, int]:
    return {path.name: path.stat().st_size for path in folder.glob("*.log")}


def count_access_lines(folder: pathlib.Path, tag: str, offsets: dict[str, int]) -> dict[str, collections.Counter]:
    """Per route code: access-log lines by service, for the request ids of this run."""
    prefix = f"bn{tag}x"
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for path in folder.glob("*.log"):
        with open(path, "rb") as log:
            log.seek(offsets.get(path.name, 0))
            for raw in log:
                if prefix.encode() not in raw:
                    continue
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue
                request_id = line.get("request_id") or ""
                if line.get("logger") == "salesync.access" and request_id.startswith(prefix):
                    counts[request_id.split("x")[1]][line.get("service", path.stem)] += 1
    return counts


# ---- CPU ----------------------------------------------------------------------------------------
def cpu_snapshot(system: System | None, load_pid: int) -> dict:
    """CPU seconds so far: the machine (busy, all cores), and each process group of the system."""
    times = psutil.cpu_times()
    snapshot = {"machine_busy": times.user + times.nice + times.system + times.irq + times.softirq + times.steal,
                "machine_all": sum(times)}
    roots = {"load generator": load_pid, **process_roots(system)}
    for name, pid in roots.items():
        try:
            root = psutil.Process(pid)
            total = 0.0
            for process in [root, *root.children(recursive=True)]:
                try:
                    cpu = process.cpu_times()
                    total += cpu.user + cpu.system
                except psutil.Error:
                    pass
            snapshot[name] = total
        except psutil.Error:
            continue
    return snapshot


def cpu_used(before: dict, after: dict, seconds: float) -> dict:
    """Cores used on average over the window, per process group and for the machine."""
    used = {name: round((after[name] - before[name]) / seconds, 2)
            for name in after if name in before and not name.startswith("machine")}
    used = dict(sorted(used.items(), key=lambda item: -item[1]))
    busy = (after["machine_busy"] - before["machine_busy"]) / max(after["machine_all"] - before["machine_all"], 1e-9)
    return {"machine_busy_pct": round(100 * busy, 1), "cores_used": used}


# ---- the table --------------------------------------------------------------------------------------
def verdicts(routes: dict) -> list[str]:
    missed = []
    for name, route in routes.items():
        if route["errors"]:
            missed.append(f"{name}: {route['errors']} errors")
        target = TARGETS.get(route["group"])
        if target and route["requests"]:
            figure, limit = target
            if route[figure] is not None and route[figure] >= limit:
                missed.append(f"{name}: {figure[:-3]} {route[figure]} ms (target < {limit:.0f} ms)")
    return missed


def print_table(routes: dict) -> None:
    header = f"{'route':<36}{'reqs':>6}{'errs':>6}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'calls':>7}"
    print(header)
    print("-" * len(header))
    for name, route in routes.items():
        if not route["requests"]:
            continue
        def ms(value):
            return "-" if value is None else f"{value:.0f}"
        calls = route.get("internal_calls")
        print(f"{name:<36}{route['requests']:>6}{route['errors']:>6}{route['rps']:>8.1f}{ms(route['p50_ms']):>8}"
              f"{ms(route['p95_ms']):>8}{ms(route['p99_ms']):>8}{ms(route['max_ms']):>8}"
              f"{'-' if calls is None else f'{calls:.2f}':>7}")
    print("(latencies in ms at the client; calls = internal HTTP calls per request, from the services' access logs)")


def seed(config: dict, base: str, database_url: str) -> tuple:
    """A store with a menu and, given the database, its history; returns (api, items, history or None)."""
    seeding = time.monotonic()
    api, store_id, username = sign_up(base)
    items = create_menu(api)
    history = None
    if database_url:
        history = write_history(database_url, store_id=store_id, items=items, days=config["days"],
                                orders_per_day=config["orders_per_day"])
        check_history(api, history["revenue"], days=config["days"])
    else:
        say("no database URL: the store has a menu but no history (reports read empty days)")
    say(f"seeded store {store_id} ({username}): {len(items)} items in 6 categories"
        + (f", {history['orders']} paid orders over {history['days']} days" if history else "")
        + f" in {time.monotonic() - seeding:.1f} s")
    return api, items, history


def run_load(config: dict, work: pathlib.Path, system: System | None, load_config: dict) -> tuple:
    """The load process, with the profilers and the CPU window beside it; returns
    (its measurements or None when it failed, the profiles, the CPU used or None)."""
    config_path, result_path = work / "load.json", work / "load-result.json"
    config_path.write_text(json.dumps(load_config))
    say(f"load: {config['terminals']} POS terminals + {config['owners']} owners, {config['warmup']} s warm-up, "
        f"{config['duration']} s measured")
    load = subprocess.Popen([sys.executable, "-m", "bench.load", str(config_path), str(result_path)],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    profiles = []
    finished = False
    cpu = None
    try:
        time.sleep(config["warmup"] + 0.5)
        if config["profile"] and system is not None:
            profiles = start_profiles(system, config["profile"], config["duration"], work)
        before, window = cpu_snapshot(system, load.pid), time.monotonic()
        try:
            load.wait(timeout=config["duration"] - 1)
        except subprocess.TimeoutExpired:
            cpu = cpu_used(before, cpu_snapshot(system, load.pid), time.monotonic() - window)
        load.wait(timeout=config["duration"] + 90)
        finished = True
    finally:
        if load.poll() is None:
            load.terminate()
            try:
                load.wait(timeout=10)
            except subprocess.TimeoutExpired:
                load.kill()
        wait_for_profiles(profiles, finished=finished)
    if load.returncode != 0 or not result_path.exists():
        say(f"the load process failed (exit code {load.returncode})")
        return None, profiles, cpu
    return json.loads(result_path.read_text()), profiles, cpu


def add_internal_calls(routes: dict, counts: dict[str, collections.Counter]) -> None:
    """Per route: the internal calls each request made, from the access lines counted per service."""
    for route in routes.values():
        by_service = counts.get(route["code"], collections.Counter())
        at_bff = by_service.pop("bff", 0)
        route["bff_requests_logged"] = at_bff
        route["internal_calls_by_service"] = ({s: round(n / at_bff, 2) for s, n in sorted(by_service.items())}
                                              if at_bff else {})
        route["internal_calls"] = round(sum(by_service.values()) / at_bff, 2) if at_bff else None


def print_results(routes: dict, missed: list[str], profile_summaries: dict, cpu: dict | None) -> None:
    print()
    print_table(routes)
    for name, summary in profile_summaries.items():
        print_profile(name, summary)
    if cpu:
        used = ", ".join(f"{name} {n:.2f}" for name, n in cpu["cores_used"].items() if n >= CORES_SHOWN_FROM)
        print(f"CPU over the measured load: machine {cpu['machine_busy_pct']}% busy ({os.cpu_count()} cores); "
              "cores used: " + used)
    print()
    if missed:
        say("targets MISSED: " + "; ".join(missed))
    else:
        say("targets met: POS p99 < 50 ms, 31-day reports p95 < 100 ms, no errors")


def run(config: dict, work: pathlib.Path) -> int:
    base = config["base_url"]
    system = None if base else System()
    try:
        if system is None:
            database_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
            log_dir = pathlib.Path(os.environ.get("BENCH_LOG_DIR") or REPO / ".salesync" / "logs")
            say(f"using the running system at {base}")
        else:
            system.start()
            base, database_url, log_dir = system.urls["bff"], system.database_url, system.logs

        api, items, history = seed(config, base, database_url)
        offsets = log_offsets(log_dir) if log_dir.is_dir() else {}
        load_config = {**config, "base_url": base, "token": api.token,
                       "items": [{"item_id": item["item_id"]} for item in items]}
        load_config["terminal_stores"] = terminal_stores(
            base, {"token": api.token, "items": load_config["items"]}, terminals=config["terminals"],
            tables_per_terminal=config["tables_per_terminal"])
        measured, profiles, cpu = run_load(config, work, system, load_config)
        if measured is None:
            return 2
        routes = measured["routes"]

        time.sleep(1)  # the last access lines
        add_internal_calls(routes, count_access_lines(log_dir, config["tag"], offsets) if log_dir.is_dir() else {})
        missed = verdicts(routes)
        profile_summaries = {name: summarise_profile(output) for name, _, output in profiles}
        print_results(routes, missed, profile_summaries, cpu)

        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        result = {
            "when": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "system": "started by the bench" if system else f"running at {base}",
            "machine": {"cpus": os.cpu_count()},
            "gunicorn": {"workers": system.workers, "threads": system.threads} if system else None,
            "load": {key: config[key] for key in ("terminals", "owners", "duration", "warmup", "think",
                                                  "tables_per_terminal")},
            "measured_s": measured["elapsed_s"],
            "seed": history,
            "cpu": cpu,
            "targets": {"pos_p99_ms": 50, "report31_p95_ms": 100, "errors": 0},
            "missed": missed,
            "routes": routes,
            "profiles": profile_summaries,
        }
        path = RESULTS / f"bench-{stamp}.json"
        path.write_text(json.dumps(result, ensure_ascii=False, indent=1))
        say(f"results: {path.relative_to(REPO)}")
        errors = sum(route["errors"] for route in routes.values())
        if errors:
            return 1
        return 1 if missed and config["strict"] else 0
    finally:
        if system is not None:
            say("stopping the system")
            system.stop()


# BENCH_MODE -> run(config, work folder) -> exit code. A mode of its own goes in here beside these.
MODES = {
    "pos": run,
    "saturation": run_saturation,
    "hop": run_hop,
    "knee": lambda config, work: run_knee(config, work, seed=seed, run_load=run_load),
    "history": run_history,
    "consulting": lambda config, work: run_consulting(config),
}
# `make bench` with no BENCH_MODE: each of these in turn, each with its own defaults.
ALL_MODES = ("pos", "saturation", "knee", "history", "consulting")


def run_all(config: dict, work: pathlib.Path) -> int:
    """Every figure the README's performance section quotes, one mode after the other; the worst exit code."""
    codes = {}
    for mode in ALL_MODES:
        say(f"==== BENCH_MODE={mode} ({len(codes) + 1} of {len(ALL_MODES)})")
        os.environ["BENCH_MODE"] = mode
        try:
            folder = work / mode
            folder.mkdir()
            codes[mode] = MODES[mode](settings(), folder)
        finally:
            os.environ["BENCH_MODE"] = "all"
    say("modes and exit codes: " + ", ".join(f"{mode} {code}" for mode, code in codes.items()))
    return max(codes.values())


MODES["all"] = run_all


def main() -> int:
    stop_on_sigterm()
    config = settings()
    work = pathlib.Path(tempfile.mkdtemp(prefix="salesync-bench-run-"))
    started = time.monotonic()
    try:
        return MODES[config["mode"]](config, work)
    except (KeyboardInterrupt, StopRequested):
        say("interrupted; everything it started is stopped")
        return 130
    finally:
        shutil.rmtree(work, ignore_errors=True)
        say(f"done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
