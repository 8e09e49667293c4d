"""Issue 13, points 2, 3 and 4 against the running services over real HTTP.

- 4, services prove who they are: each service's routes, internal and public, aimed at directly with
  only a store's token, answer 401; closing an order takes the sale service's own proof, so a store
  cannot pre-claim the sale id another store's payment is about to get.
- 2, login and password-check throttles, through a BFF behind one trusted proxy (SALESYNC_TRUSTED_PROXIES=1,
  the address the proxy appends to X-Forwarded-For is the client's): 5 failures per (username, address),
  20 per address over any usernames, 5 wrong password checks per (store, address), each a 429 with
  Retry-After; ten guesses at once cannot all be tried; a login that waits past the lock_timeout for its
  address's turn is a 503 with Retry-After: 1.
- 3, a password change ends the other sessions, through the BFF: within 5 s every older token of the
  store answers 401 on every protected route of the route table; the token that changed it keeps the
  POS's home screen working.
- A password change takes the current password, through the BFF: PUT /stores/<id> with a new password is
  a 403 unless the same token answered POST /stores/pwcheck rightly within 10 minutes (the POS's
  InfoPage, then InfoNpwPage); the proof is used up by the change; a time-zone change needs none.
- Sign-ups per address, through a BFF behind one trusted proxy in front of a store service with the
  default limit (the session's runs with a high one): the 11th sign-up from one address within an hour
  is a 429 with Retry-After, while another address still signs up.
"""
from __future__ import annotations

import itertools
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import requests

from bff.app import create_app
from bff.app.routes import ROUTES
from bff.app.urls import PATH_PARAMETER
from testsupport.postgres import libpq_url
from testsupport.served import ServedApp, ServiceProcess, local_service_urls
from testsupport.settings import service_headers, settings_for_tests

from .support import PASSWORD, REQUESTS, Browser, open_shop, query_string, valid_body

TALLY_SERVICES = "abuse: services prove who they are (point 4, direct to the services)"
TALLY_THROTTLES = "abuse: login and password-check throttles (point 2, through the BFF)"
TALLY_SESSIONS = "abuse: a password change ends the other sessions (point 3, through the BFF)"
TALLY_PASSWORD = "abuse: a password change takes the current password (through the BFF)"
TALLY_SIGN_UPS = "abuse: sign-ups per client address (through the BFF)"
NEW_PASSWORD = "N3wPassw0rd!"
WRONG = "Wr0ngPass!!"
_addresses = itertools.count(1)


def new_address() -> str:
    """A client address no other test of the run uses (TEST-NET-3, then 198.18.0.0/15)."""
    n = next(_addresses)
    return f"203.0.113.{n}" if n < 255 else f"198.18.{n // 250}.{n % 250 + 1}"


@pytest.fixture(scope="module")
def bff_behind_proxy(store_service, item_service, order_service, sale_service, dashboard_service,
                     consulting_service):
    """A BFF that trusts one proxy in front of it: the rightmost X-Forwarded-For entry is the client."""
    urls = local_service_urls(store=store_service, item=item_service, order=order_service, sale=sale_service,
                              dashboard=dashboard_service, consulting=consulting_service)
    served = ServedApp(create_app(settings_for_tests("bff", None, service_urls=urls, trusted_proxies=1)))
    yield served
    served.shutdown()


@pytest.fixture(scope="module")
def two_shops(bff_served, dashboard_app, no_aws):
    return (open_shop(bff_served.url, tally=TALLY_SERVICES, label="신원A", dashboard_app=dashboard_app),
            open_shop(bff_served.url, tally=TALLY_SERVICES, label="신원B", dashboard_app=dashboard_app, scale=100))


# ---- point 4: services prove who they are ----------------------------------------------------------------

def direct(method: str, url: str, *, token: str | None, json=None, headers: dict | None = None):
    """One request straight at a service, as a caller inside the cluster without the service secret."""
    REQUESTS[TALLY_SERVICES] += 1
    sent = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    return requests.request(method, url, json=json, headers=sent, timeout=30)


