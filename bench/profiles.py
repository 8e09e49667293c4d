"""py-spy over the services while a load runs (BENCH_PROFILE=bff,order or `all`): start the
recorders, then sum each raw profile up into the frames with the most self time and the project's
own functions with the most inclusive time, as shares of the samples."""
from __future__ import annotations

import collections
import os
import pathlib
import shutil
import subprocess
import sys

PROFILE_RATE = 100  # samples a second
PROJECT_PARTS = ("_service/", "salesync_common/", "bff/")


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def start_profiles(system, names: list[str], seconds: int, folder: pathlib.Path, *, prefix: str = "") -> list:
    """One py-spy recorder per named service (its gunicorn master and workers); [(name, process, output)]."""
    spy = shutil.which("py-spy", path=os.path.dirname(sys.executable)) or shutil.which("py-spy")
    if not spy:
        say("BENCH_PROFILE is set but py-spy is not installed (pip install -r bench/requirements.txt)")
        return []
    if names == ["all"]:
        names = list(system.ports)
    started = []
    for name in names:
        output = folder / f"{prefix}{name}.txt"
        process = subprocess.Popen(
            [spy, "record", "--pid", str(system.processes[name].pid), "--subprocesses", "--nonblocking",
             "--rate", str(PROFILE_RATE), "--duration", str(seconds), "--format", "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        started.append((name, process, output))
    return started


def wait_for_profiles(profiles: list, *, finished: bool) -> None:
    for _, process, _ in profiles:
        try:
            process.wait(timeout=30 if finished else 0.1)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def summarise_profile(path: pathlib.Path, top: int = 12) -> dict:
    """Self time (leaf frames) and inclusive time of the project's own functions, as shares of samples
    (idle samples, a thread waiting on a socket or a lock, are py-spy's --nonblocking `idle` frames and
    are counted: the shares are of the time sampled, not of the CPU)."""
    if not path.exists():
        return {}
    self_time: collections.Counter = collections.Counter()
    inclusive: collections.Counter = collections.Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        self_time[_short(frames[-1])] += samples
        for frame in set(frames):
            if any(part in frame for part in PROJECT_PARTS):
                inclusive[_short(frame)] += samples
    if not total:
        return {}
    share = lambda counter: [(frame, round(100 * n / total, 1)) for frame, n in counter.most_common(top)]  # noqa: E731
    return {"samples": total, "self_pct": share(self_time), "project_inclusive_pct": share(inclusive)}


def print_profile(name: str, summary: dict) -> None:
    if not summary:
        return
    print(f"\nprofile of {name} ({summary['samples']} samples): most self time")
    for frame, pct in summary["self_pct"][:8]:
        print(f"  {pct:5.1f}%  {frame}")
    print("  project functions, inclusive:")
    for frame, pct in summary["project_inclusive_pct"][:8]:
        print(f"  {pct:5.1f}%  {frame}")


def _short(frame: str) -> str:
    """`function (path/to/file.py:12)` -> `function (file.py:12)`, with the package for project files."""
    function, _, where = frame.partition(" (")
    where = where.rstrip(")")
    parts = where.split("/")
    short = "/".join(parts[-2:]) if len(parts) > 1 else where
    return f"{function} ({short})"
