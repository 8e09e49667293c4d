"""The liveness file of the worker processes, and the probe that reads it."""
import os
import subprocess
import sys
import time

from salesync_common.liveness import Liveness
from salesync_common.migrate import REPO_ROOT


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def probe(path, seconds=5):
    return subprocess.run([sys.executable, "-m", "salesync_common.liveness", str(path), str(seconds)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=False)


def make_old(path, seconds):
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_the_probe_passes_while_every_loop_goes_round_and_fails_once_one_is_stuck(tmp_path):
    alive = tmp_path / "alive"
    clock = Clock()
    liveness = Liveness(alive, clock=clock)
    liveness.expect("jobs", 60)
    liveness.expect("relay", 10)

    liveness.beat("jobs")
    assert probe(alive).returncode == 0

    # The relay stops going round; the job loop goes on beating.
    for _ in range(30):
        clock.now += 1
        liveness.beat("jobs")
    assert liveness.stalled() == ["relay"]
    make_old(alive, 20)
    liveness.beat("jobs")
    failed = probe(alive)
    assert failed.returncode == 1 and "older than 5 s" in failed.stderr

    clock.now += 1
    liveness.beat("relay")  # it came back
    assert liveness.stalled() == []
    assert probe(alive).returncode == 0


def test_the_probe_fails_before_the_first_beat_and_on_bad_arguments(tmp_path):
    assert probe(tmp_path / "never-written").returncode == 1
    assert subprocess.run([sys.executable, "-m", "salesync_common.liveness"], cwd=REPO_ROOT,
                          capture_output=True, timeout=30, check=False).returncode == 2


def test_without_a_file_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv("SALESYNC_LIVENESS_FILE", raising=False)
    liveness = Liveness.from_env()
    liveness.expect("loop", 1)
    liveness.beat("loop")
    assert liveness.path is None and list(tmp_path.iterdir()) == []