def service_routes(shop) -> list[tuple[str, str, str, dict | None]]:
    """(service, method, path, body): every internal route, and a public route of each service."""
    period = "start=2026-01-01&end=2026-01-07"
    order_id = 1
    return [
        ("store", "GET", "/internal/stores/me", None),
        ("item", "GET", f"/internal/items?ids={shop.item('콜라')}", None),
        ("item", "GET", f"/internal/items/costs?{period}&ids={shop.item('콜라')}", None),
        ("order", "GET", f"/internal/orders/open/{shop.open_tables[0]}", None),
        ("order", "GET", f"/internal/orders/{order_id}", None),
        ("order", "POST", f"/internal/orders/{order_id}/pay", {"sale_id": 1, "total_price": 1}),
        ("order", "GET", f"/internal/reports/item-days?{period}", None),
        ("store", "GET", "/stores/", None),
        ("store", "POST", "/stores/login", {"username": shop.username, "password": PASSWORD}),
        ("item", "GET", "/categories/items", None),
        ("item", "GET", "/categories/items/costs", None),
        ("item", "GET", "/categories/items/costs/by-category", None),
        ("order", "GET", "/orders/unpaids", None),
        ("sale", "GET", "/sales/", None),
        ("sale", "POST", "/sales/", {"table_no": shop.open_tables[0], "payment_type": "카드", "total_price": 1}),
        ("dashboard", "GET", f"/dashboard/sales?{period}", None),
        ("dashboard", "GET", f"/dashboard/calculate?date={period[6:16]}", None),
        ("consulting", "GET", f"/consulting/test?{period}", None),
    ]


def test_every_service_route_refuses_a_store_token_alone(two_shops, store_service, item_service, order_service,
                                                         sale_service, dashboard_service, consulting_service):
    shop, _ = two_shops
    urls = {"store": store_service.url, "item": item_service.url, "order": order_service.url,
            "sale": sale_service.url, "dashboard": dashboard_service.url, "consulting": consulting_service.url}
    before = shop.browser.call("GET", "/orders/unpaids")
    for service, method, path, body in service_routes(shop):
        response = direct(method, urls[service] + path, token=shop.browser.token, json=body)
        evidence = f"{service} {method} {path} -> {response.status_code} {response.text[:200]}"
        assert response.status_code == 401, evidence
        assert response.json()["error"] == "service_token_required", evidence
    assert shop.browser.call("GET", "/orders/unpaids") == before


def test_a_store_cannot_pre_claim_the_sale_id_of_another_stores_next_payment(two_shops, order_service, sale_service):
    attacker, victim = two_shops
    table = victim.open_tables[1]
    total = victim.browser.call("GET", f"/orders/unpaids/{table}")["total_price"]
    mine = attacker.browser.call("GET", f"/orders/unpaids/{attacker.open_tables[1]}")
    order_id = mine["order_id"]
    next_ids = range(max(attacker.sales + victim.sales) + 1, max(attacker.sales + victim.sales) + 6)
    as_dashboard = service_headers("order", caller="dashboard")  # a service that is not the sale service
    for sale_id in next_ids:
        claim = {"sale_id": sale_id, "total_price": mine["total_price"]}
        alone = direct("POST", f"{order_service.url}/internal/orders/{order_id}/pay", token=attacker.browser.token,
                       json=claim)
        assert alone.status_code == 401 and alone.json()["error"] == "service_token_required", alone.text
        other = direct("POST", f"{order_service.url}/internal/orders/{order_id}/pay", token=attacker.browser.token,
                       json=claim, headers=as_dashboard)
        assert other.status_code == 403 and other.json()["error"] == "caller_not_allowed", other.text

    REQUESTS[TALLY_SERVICES] += 1
    paid = victim.browser.request("POST", "/sales/", {"table_no": table, "payment_type": "카드", "total_price": total})
    assert paid.status_code == 201, paid.text
    assert attacker.browser.call("GET", f"/orders/unpaids/{attacker.open_tables[1]}")["order_id"] == order_id


# ---- point 2: login and password-check throttles ---------------------------------------------------------

