"""Consulting jobs through the BFF (API.md §7, Decision 6): start one, then poll its state."""
import datetime
import zoneinfo

import pytest

from .conftest import Pos

TODAY = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()


@pytest.mark.parametrize("start_path, state_path", [("/consulting/", "/consulting/"),
                                                    ("/consulting/test", "/consulting/test/")])
def test_a_consulting_job_starts_and_its_state_can_be_polled(consulting_app, start_path, state_path):
    terminal = Pos(consulting_app.test_client())
    start = TODAY - datetime.timedelta(days=6)
    job = terminal.call("GET", f"{start_path}?start={start}&end={TODAY}")
    assert job["req_id"]
    state = terminal.call("GET", f"{state_path}{job['req_id']}")
    assert state["result"] in ("not completed", "success", "failed")


def test_another_store_cannot_poll_my_consulting(consulting_app):
    mine, theirs = Pos(consulting_app.test_client()), Pos(consulting_app.test_client())
    job = mine.call("GET", f"/consulting/test?start={TODAY}&end={TODAY}")
    assert theirs.request("GET", f"/consulting/test/{job['req_id']}").status_code == 404
