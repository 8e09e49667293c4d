"""The BFF decides the client address (the socket peer, or the N-th X-Forwarded-For entry from the
right behind N trusted proxies) and the store service throttles password guesses by it."""
import uuid

import pytest

from bff.app import create_app
from bff.app.client_address import decided_client_address
from salesync_common.settings import ConfigError, Settings
from testsupport.settings import settings_for_tests

from .conftest import ContractClient


@pytest.mark.parametrize("forwarded_for,trusted,expected", [
    (None, 0, "10.0.0.5"),
    ("203.0.113.7", 0, "10.0.0.5"),                       # no proxy trusted: a client's header is ignored
    ("203.0.113.7", 1, "203.0.113.7"),
    ("1.2.3.4, 203.0.113.7", 1, "203.0.113.7"),           # the client prepended a lie; the proxy's entry wins
    ("1.2.3.4, 203.0.113.7, 10.1.1.1", 2, "203.0.113.7"),
    (" 2001:db8::1 ,10.1.1.1", 2, "2001:db8::1"),
    ("203.0.113.7", 3, "203.0.113.7"),                    # fewer entries than proxies: the furthest one seen
    ("", 1, "10.0.0.5"),
    ("not-an-address", 1, "10.0.0.5"),                    # never a bucket a client names
])
def test_the_client_address_is_the_peer_or_the_trusted_proxies_entry(forwarded_for, trusted, expected):
    assert decided_client_address(peer="10.0.0.5", forwarded_for=forwarded_for, trusted_proxies=trusted) == expected


def test_trusted_proxies_is_a_setting_of_at_least_zero():
    assert settings_for_tests("bff", None).trusted_proxies == 0
    with pytest.raises(ConfigError, match="SALESYNC_TRUSTED_PROXIES"):
        Settings.from_env("bff", env={"SALESYNC_TRUSTED_PROXIES": "-1"})


@pytest.fixture
def behind_one_proxy(backends):
    app = create_app(settings_for_tests("bff", None, service_urls=backends, trusted_proxies=1))
    app.test_client_class = ContractClient
    return app.test_client()


def sign_up(client):
    form = {"username": f"addr{uuid.uuid4().hex[:10]}", "password": "Passw0rd!23", "owner_name": "홍길동",
            "phone": "01012345678", "store_name": "주소가게", "address": "서울시 중구", "store_type": "일반음식점"}
    assert client.post("/stores/", json=form).status_code == 201
    return form


def test_a_locked_pair_does_not_lock_the_owner_out_from_another_address(behind_one_proxy):
    client = behind_one_proxy
    form = sign_up(client)
    attacker = {"X-Forwarded-For": "198.51.100.23, 203.0.113.200"}  # the proxy saw 203.0.113.200
    wrong = {"username": form["username"], "password": "Wr0ngPass!!"}
    right = {"username": form["username"], "password": form["password"]}
    for _ in range(5):
        assert client.post("/stores/login", json=wrong, headers=attacker).status_code == 400

    locked = client.post("/stores/login", json=right, headers={"X-Forwarded-For": "203.0.113.200"})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0

    owner = client.post("/stores/login", json=right, headers={"X-Forwarded-For": "203.0.113.201"})
    assert owner.status_code == 200
