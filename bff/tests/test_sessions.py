"""The BFF refuses tokens a password change ended, with the store's record kept at most 5 s per store."""
import time

import pytest

from bff.app import create_app
from bff.app.sessions import PasswordChanges
from salesync_common.contracts.stores import PasswordChange
from salesync_common.errors import UpstreamError
from salesync_common.service_client import ServiceReply
from salesync_common.tokens import ended_by_password_change
from testsupport.settings import settings_for_tests
from testsupport.shop import Shop, TestClient

from .conftest import ContractClient


class StoreService:
    """Answers the record as the store service would, and counts the calls."""

    def __init__(self):
        self.record = {"store_id": 7, "changed_at": None, "changed_by": None}
        self.calls = 0
        self.down = False

    def get(self, service, path):
        self.calls += 1
        if self.down:
            raise UpstreamError("the store service cannot be reached", status=503)
        assert (service, path) == ("store", "/internal/stores/7/password-change")
        return ServiceReply(200, dict(self.record), {}, "store")


def test_the_record_is_kept_five_seconds_then_asked_again():
    now = [100.0]
    changes, store = PasswordChanges(max_age=5, clock=lambda: now[0]), StoreService()
    assert changes.record(client=store, store_id=7).changed_at is None
    store.record.update(changed_at=time.time(), changed_by="abc")
    now[0] += 4.9
    assert changes.record(client=store, store_id=7).changed_by is None and store.calls == 1
    now[0] += 0.2
    assert changes.record(client=store, store_id=7).changed_by == "abc" and store.calls == 2


def test_a_store_service_away_for_a_moment_keeps_the_last_record_but_none_is_never_guessed():
    now = [100.0]
    changes, store = PasswordChanges(max_age=5, clock=lambda: now[0]), StoreService()
    changes.record(client=store, store_id=7)
    store.down, now[0] = True, 200.0
    assert changes.record(client=store, store_id=7) == PasswordChange(store_id=7)
    with pytest.raises(UpstreamError):
        PasswordChanges(max_age=5).record(client=store, store_id=7)


@pytest.mark.parametrize("claims,ended", [
    ({"iat": 999, "jti": "other"}, True),          # issued before the change
    ({"iat": 999, "jti": "changer"}, False),       # the token that made the change
    ({"iat": 1000, "jti": "other"}, False),        # the same second: a login right after the change lives
    ({"iat": 1001, "jti": "other"}, False),
])
def test_a_token_issued_before_the_change_is_ended_but_the_changers(claims, ended):
    assert ended_by_password_change(claims, changed_at=1000.4, changed_by="changer") is ended
    assert ended_by_password_change(claims, changed_at=None, changed_by=None) is False


def test_through_the_bff_an_ended_token_is_refused_on_another_services_route(backends):
    app = create_app(settings_for_tests("bff", None, service_urls=backends, session_check_seconds=0))
    app.test_client_class = ContractClient
    client = app.test_client()
    pos = Shop(TestClient(client)).sign_up()
    thief = {"Authorization": "Bearer " + client.post("/stores/login", json={
        "username": pos.form["username"], "password": pos.form["password"]}).get_json()["access_token"]}
    assert client.get("/categories/", headers=thief).status_code == 200
    time.sleep(1.1)  # tokens count whole seconds
    assert client.post("/stores/pwcheck", json={"password": pos.form["password"]}, headers=pos.headers
                       ).get_json()["result"] == "success"

    assert client.put(f"/stores/{pos.store_id}", json={"password": "N3wPassw0rd!"}, headers=pos.headers
                      ).status_code == 200

    refused = client.get("/categories/", headers=thief)
    assert refused.status_code == 401 and refused.get_json()["error"] == "session_ended"
    assert client.get("/categories/", headers=pos.headers).status_code == 200
    assert client.get("/orders/unpaids", headers=pos.headers).status_code == 200