def client_at(bff, address: str) -> Browser:
    """A browser whose requests the proxy in front of the BFF saw coming from `address`."""
    browser = Browser(bff.url, tally=TALLY_THROTTLES)
    browser.session.headers["X-Forwarded-For"] = address
    return browser


def log_in(browser: Browser, username: str, password: str):
    return browser.request("POST", "/stores/login", {"username": username, "password": password}, auth=False)


@pytest.fixture
def owner(bff_behind_proxy):
    """A new store signed up through the BFF: (username, its browser's token)."""
    browser = client_at(bff_behind_proxy, new_address())
    username = f"idty{next(_addresses):04d}{threading.get_ident() % 10000:04d}"
    form = {"username": username, "password": PASSWORD, "owner_name": "홍길동", "phone": "01012345678",
            "store_name": "신원가게", "address": "서울시 중구", "store_type": "일반음식점"}
    signed_up = browser.call("POST", "/stores/", form, expect=201, auth=False)
    return username, signed_up["token"]["access_token"]


def test_five_failures_lock_one_username_and_address_but_not_the_owner_elsewhere(bff_behind_proxy, owner):
    username, _ = owner
    attacker = client_at(bff_behind_proxy, new_address())
    for _ in range(5):
        assert log_in(attacker, username, WRONG).status_code == 400

    locked = log_in(attacker, username, PASSWORD)  # even the right password
    assert locked.status_code == 429 and locked.json()["error"] == "login_throttled", locked.text
    assert 850 <= int(locked.headers["Retry-After"]) <= 900

    # The attacker names other addresses on the left of X-Forwarded-For: the proxy's entry still counts.
    attacker.session.headers["X-Forwarded-For"] = f"192.0.2.77, {attacker.session.headers['X-Forwarded-For']}"
    assert log_in(attacker, username, PASSWORD).status_code == 429

    assert log_in(client_at(bff_behind_proxy, new_address()), username, PASSWORD).status_code == 200


def test_twenty_failures_from_one_address_over_any_usernames_refuse_every_login_from_it(bff_behind_proxy, owner):
    username, _ = owner
    sprayer = client_at(bff_behind_proxy, new_address())
    for n in range(20):  # one password over twenty usernames, no username reaching five
        assert log_in(sprayer, f"spray{n:05d}x", "Summer2026!").status_code == 400

    refused = log_in(sprayer, username, PASSWORD)
    assert refused.status_code == 429 and 850 <= int(refused.headers["Retry-After"]) <= 900, refused.text
    assert log_in(client_at(bff_behind_proxy, new_address()), username, PASSWORD).status_code == 200


def test_five_wrong_password_checks_for_one_store_and_address_answer_429(bff_behind_proxy, owner):
    _, token = owner
    guesser, other = client_at(bff_behind_proxy, new_address()), client_at(bff_behind_proxy, new_address())
    guesser.token = other.token = token
    for _ in range(5):
        assert guesser.call("POST", "/stores/pwcheck", {"password": WRONG})["result"] == "failed"

    refused = guesser.request("POST", "/stores/pwcheck", {"password": PASSWORD})
    assert refused.status_code == 429 and refused.json()["error"] == "pwcheck_throttled", refused.text
    assert 850 <= int(refused.headers["Retry-After"]) <= 900
    assert other.call("POST", "/stores/pwcheck", {"password": PASSWORD})["result"] == "success"


def test_ten_guesses_at_once_cannot_all_be_tried(bff_behind_proxy, owner):
    username, _ = owner
    address = new_address()
    start = threading.Barrier(10)

    def guess(_):
        browser = client_at(bff_behind_proxy, address)
        start.wait()
        return log_in(browser, username, WRONG).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(guess, range(10)))

    assert statuses == [400] * 5 + [429] * 5


