"""A slow (not dead) dashboard: the POS keeps its threads and answers; reports fail fast with a JSON 503 or 504."""
import concurrent.futures
import datetime
import time
import zoneinfo

import pytest

from bff.app.bulkheads import Bulkheads
from salesync_common.deadlines import DEADLINE_HEADER
from salesync_common.errors import UpstreamError

from .conftest import Pos, bff_app

TODAY = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()
REPORT = f"/bff/sales?start={TODAY}&end={TODAY}"
DASHBOARD_LATE_MS = 3000


@pytest.fixture
def slow_dashboard(backends, dashboard_service, monkeypatch):
    """The BFF in front of a dashboard that answers every report DASHBOARD_LATE_MS late (the delay failpoint)."""
    monkeypatch.setenv("SALESYNC_FAILPOINT_DELAYS", f"dashboard.report={DASHBOARD_LATE_MS}")
    return bff_app({**backends, "dashboard": dashboard_service.url}, report_deadline_ms=2000)


def wait_until(condition, seconds=5.0):
    limit = time.monotonic() + seconds
    while not condition() and time.monotonic() < limit:
        time.sleep(0.01)
    return condition()


def test_a_slow_dashboard_leaves_the_pos_answering_while_reports_fail_fast(slow_dashboard):
    pos = Pos(slow_dashboard.test_client())
    ids = pos.menu({"피자": {"포테이토 피자": 21000}})
    bulkheads = slow_dashboard.extensions["bff_bulkheads"]
    slots = bulkheads.slots["dashboard"]

    def report():
        started = time.monotonic()
        response = slow_dashboard.test_client().get(REPORT, headers=pos.headers)
        return response.status_code, response.get_json()["error"], response.headers, time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(max_workers=slots) as pool:
        held = [pool.submit(report) for _ in range(slots)]
        assert wait_until(lambda: bulkheads.in_use("dashboard") == slots)

        # Every slot is taken by a report the dashboard sits on: one more is refused after a short wait.
        status, error, headers, _ = report()
        assert (status, error) == (503, "upstream_busy")
        assert int(headers["Retry-After"]) > 0
        # The POS meanwhile: the menu, an order and its payment go through while those reports still wait.
        assert [c["category_name"] for c in pos.call("GET", "/categories/items")["categories"]] == ["피자"]
        placed = pos.call("POST", "/orders/", {"table_no": 1, "carts": [{"item_id": ids["포테이토 피자"],
                                                                          "quantity": 1}]})
        pos.call("POST", "/sales/", {"table_no": 1, "payment_type": "카드", "total_price": placed["total_price"]},
                 expect=201)
        assert not any(future.done() for future in held)

        answers = [future.result() for future in held]
    # The held reports end at their deadline (2 s) with a JSON 504, not when the dashboard answers (3 s).
    assert {(status, error) for status, error, _, _ in answers} == {(504, "deadline_exceeded")}
    assert all(seconds < DASHBOARD_LATE_MS / 1000 for *_, seconds in answers)
    assert bulkheads.in_use("dashboard") == 0


def test_a_deadline_a_browser_sends_is_ignored(client):
    pos = Pos(client)
    response = client.get("/stores/", headers={**pos.headers, DEADLINE_HEADER: "0"})
    assert response.status_code == 200


def test_a_burst_of_reports_waits_briefly_for_a_slot_a_healthy_dashboard_frees():
    bulkheads = Bulkheads({"dashboard": 1}, wait_ms=2000)

    def next_report():
        with bulkheads.slot("dashboard"):
            return time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        with bulkheads.slot("dashboard"):
            # The report holding the only slot ends in 100 ms; the next one waits for it instead of a 503.
            pending = pool.submit(next_report)
            time.sleep(0.1)
            released_at = time.monotonic()
        assert pending.result(timeout=5) >= released_at
    assert bulkheads.in_use("dashboard") == 0


def test_a_slot_just_taken_is_waited_for_then_refused_when_it_stays_taken():
    bulkheads = Bulkheads({"dashboard": 1}, wait_ms=200)
    with bulkheads.slot("dashboard"):
        started = time.monotonic()
        with pytest.raises(UpstreamError) as refused, bulkheads.slot("dashboard"):
            pass
        waited = time.monotonic() - started
    assert refused.value.status == 503 and refused.value.error == "upstream_busy"
    assert 0.15 <= waited < 2  # until the holder has run as long as the wait
    assert bulkheads.in_use("dashboard") == 0


def test_a_service_whose_slots_are_all_held_longer_than_the_wait_is_refused_at_once():
    bulkheads = Bulkheads({"dashboard": 1}, wait_ms=300)
    with bulkheads.slot("dashboard"):
        time.sleep(0.4)  # the holder is slow: it has run longer than the wait
        started = time.monotonic()
        with pytest.raises(UpstreamError), bulkheads.slot("dashboard"):
            pass
        assert time.monotonic() - started < 0.1
    assert bulkheads.in_use("dashboard") == 0


def test_a_freed_dashboard_slot_goes_to_a_waiting_report_even_while_a_consulting_request_waits_too():
    """The wake-up of a freed slot reaches a request waiting for that service, not one waiting for another
    service (still full), which would leave the report asleep until its whole wait is over."""
    bulkheads = Bulkheads({"dashboard": 1, "consulting": 1}, wait_ms=3000)

    def take(service):
        with bulkheads.slot(service):
            return time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool, bulkheads.slot("consulting"):
        with bulkheads.slot("dashboard"):
            consulting = pool.submit(take, "consulting")  # waits first: the first in line to be woken
            time.sleep(0.1)
            report = pool.submit(take, "dashboard")
            time.sleep(0.1)
            released_at = time.monotonic()
        assert report.result(timeout=5) - released_at < 1.0
    assert consulting.result(timeout=5) >= released_at
