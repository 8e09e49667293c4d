"""Drill 6: the dashboard is slow, not dead. Every report it serves answers 10 s late (the delay
failpoint, salesync_common/failpoints.py) while 16 terminals place and pay orders and as many owners as
the BFF has threads keep opening the pie and line charts. The BFF's deadlines and bulkheads should keep the POS
untouched (goal: 0 errors, p99 under 100 ms) and answer every report at once with a JSON 503
upstream_busy, or with a JSON 504 when its deadline (SALESYNC_REPORT_DEADLINE_MS) runs out; no report
waits for the dashboard. Afterwards the dashboard starts again without the delay.

Environment: DRILL_SLOW_SECONDS=30 (how long the dashboard stays slow), DRILL_SLOW_TERMINALS=16,
DRILL_DASHBOARD_LATE_MS=10000 (0: the same load with a dashboard on time, for comparison).
"""
from __future__ import annotations

import datetime
import os
import statistics
import threading
import zoneinfo
from http import HTTPStatus

from .load import Client, Records, Terminal

MAX_TABLE = 99
POS_P99_GOAL_MS = 100.0
REPORT_PAUSE_SECONDS = 0.5  # an owner's pause between two charts
# The extra terminals work one table each, 80 to 99 (the highest table is 99): clear of the steady load's
# tables (10 + 4 per terminal) and drill 5's (60-79).
FIRST_EXTRA_TABLE = 80
# A report answer that failed fast and said why, in JSON.
FAST_FAILURES = {(HTTPStatus.SERVICE_UNAVAILABLE, "upstream_busy"), (HTTPStatus.GATEWAY_TIMEOUT, "deadline_exceeded")}


class ReportOwner(threading.Thread):
    """Opens the pie chart and the line chart of the last week, one after the other, until stopped."""

    def __init__(self, number: int, client: Client, stop: threading.Event):
        super().__init__(name=f"report-owner-{number}", daemon=True)
        self.client = client
        self.stop = stop

    def run(self) -> None:
        today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()
        period = f"start={today - datetime.timedelta(days=6)}&end={today}"
        for n in range(10_000):
            if self.stop.is_set():
                return
            self.client.get(f"/bff/{'sales' if n % 2 == 0 else 'volumes'}?{period}")
            self.stop.wait(REPORT_PAUSE_SECONDS)


def p99(milliseconds: list[float]) -> float | None:
    if not milliseconds:
        return None
    # quantiles() needs two values; one value is its own p99.
    return round(statistics.quantiles(milliseconds * 2, n=100, method="inclusive")[98], 1)


def outcomes(answers: list[tuple[float, int, str | None]]) -> dict[str, int]:
    """How many answers of each status and error code ("504 deadline_exceeded": 3)."""
    counted: dict[str, int] = {}
    for _, status, error in answers:
        label = f"{status} {error or ''}".strip()
        counted[label] = counted.get(label, 0) + 1
    return counted


def figures(records: Records, phase: str) -> dict:
    """The POS's and the reports' answers in this phase: counts, errors, outcomes and p50/p99 in ms."""
    with records.lock:
        pos = list(records.answers.get((phase, "pos"), []))
        reports = list(records.answers.get((phase, "report"), []))
    pos_ms = [ms for ms, _, _ in pos]
    return {
        "pos_calls": len(pos),
        "pos_errors": sum(1 for _, status, _ in pos if not HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES),
        "pos_p50_ms": round(statistics.median(pos_ms), 1) if pos_ms else None,
        "pos_p99_ms": p99(pos_ms),
        "pos_failures": outcomes([answer for answer in pos
                                  if not HTTPStatus.OK <= answer[1] < HTTPStatus.MULTIPLE_CHOICES]),
        "report_calls": len(reports),
        "report_outcomes": outcomes(reports),
        "reports_not_failing_fast": sum(1 for _, status, error in reports if (status, error) not in FAST_FAILURES
                                        and not HTTPStatus.OK <= status < HTTPStatus.MULTIPLE_CHOICES),
        "report_p50_ms": round(statistics.median([ms for ms, _, _ in reports]), 1) if reports else None,
        "report_p99_ms": p99([ms for ms, _, _ in reports]),
        "report_max_ms": round(max(ms for ms, _, _ in reports), 1) if reports else None,
    }


def slow_dashboard(drills) -> dict:
    """Run the slow-dashboard window (drills is the drills.__main__.Drills running this drill)."""
    seconds = float(os.environ.get("DRILL_SLOW_SECONDS") or 30)
    late_ms = int(os.environ.get("DRILL_DASHBOARD_LATE_MS") or 10_000)
    terminals = int(os.environ.get("DRILL_SLOW_TERMINALS") or 16)
    system = drills.system
    system.kill("dashboard")
    system.start_service("dashboard", env={"SALESYNC_FAILPOINT_DELAYS": f"dashboard.report={late_ms}"})
    stop = threading.Event()
    extra = [Terminal(FIRST_EXTRA_TABLE - 10 + n, drills.new_client(), drills.items, drills.records, stop=stop,
                      paused=drills.paused, tables_per_terminal=1)
             for n in range(min(max(0, terminals - len(drills.terminals)), MAX_TABLE + 1 - FIRST_EXTRA_TABLE))]
    # As many owners as the BFF has threads: without bulkheads their reports could hold every one.
    owner_count = system.workers * system.threads
    owners = [ReportOwner(n, Client(drills.base, drills.token, drills.records, kind="report"), stop)
              for n in range(owner_count)]
    for thread in [*extra, *owners]:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in [*extra, *owners]:
        thread.join(timeout=60)
    system.kill("dashboard")
    system.restart("dashboard")
    found = figures(drills.records, drills.records.phase)
    goal = found["pos_errors"] == 0 and found["reports_not_failing_fast"] == 0
    return {"dashboard_late_ms": late_ms, "slow_s": seconds, "terminals": len(drills.terminals) + len(extra),
            "report_owners": owner_count, **found,
            "pos_p99_goal_met": found["pos_p99_ms"] is not None and found["pos_p99_ms"] < POS_P99_GOAL_MS,
            "failed": None if goal else "POS errors, or a report that did not fail fast with a JSON 503/504"}


def summary(detail: dict) -> str:
    return (f"POS {detail['pos_calls']} calls, {detail['pos_errors']} errors {detail['pos_failures']}, "
            f"p50 {detail['pos_p50_ms']} ms, "
            f"p99 {detail['pos_p99_ms']} ms (goal < {POS_P99_GOAL_MS:.0f} ms: "
            f"{'met' if detail['pos_p99_goal_met'] else 'missed'}); reports {detail['report_calls']} calls "
            f"{detail['report_outcomes']}, p50 {detail['report_p50_ms']} ms, p99 {detail['report_p99_ms']} ms, "
            f"max {detail['report_max_ms']} ms, not failing fast: {detail['reports_not_failing_fast']}")