def test_a_login_that_waits_too_long_for_its_addresss_turn_is_a_503_with_retry_after(bff_behind_proxy, owner,
                                                                                     database_url):
    """A flood from one address queues on its lock: past SALESYNC_AUTH_LOCK_WAIT_MS (2 s) the answer is a 503."""
    username, _ = owner
    address = new_address()
    holder = psycopg2.connect(libpq_url(database_url))  # a stuck request of that address holds its turn
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"login:{address}",))
        busy = log_in(client_at(bff_behind_proxy, address), username, PASSWORD)
    finally:
        holder.close()

    assert busy.status_code == 503 and busy.headers["Retry-After"] == "1", busy.text
    assert busy.json()["result"] == "failed" and busy.json()["error"] == "auth_busy", busy.text
    assert log_in(client_at(bff_behind_proxy, address), username, PASSWORD).status_code == 200


# ---- point 3: a password change ends the other sessions --------------------------------------------------

def test_a_password_change_ends_every_other_older_token_within_five_seconds(bff_served, dashboard_app, no_aws):
    shop = open_shop(bff_served.url, tally=TALLY_SESSIONS, label="세션", dashboard_app=dashboard_app)
    signed_up_token = shop.browser.token
    thief = Browser(bff_served.url, tally=TALLY_SESSIONS)
    thief.token = thief.call("POST", "/stores/login", {"username": shop.username, "password": PASSWORD},
                             auth=False)["access_token"]
    pos = Browser(bff_served.url, tally=TALLY_SESSIONS)
    pos.token = pos.call("POST", "/stores/login", {"username": shop.username, "password": PASSWORD},
                         auth=False)["access_token"]
    assert thief.call("GET", "/stores/")["store"]["store_id"] == shop.store_id
    time.sleep(1.1)  # tokens count whole seconds: the change comes in a later second than the logins

    # The POS's InfoPage checks the current password, then InfoNpwPage sends the new one.
    assert pos.call("POST", "/stores/pwcheck", {"password": PASSWORD})["result"] == "success"
    pos.call("PUT", f"/stores/{shop.store_id}", {"password": NEW_PASSWORD})
    changed = time.monotonic()
    # The store service refuses it at once; the BFF, which guards the other services, within 5 s.
    assert thief.request("GET", "/stores/").status_code == 401
    while thief.request("GET", "/orders/unpaids").status_code != 401:
        assert time.monotonic() - changed < 5, "an older token still worked 5 s after the password change"
        time.sleep(0.2)
    refused_after = time.monotonic() - changed

    values = {"store_id": shop.store_id, "category_id": shop.category("피자"), "item_id": shop.item("콜라"),
              "table_no": shop.open_tables[0], "sale_id": shop.sales[1], "req_id": shop.req_ids[0]}
    for token in (thief.token, signed_up_token):
        thief.token = token
        for route in (route for route in ROUTES if route.auth):
            path = PATH_PARAMETER.sub(lambda match: str(values[match["name"]]), route.path) + query_string(route)
            body = valid_body(route.body, marker=shop.marker) if route.body is not None else None
            response = thief.request(route.method, path, body)
            assert response.status_code == 401, f"{route.method} {path} -> {response.status_code} {response.text}"
            assert response.json()["error"] == "session_ended", response.text

    # The POS keeps the token that changed the password and goes back to its home screen.
    assert pos.call("GET", "/stores/")["store"]["store_id"] == shop.store_id
    assert {order["table_no"] for order in pos.call("GET", "/orders/unpaids")["orders"]} >= set(shop.open_tables)
    assert pos.call("GET", "/categories/items")["categories"]
    assert log_in(pos, shop.username, PASSWORD).status_code == 400
    assert log_in(pos, shop.username, NEW_PASSWORD).status_code == 200
    print(f"older tokens refused {refused_after:.1f} s after the password change")


# ---- a password change takes the current password; sign-ups per address -----------------------------------

def sign_up_form(username: str) -> dict:
    return {"username": username, "password": PASSWORD, "owner_name": "홍길동", "phone": "01012345678",
            "store_name": "신원가게", "address": "서울시 중구", "store_type": "일반음식점"}


def assert_password_check_required(response) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["result"] == "failed" and body["error"] == "password_check_required", response.text
    assert body["message"] == "비밀번호를 바꾸려면 먼저 현재 비밀번호를 확인하세요."


def test_a_stolen_token_cannot_change_the_password_and_the_pos_still_can(bff_served):
    pos = Browser(bff_served.url, tally=TALLY_PASSWORD)
    username = f"pw{uuid.uuid4().hex[:12]}"
    signed_up = pos.call("POST", "/stores/", sign_up_form(username), expect=201, auth=False)
    pos.token, store_id = signed_up["token"]["access_token"], signed_up["store_id"]
    thief = Browser(bff_served.url, tally=TALLY_PASSWORD)
    thief.token = log_in(thief, username, PASSWORD).json()["access_token"]
    change = f"/stores/{store_id}"

    assert_password_check_required(thief.request("PUT", change, {"password": NEW_PASSWORD}))
    assert thief.call("POST", "/stores/pwcheck", {"password": WRONG})["result"] == "failed"
    assert_password_check_required(thief.request("PUT", change, {"password": NEW_PASSWORD}))
    assert pos.call("POST", "/stores/pwcheck", {"password": PASSWORD})["result"] == "success"
    assert_password_check_required(thief.request("PUT", change, {"password": NEW_PASSWORD}))  # not the thief's proof
    assert log_in(thief, username, PASSWORD).status_code == 200  # the owner is not locked out

    # The POS: InfoPage checked the current password above, InfoNpwPage sends the new one.
    assert pos.call("PUT", change, {"password": NEW_PASSWORD})["result"] == "success"
    assert_password_check_required(pos.request("PUT", change, {"password": "Th1rdPassw0rd!"}))  # used up
    assert pos.call("PUT", change, {"time_zone": "Asia/Tokyo"})["result"] == "success"  # needs no check
    assert pos.call("GET", "/stores/")["store"]["time_zone"] == "Asia/Tokyo"
    assert log_in(pos, username, NEW_PASSWORD).status_code == 200
    assert log_in(pos, username, PASSWORD).status_code == 400


@pytest.fixture(scope="module")
def bff_with_default_sign_up_limit(database_url, item_service, order_service, sale_service, dashboard_service,
                                   consulting_service):
    """A store service with the deployed sign-up limit (an empty setting is its default), behind a BFF that
    trusts one proxy in front of it."""
    store = ServiceProcess("store", database_url, env={"SALESYNC_SIGNUP_MAX_PER_ADDRESS": "",
                                                       "SALESYNC_SIGNUP_WINDOW_SECONDS": ""})
    urls = local_service_urls(store=store, item=item_service, order=order_service, sale=sale_service,
                              dashboard=dashboard_service, consulting=consulting_service)
    served = ServedApp(create_app(settings_for_tests("bff", None, service_urls=urls, trusted_proxies=1)))
    yield served
    served.shutdown()
    store.stop()


def test_the_eleventh_sign_up_from_one_address_within_an_hour_is_429_and_another_address_signs_up(
        bff_with_default_sign_up_limit):
    bff = bff_with_default_sign_up_limit
    flooder = Browser(bff.url, tally=TALLY_SIGN_UPS)
    flooder.session.headers["X-Forwarded-For"] = new_address()
    prefix = f"su{uuid.uuid4().hex[:8]}"
    for n in range(10):
        flooder.call("POST", "/stores/", sign_up_form(f"{prefix}{n:03d}"), expect=201, auth=False)

    refused = flooder.request("POST", "/stores/", sign_up_form(f"{prefix}010"), auth=False)

    assert refused.status_code == 429, refused.text
    body = refused.json()
    assert body["result"] == "failed" and body["error"] == "signup_throttled", refused.text
    assert body["message"] == "이 주소에서는 60분 동안 매장을 10개까지 등록할 수 있습니다. 잠시 후 다시 시도하세요."
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3600
    assert flooder.call("GET", f"/stores/check?username={prefix}010", auth=False)["result"] == "success"
    other = Browser(bff.url, tally=TALLY_SIGN_UPS)
    other.session.headers["X-Forwarded-For"] = new_address()
    other.call("POST", "/stores/", sign_up_form(f"{prefix}011"), expect=201, auth=False)
    print(f"sign-ups from one address: 10 answered 201, the 11th 429 (Retry-After {refused.headers['Retry-After']} s);"
          " another address 201")
